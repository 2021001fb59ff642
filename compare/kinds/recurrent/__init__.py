"""The recurrent family of layer kinds (see ``compare.kinds``)."""
