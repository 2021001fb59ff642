"""The flatten family of layer kinds (see ``compare.kinds``)."""
