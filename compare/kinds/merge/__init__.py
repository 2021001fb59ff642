"""The merge family of layer kinds (see ``compare.kinds``)."""
