"""Keras builder and defaults of the ``dense`` kind: ``Dense`` (it acts on the last
axis, which is already the channels in Keras' layout).

Example:
    >>> from compare.formulas import infer
    >>> from compare.spec import Dense, Input, Model
    >>> m = Model("m", Input(4), (Dense(units=2),))
    >>> build_dense(m.layers[0], infer(m)[0], "d", "float32")[0][0].units
    2
"""

from __future__ import annotations

from typing import Any

from compare.adapters._keras_import import keras
from compare.adapters.base import Made
from compare.adapters.keras_defaults import linear_default
from compare.core.registry import register_part
from compare.defaults import signature_default
from compare.formulas import LayerFormula
from compare.kinds.dense.spec import Dense

__all__ = ["build_dense", "dense_defaults"]


@register_part("keras", "build", "dense")
def build_dense(layer: Dense, formula: LayerFormula, name: str, dtype: str) -> Made:
    """``Dense(units, use_bias)``.

    Example:
        >>> from compare.formulas import infer
        >>> from compare.spec import Input, Model
        >>> m = Model("m", Input(4), (Dense(units=2, use_bias=False),))
        >>> build_dense(m.layers[0], infer(m)[0], "d", "float32")[0][0].use_bias
        False
    """
    dense = keras.layers.Dense(layer.units, use_bias=layer.use_bias, name=name, dtype=dtype)
    return [dense], {"kernel": (dense, "kernel", None), "bias": (dense, "bias", None)}, ()


@register_part("keras", "defaults", "dense")
def dense_defaults(layer: Dense, formula: LayerFormula) -> dict[str, Any]:
    """``Dense``'s defaults in the spec's terms.

    Example:
        >>> dense_defaults(Dense(units=2), None)
        {'use_bias': True, 'activation': 'linear'}
    """
    return {
        "use_bias": signature_default(keras.layers.Dense, "use_bias"),
        "activation": linear_default(signature_default(keras.layers.Dense, "activation")),
    }
