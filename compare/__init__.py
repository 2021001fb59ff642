"""compare: one layer spec, built for real in PyTorch and Keras, compared side by side.

Importing this package imports neither torch nor tensorflow; they load on first use.

Example:
    >>> import compare
    >>> result = compare.compare(compare.seed_model())
    >>> result[0].totals()["torch"]["params"], result[0].totals()["keras"]["params"]
    (49378, 49378)
"""

from __future__ import annotations

import importlib

TYPE_CHECKING = False  # not ``typing.TYPE_CHECKING``: importing typing costs start-up time
if TYPE_CHECKING:
    from typing import Any

    from compare.catalog import catalog_files, seed_model
    from compare.comparison import Comparison, compare
    from compare.errors import SpecError, SpecFileError
    from compare.spec import (
        Conv,
        ConvTranspose,
        Dense,
        DepthwiseConv,
        Flatten,
        Input,
        Layer,
        Model,
        SeparableConv,
        layer_from_dict,
        model_from_dict,
    )
    from compare.specfile import load

#: Public name -> the module that defines it. Nothing is imported until a name is
#: first used (PEP 562), so ``import compare`` and ``--help`` stay instant: not even
#: numpy loads, let alone torch or tensorflow.
_LAZY = {
    "catalog_files": "compare.catalog",
    "seed_model": "compare.catalog",
    "Comparison": "compare.comparison",
    "compare": "compare.comparison",
    "SpecError": "compare.errors",
    "SpecFileError": "compare.errors",
    "load": "compare.specfile",
    **{
        name: "compare.spec"
        for name in (
            "Conv",
            "ConvTranspose",
            "Dense",
            "DepthwiseConv",
            "Flatten",
            "Input",
            "Layer",
            "Model",
            "SeparableConv",
            "layer_from_dict",
            "model_from_dict",
        )
    },
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'compare' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "Comparison",
    "Conv",
    "ConvTranspose",
    "Dense",
    "DepthwiseConv",
    "Flatten",
    "Input",
    "Layer",
    "Model",
    "SeparableConv",
    "SpecError",
    "SpecFileError",
    "build",
    "catalog_files",
    "compare",
    "layer_from_dict",
    "load",
    "model_from_dict",
    "seed_model",
]

__version__ = "0.1.0"


def build(model: Model, *, dtype: str = "float32", seed: int = 0):  # type: ignore[no-untyped-def]
    """Build ``model`` for real in both frameworks; see ``compare.parity.build``.

    Example:
        >>> from compare import seed_model
        >>> pair = build(seed_model())
        >>> pair.port(src="torch")
        >>> type(pair.torch).__name__, type(pair.keras).__name__
        ('Sequential', 'Functional')
    """
    from compare.parity import build as _build

    return _build(model, dtype=dtype, seed=seed)
