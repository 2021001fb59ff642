"""The dense family of layer kinds (see ``compare.kinds``)."""
