"""Keras builder of the ``flatten`` kind: ``Flatten`` (channels-last order).

Example:
    >>> from compare.spec import Flatten
    >>> type(build_flatten(Flatten(), None, "f", "float32")[0][0]).__name__
    'Flatten'
"""

from __future__ import annotations

from compare.adapters._keras_import import keras
from compare.adapters.base import Made
from compare.core.registry import register_part
from compare.formulas import LayerFormula
from compare.kinds.flatten.spec import Flatten

__all__ = ["build_flatten"]


@register_part("keras", "build", "flatten")
def build_flatten(layer: Flatten, formula: LayerFormula, name: str, dtype: str) -> Made:
    """``Flatten()``: every axis but the batch, in channels-last order.

    Example:
        >>> build_flatten(Flatten(), None, "f", "float32")[0][0].name
        'f'
    """
    return [keras.layers.Flatten(name=name, dtype=dtype)], {}, ()
