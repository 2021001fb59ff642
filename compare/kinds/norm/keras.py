"""Keras builders and defaults of the norm family: ``batch_norm``, ``layer_norm`` and
``group_norm``.

The spec's conventions are translated here: ``momentum`` becomes ``1 - momentum``; a
layer norm over all axes normalises ``axis=[1, ..., rank + 1]``.

Example:
    >>> from compare.formulas import infer
    >>> from compare.spec import Input, Model
    >>> from compare.kinds.norm.spec import BatchNorm
    >>> m = Model("m", Input(3, (4, 4)), (BatchNorm(momentum=0.1),))
    >>> round(build_batch_norm(m.layers[0], infer(m)[0], "b", "float32")[0][0].momentum, 6)
    0.9
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from compare.adapters._keras_import import keras
from compare.adapters.base import Made
from compare.core.registry import register_part
from compare.defaults import signature_default
from compare.formulas import LayerFormula
from compare.kinds.norm.spec import BatchNorm, GroupNorm, LayerNorm

__all__ = ["build_batch_norm", "build_group_norm", "build_layer_norm"]

L = keras.layers
_sig = signature_default


@register_part("keras", "build", "batch_norm")
def build_batch_norm(layer: BatchNorm, formula: LayerFormula, name: str, dtype: str) -> Made:
    """``BatchNormalization`` on the last axis, momentum in Keras' convention.

    Example:
        >>> from compare.formulas import infer
        >>> from compare.spec import Input, Model
        >>> m = Model("m", Input(3), (BatchNorm(),))
        >>> sorted(build_batch_norm(m.layers[0], infer(m)[0], "b", "float32")[1])
        ['beta', 'gamma', 'moving_mean', 'moving_variance']
    """
    bn = L.BatchNormalization(
        axis=-1,
        momentum=1.0 - layer.momentum,
        epsilon=layer.epsilon,
        center=layer.center,
        scale=layer.scale,
        name=name,
        dtype=dtype,
    )
    roles = {
        "gamma": (bn, "gamma", None),
        "beta": (bn, "beta", None),
        "moving_mean": (bn, "moving_mean", None),
        "moving_variance": (bn, "moving_variance", None),
    }
    return [bn], roles, ()


@register_part("keras", "build", "layer_norm")
def build_layer_norm(layer: LayerNorm, formula: LayerFormula, name: str, dtype: str) -> Made:
    """``LayerNormalization`` over the channels, or over every axis but the batch.

    Example:
        >>> from compare.formulas import infer
        >>> from compare.spec import Input, Model
        >>> m = Model("m", Input(3, (5,)), (LayerNorm(axes="all"),))
        >>> build_layer_norm(m.layers[0], infer(m)[0], "n", "float32")[0][0].axis
        [1, 2]
    """
    rank = formula.input.rank
    axis: Any = list(range(1, rank + 2)) if layer.axes == "all" and rank else -1
    ln = L.LayerNormalization(
        axis=axis,
        epsilon=layer.epsilon,
        center=layer.center,
        scale=layer.scale,
        name=name,
        dtype=dtype,
    )
    return [ln], {"gamma": (ln, "gamma", None), "beta": (ln, "beta", None)}, ()


@register_part("keras", "build", "group_norm")
def build_group_norm(layer: GroupNorm, formula: LayerFormula, name: str, dtype: str) -> Made:
    """``GroupNormalization`` on the last axis.

    Example:
        >>> from compare.formulas import infer
        >>> from compare.spec import Input, Model
        >>> m = Model("m", Input(4, (5,)), (GroupNorm(groups=2),))
        >>> build_group_norm(m.layers[0], infer(m)[0], "g", "float32")[0][0].groups
        2
    """
    gn = L.GroupNormalization(
        groups=layer.groups,
        axis=-1,
        epsilon=layer.epsilon,
        center=layer.center,
        scale=layer.scale,
        name=name,
        dtype=dtype,
    )
    return [gn], {"gamma": (gn, "gamma", None), "beta": (gn, "beta", None)}, ()


def _norm_defaults(cls: Any) -> dict[str, Any]:
    return {
        "epsilon": _sig(cls, "epsilon"),
        "center": _sig(cls, "center"),
        "scale": _sig(cls, "scale"),
    }


def _momentum(cls: Any) -> Any:
    value = _sig(cls, "momentum")
    return round(1.0 - value, 12) if isinstance(value, float) else value


#: kind -> the framework's own defaults, in the spec's convention, read from signatures
_DEFAULTS: dict[str, Callable[[Any, LayerFormula], dict[str, Any]]] = {
    "batch_norm": lambda layer, f: {
        "momentum": _momentum(L.BatchNormalization),
        **_norm_defaults(L.BatchNormalization),
    },
    "layer_norm": lambda layer, f: {
        "axes": "channels" if _sig(L.LayerNormalization, "axis") == -1 else "other",
        **_norm_defaults(L.LayerNormalization),
    },
    "group_norm": lambda layer, f: {
        "groups": _sig(L.GroupNormalization, "groups"),
        **_norm_defaults(L.GroupNormalization),
    },
}
for _kind, _read in _DEFAULTS.items():
    register_part("keras", "defaults", _kind)(_read)
