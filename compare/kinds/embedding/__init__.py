"""The embedding family of layer kinds (see ``compare.kinds``)."""
