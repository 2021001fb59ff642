"""Keras builders and defaults of the preprocessing family: ``Rescaling(scale, offset)``
and ``Normalization(axis=-1)`` left to create its ``mean``, ``variance`` and ``count``
weights (what ``adapt`` fills; the port writes them).

Example:
    >>> from compare.kinds.preprocess.spec import Rescaling
    >>> build_rescaling(Rescaling(scale=0.5), None, "r", "float32")[0][0].scale
    0.5
"""

from __future__ import annotations

from typing import Any

from compare.adapters._keras_import import keras
from compare.adapters.base import Made
from compare.core.registry import register_part
from compare.defaults import signature_default
from compare.formulas import LayerFormula
from compare.kinds.preprocess.spec import Normalization, Rescaling

__all__ = [
    "build_normalization",
    "build_rescaling",
    "normalization_defaults",
    "rescaling_defaults",
]

L = keras.layers


@register_part("keras", "build", "rescaling")
def build_rescaling(layer: Rescaling, formula: LayerFormula, name: str, dtype: str) -> Made:
    """``Rescaling(scale, offset)``.

    Example:
        >>> build_rescaling(Rescaling(offset=-1.0), None, "r", "float32")[0][0].offset
        -1.0
    """
    return [L.Rescaling(layer.scale, layer.offset, name=name, dtype=dtype)], {}, ()


@register_part("keras", "build", "normalization")
def build_normalization(layer: Normalization, formula: LayerFormula, name: str, dtype: str) -> Made:
    """``Normalization(axis=-1, invert=...)``; ``adapt_mean`` / ``adapt_variance`` are the
    roles (Keras names the weights ``mean`` and ``variance``).

    Example:
        >>> from compare.formulas import infer
        >>> from compare.spec import Input, Model
        >>> m = Model("m", Input(3, (4,)), (Normalization(),))
        >>> made = build_normalization(m.layers[0], infer(m)[0], "n", "float32")
        >>> sorted(made[1])
        ['mean', 'variance']
    """
    norm = L.Normalization(axis=-1, invert=layer.invert, name=name, dtype=dtype)
    roles = {"mean": (norm, "adapt_mean", None), "variance": (norm, "adapt_variance", None)}
    return [norm], roles, ()


@register_part("keras", "defaults", "rescaling")
def rescaling_defaults(layer: Rescaling, formula: LayerFormula) -> dict[str, Any]:
    """``Rescaling``'s defaults: the scale is required, the offset 0.

    Example:
        >>> rescaling_defaults(Rescaling(), None)
        {'scale': 'required', 'offset': 0.0}
    """
    return {
        "scale": signature_default(L.Rescaling, "scale"),
        "offset": signature_default(L.Rescaling, "offset"),
    }


@register_part("keras", "defaults", "normalization")
def normalization_defaults(layer: Normalization, formula: LayerFormula) -> dict[str, Any]:
    """``Normalization``'s ``invert`` default.

    Example:
        >>> normalization_defaults(Normalization(), None)
        {'invert': False}
    """
    return {"invert": signature_default(L.Normalization, "invert")}
