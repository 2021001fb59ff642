"""Framework adapters, registered by name and imported only when first asked for.

Example:
    >>> sorted(ADAPTERS)
    ['keras', 'torch']
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from compare.errors import UnknownAdapterError

if TYPE_CHECKING:
    from compare.adapters.base import Adapter

__all__ = ["ADAPTERS", "get_adapter"]

#: name -> "module:class"; the module is imported on first use (lazy, like einops).
ADAPTERS: dict[str, str] = {
    "torch": "compare.adapters.torch:TorchAdapter",
    "keras": "compare.adapters.keras:KerasAdapter",
}

_CACHE: dict[str, Adapter] = {}


def get_adapter(name: str) -> Adapter:
    """The adapter registered as ``name`` (built once, then shared).

    Example:
        >>> get_adapter("jax")
        Traceback (most recent call last):
        ...
        compare.errors.UnknownAdapterError: "unknown adapter 'jax'; known: keras, torch"
    """
    if name not in ADAPTERS:
        raise UnknownAdapterError(f"unknown adapter {name!r}; known: {', '.join(sorted(ADAPTERS))}")
    if name not in _CACHE:
        module_name, cls_name = ADAPTERS[name].split(":")
        cls = getattr(importlib.import_module(module_name), cls_name)
        _CACHE[name] = cls()
    return _CACHE[name]
