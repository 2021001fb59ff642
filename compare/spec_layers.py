"""Transitional: the spec classes of the normalisation, pooling, dropout and activation
kinds now live in their family packages (``compare/kinds/``); their names are found
here through the registry, as in ``compare.spec``.

Example:
    >>> from compare.spec_layers import BatchNorm
    >>> BatchNorm.__module__
    'compare.kinds.norm.spec'
"""

from __future__ import annotations

from typing import Any

from compare.core import registry
from compare.core.validate import ACTIVATIONS, check_activation

__all__ = ["ACTIVATIONS", "check_activation"]


def __getattr__(name: str) -> Any:
    for kind_cls in registry.kinds().values():
        for cls in kind_cls.__mro__:  # the kind, or a base it shares with others (_Pool)
            if cls.__name__ == name:
                return cls
    raise AttributeError(f"module 'compare.spec_layers' has no attribute {name!r}")
