"""The pool family of layer kinds (see ``compare.kinds``)."""
