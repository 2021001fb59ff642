"""The prelu family of layer kinds (see ``compare.kinds``)."""
