"""Keras builders and defaults of the dropout family: ``Dropout``,
``SpatialDropout1D/2D/3D`` and, for stochastic depth (Keras has no layer of that name),
``Dropout`` with ``noise_shape`` (None, 1, ..., 1): one draw per sample, broadcast over
the rest, which is what torchvision's ``mode="row"`` draws (``"batch"``: all ones).

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
from compare.kinds.dropout.spec import Dropout, SpatialDropout, StochasticDepth

__all__ = [
    "build_dropout",
    "build_spatial_dropout",
    "build_stochastic_depth",
    "dropout_defaults",
    "spatial_dropout_defaults",
    "stochastic_depth_defaults",
]

L = keras.layers
_SPATIAL = {1: L.SpatialDropout1D, 2: L.SpatialDropout2D, 3: L.SpatialDropout3D}


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


@register_part("keras", "build", "spatial_dropout")
def build_spatial_dropout(
    layer: SpatialDropout, formula: LayerFormula, name: str, dtype: str
) -> Made:
    """``SpatialDropout1D`` / ``2D`` / ``3D`` by the input's rank.

    Example:
        >>> from compare.formulas import infer
        >>> from compare.spec import Input, Model
        >>> m = Model("m", Input(3, (4, 4)), (SpatialDropout(rate=0.2),))
        >>> type(build_spatial_dropout(m.layers[0], infer(m)[0], "s", "float32")[0][0]).__name__
        'SpatialDropout2D'
    """
    cls = _SPATIAL[formula.input.rank]
    return [cls(layer.rate, name=name, dtype=dtype)], {}, ()


@register_part("keras", "defaults", "spatial_dropout")
def spatial_dropout_defaults(layer: SpatialDropout, formula: LayerFormula) -> dict[str, Any]:
    """``SpatialDropoutND``'s default rate (none: the user must give it).

    Example:
        >>> from compare.formulas import infer
        >>> from compare.spec import Input, Model
        >>> m = Model("m", Input(3, (4,)), (SpatialDropout(rate=0.2),))
        >>> spatial_dropout_defaults(m.layers[0], infer(m)[0])
        {'rate': 'required'}
    """
    return {"rate": signature_default(_SPATIAL[formula.input.rank], "rate")}


def noise_shape(mode: str, rank: int) -> tuple[int | None, ...]:
    """The ``noise_shape`` of a stochastic depth over an input of ``rank`` spatial axes.

    Example:
        >>> noise_shape("row", 2), noise_shape("batch", 0)
        ((None, 1, 1, 1), (1, 1))
    """
    return (None if mode == "row" else 1, *([1] * (rank + 1)))


@register_part("keras", "build", "stochastic_depth")
def build_stochastic_depth(
    layer: StochasticDepth, formula: LayerFormula, name: str, dtype: str
) -> Made:
    """``Dropout(rate, noise_shape=(None, 1, ..., 1))`` (``"batch"``: all ones).

    Example:
        >>> from compare.formulas import infer
        >>> from compare.spec import Input, Model
        >>> m = Model("m", Input(3, (4,)), (StochasticDepth(rate=0.2),))
        >>> build_stochastic_depth(m.layers[0], infer(m)[0], "s", "float32")[0][0].noise_shape
        (None, 1, 1)
    """
    shape = noise_shape(layer.mode, formula.input.rank)
    note = (
        f"Keras has no stochastic depth layer: Dropout(noise_shape={shape}) draws one "
        f"keep-or-drop per {'sample' if layer.mode == 'row' else 'batch'} and scales by "
        "1/(1-rate), as torchvision's does"
    )
    built = L.Dropout(layer.rate, noise_shape=shape, name=name, dtype=dtype)
    return [built], {}, (("stochastic_depth", note),)


@register_part("keras", "defaults", "stochastic_depth")
def stochastic_depth_defaults(layer: StochasticDepth, formula: LayerFormula) -> dict[str, Any]:
    """``Dropout``'s default rate (none); the mode is its ``noise_shape``'s (None: each
    element, which is plain dropout, not stochastic depth).

    Example:
        >>> stochastic_depth_defaults(StochasticDepth(rate=0.2), None)
        {'rate': 'required', 'mode': 'noise_shape=None (per element)'}
    """
    shape = signature_default(L.Dropout, "noise_shape")
    return {
        "rate": signature_default(L.Dropout, "rate"),
        "mode": f"noise_shape={shape} (per element)",
    }
