"""The conv family of layer kinds (see ``compare.kinds``)."""
