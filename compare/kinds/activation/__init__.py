"""The activation family of layer kinds (see ``compare.kinds``)."""
