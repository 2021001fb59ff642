"""The attention family of layer kinds (see ``compare.kinds``)."""
