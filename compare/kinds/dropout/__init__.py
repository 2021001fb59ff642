"""The dropout family of layer kinds (see ``compare.kinds``)."""
