"""compare: one layer spec, built for real in PyTorch and Keras, compared side by side.

Importing this package imports neither torch nor tensorflow (not even numpy): every
public name loads its module on first use (PEP 562), so ``import compare`` and
``python -m compare --help`` stay instant.

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
    from compare.diff import diff
    from compare.errors import SpecError, SpecFileError
    from compare.importers import Imported, UnmappableError, Unmapped, from_keras, from_torch
    from compare.kinds.activation.spec import Activation
    from compare.kinds.conv.spec import Conv, ConvTranspose, DepthwiseConv, SeparableConv
    from compare.kinds.dense.spec import Dense
    from compare.kinds.dropout.spec import Dropout
    from compare.kinds.embedding.spec import Embedding
    from compare.kinds.flatten.spec import Flatten
    from compare.kinds.norm.spec import BatchNorm, GroupNorm, LayerNorm
    from compare.kinds.pool.spec import AvgPool, GlobalAvgPool, GlobalMaxPool, MaxPool
    from compare.kinds.recurrent.spec import GRU, LSTM, SimpleRNN
    from compare.parity import Pair
    from compare.spec import Input, Layer, Model, layer_from_dict, model_from_dict
    from compare.specfile import load

#: Public name -> the module that defines it; nothing is imported until first use.
_LAZY: dict[str, str] = {
    "catalog_files": "compare.catalog",
    "seed_model": "compare.catalog",
    "Comparison": "compare.comparison",
    "compare": "compare.comparison",
    "diff": "compare.diff",
    "SpecError": "compare.errors",
    "SpecFileError": "compare.errors",
    "load": "compare.specfile",
    **dict.fromkeys(
        ("Imported", "UnmappableError", "Unmapped", "from_keras", "from_torch"),
        "compare.importers",
    ),
    **dict.fromkeys(
        ("Input", "Layer", "Model", "layer_from_dict", "model_from_dict"), "compare.spec"
    ),
    # The public API is the one place outside a kind's folder that names kinds.
    "Activation": "compare.kinds.activation.spec",
    **dict.fromkeys(
        ("Conv", "ConvTranspose", "DepthwiseConv", "SeparableConv"), "compare.kinds.conv.spec"
    ),
    "Dense": "compare.kinds.dense.spec",
    "Dropout": "compare.kinds.dropout.spec",
    "Embedding": "compare.kinds.embedding.spec",
    "Flatten": "compare.kinds.flatten.spec",
    **dict.fromkeys(("BatchNorm", "GroupNorm", "LayerNorm"), "compare.kinds.norm.spec"),
    **dict.fromkeys(
        ("AvgPool", "GlobalAvgPool", "GlobalMaxPool", "MaxPool"), "compare.kinds.pool.spec"
    ),
    **dict.fromkeys(("GRU", "LSTM", "SimpleRNN"), "compare.kinds.recurrent.spec"),
}

#: Every lazy name plus ``build`` (a test keeps the two lists in step).
__all__ = [
    "GRU",
    "LSTM",
    "Activation",
    "AvgPool",
    "BatchNorm",
    "Comparison",
    "Conv",
    "ConvTranspose",
    "Dense",
    "DepthwiseConv",
    "Dropout",
    "Embedding",
    "Flatten",
    "GlobalAvgPool",
    "GlobalMaxPool",
    "GroupNorm",
    "Imported",
    "Input",
    "Layer",
    "LayerNorm",
    "MaxPool",
    "Model",
    "SeparableConv",
    "SimpleRNN",
    "SpecError",
    "SpecFileError",
    "UnmappableError",
    "Unmapped",
    "build",
    "catalog_files",
    "compare",
    "diff",
    "from_keras",
    "from_torch",
    "layer_from_dict",
    "load",
    "model_from_dict",
    "seed_model",
]

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'compare' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


def build(
    model: Model | Imported, *, dtype: str = "float32", seed: int = 0, shape_only: bool = False
) -> Pair:
    """Build ``model`` for real in both frameworks; see ``compare.parity.build``.

    An ``Imported`` model (``from_torch`` / ``from_keras``) is built with its own
    weights, ported to the other framework.

    Example:
        >>> from compare import seed_model
        >>> pair = build(seed_model())
        >>> pair.port(src="torch")
        >>> type(pair.torch).__name__, type(pair.keras).__name__
        ('Sequential', 'Functional')
    """
    from compare.parity import build as _build

    return _build(model, dtype=dtype, seed=seed, shape_only=shape_only)
