"""The channel shuffle family of layer kinds (see ``compare.kinds``)."""
