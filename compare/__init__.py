"""compare: one layer spec, built for real in PyTorch and Keras, compared side by side.

Importing this package imports neither torch nor tensorflow; they load on first use.

Example:
    >>> import compare
    >>> result = compare.compare(compare.seed_model())
    >>> result[0].totals()["torch"]["params"], result[0].totals()["keras"]["params"]
    (49378, 49378)
"""

from __future__ import annotations

from compare.catalog import catalog_files, seed_model
from compare.comparison import Comparison, compare
from compare.errors import SpecError, SpecFileError
from compare.importers import Imported, UnmappableError, Unmapped, from_keras, from_torch
from compare.spec import (
    GRU,
    LSTM,
    Conv,
    ConvTranspose,
    Dense,
    DepthwiseConv,
    Embedding,
    Flatten,
    Input,
    Layer,
    Model,
    SeparableConv,
    SimpleRNN,
    layer_from_dict,
    model_from_dict,
)
from compare.spec_layers import (
    Activation,
    AvgPool,
    BatchNorm,
    Dropout,
    GlobalAvgPool,
    GlobalMaxPool,
    GroupNorm,
    LayerNorm,
    MaxPool,
)
from compare.specfile import load

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
    "from_keras",
    "from_torch",
    "layer_from_dict",
    "load",
    "model_from_dict",
    "seed_model",
]

__version__ = "0.1.0"


def build(model: Model | Imported, *, dtype: str = "float32", seed: int = 0):  # type: ignore[no-untyped-def]
    """Build ``model`` for real in both frameworks; see ``compare.parity.build``.

    An ``Imported`` model (``from_torch`` / ``from_keras``) is built with its own
    weights, ported to the other framework.

    Example:
        >>> pair = build(seed_model())
        >>> pair.port(src="torch")
        >>> type(pair.torch).__name__, type(pair.keras).__name__
        ('Sequential', 'Functional')
    """
    from compare.parity import build as _build

    return _build(model, dtype=dtype, seed=seed)
