"""The preprocess family of layer kinds (see ``compare.kinds``)."""
