"""Keras builder and defaults of the ``dropout`` kind: ``Dropout``.

Example:
    >>> from compare.kinds.dropout.spec import Dropout
    >>> build_dropout(Dropout(rate=0.25), None, "d", "float32")[0][0].rate
    0.25
"""

from __future__ import annotations

from typing import Any

from compare.adapters._keras_import import keras
from compare.adapters.base import Made
from compare.core.registry import register_part
from compare.defaults import signature_default
from compare.formulas import LayerFormula
from compare.kinds.dropout.spec import Dropout

__all__ = ["build_dropout", "dropout_defaults"]


@register_part("keras", "build", "dropout")
def build_dropout(layer: Dropout, formula: LayerFormula, name: str, dtype: str) -> Made:
    """``Dropout(rate)``.

    Example:
        >>> build_dropout(Dropout(rate=0.5), None, "d", "float32")[0][0].name
        'd'
    """
    return [keras.layers.Dropout(layer.rate, name=name, dtype=dtype)], {}, ()


@register_part("keras", "defaults", "dropout")
def dropout_defaults(layer: Dropout, formula: LayerFormula) -> dict[str, Any]:
    """``Dropout``'s default rate (Keras has none: the user must give it).

    Example:
        >>> dropout_defaults(Dropout(rate=0.25), None)
        {'rate': 'required'}
    """
    return {"rate": signature_default(keras.layers.Dropout, "rate")}
