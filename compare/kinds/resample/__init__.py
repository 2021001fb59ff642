"""The resample family of layer kinds (see ``compare.kinds``)."""
