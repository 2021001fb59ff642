"""The norm family of layer kinds (see ``compare.kinds``)."""
