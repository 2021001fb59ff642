"""Keras side of the merge family: ``keras.layers.Add``, ``Subtract``, ``Multiply``,
``Average``, ``Maximum``, ``Minimum`` and ``Concatenate(axis=-1)`` (the channels).

Example:
    >>> from compare.kinds.merge.spec import Concatenate
    >>> build_merge(Concatenate(), None, "c", "float32")[0][0].axis
    -1
"""

from __future__ import annotations

from typing import Any

from compare.adapters._keras_import import keras
from compare.adapters.base import Made
from compare.core.registry import register_part
from compare.formulas import LayerFormula
from compare.spec import Layer

__all__ = ["LAYERS", "build_merge"]

L = keras.layers
#: kind -> the Keras merge layer class
LAYERS: dict[str, Any] = {
    "add": L.Add,
    "subtract": L.Subtract,
    "multiply": L.Multiply,
    "average": L.Average,
    "maximum": L.Maximum,
    "minimum": L.Minimum,
    "concatenate": L.Concatenate,
}


@register_part("keras", "build", *LAYERS)
def build_merge(layer: Layer, formula: LayerFormula, name: str, dtype: str) -> Made:
    """The Keras merge layer of the kind (``Concatenate`` on the last axis, channels).

    Example:
        >>> from compare.kinds.merge.spec import Add
        >>> type(build_merge(Add(), None, "a", "float32")[0][0]).__name__
        'Add'
    """
    extra = {"axis": -1} if layer.kind == "concatenate" else {}
    return [LAYERS[layer.kind](name=name, dtype=dtype, **extra)], {}, ()
