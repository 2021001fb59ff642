"""One package per family of layer kinds; each registers itself with ``compare.core.registry``.

A family package holds everything about its kinds and nothing about another's:

* ``spec.py`` -- framework-free: the spec dataclasses (``@register_kind``), their
  validation, formula (output shapes, parameter counts), weight layouts and port;
* ``torch.py`` / ``keras.py`` -- the builders, fact and defaults readers of that
  framework (``@register_part(framework, ...)``), imported on first use;
* ``from_torch.py`` / ``from_keras.py`` -- what the importers map to the family's specs;
* ``folds.py`` -- framework-free: the padding, crops and neighbours the importers fold
  into the family's kinds (``compare.importers.base.Absorb`` / ``Fold``);
* ``differences.py`` -- the named differences and naive-port checks of the family.

The registry finds the families by listing this package's sub-packages, so a new kind
is a new folder here (or a module anywhere that calls the same decorators).
"""
