"""Keras builders and defaults of the pool family: ``max_pool``, ``avg_pool``,
``global_avg_pool`` and ``global_max_pool``.

Where Keras cannot express a spec (integer padding of a max pool other than 'same',
an average that excludes explicit padding, PyTorch's ``ceil_mode``), the builder
raises ``Unsupported`` with the reason.

Example:
    >>> from compare.formulas import infer
    >>> from compare.spec import Input, Model
    >>> from compare.kinds.pool.spec import MaxPool
    >>> m = Model("m", Input(1, (4, 4)), (MaxPool(pool_size=2),))
    >>> build_max_pool(m.layers[0], infer(m)[0], "p", "float32")[0][0].pool_size
    (2, 2)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from compare.adapters._keras_import import keras
from compare.adapters.base import Made, Notes, Unsupported
from compare.adapters.keras_defaults import as_int
from compare.adapters.keras_modules import ZERO_PAD, pad_arg
from compare.core.registry import register_part
from compare.defaults import signature_default
from compare.formulas import LayerFormula, same_pads
from compare.kinds.pool.spec import AvgPool, GlobalAvgPool, GlobalMaxPool, MaxPool, _Pool

__all__ = ["build_avg_pool", "build_global_pool", "build_max_pool"]

L = keras.layers
_MAX_POOL = {1: L.MaxPooling1D, 2: L.MaxPooling2D, 3: L.MaxPooling3D}
_AVG_POOL = {1: L.AveragePooling1D, 2: L.AveragePooling2D, 3: L.AveragePooling3D}
_GLOBAL = {
    "global_avg_pool": {
        1: L.GlobalAveragePooling1D,
        2: L.GlobalAveragePooling2D,
        3: L.GlobalAveragePooling3D,
    },
    "global_max_pool": {1: L.GlobalMaxPooling1D, 2: L.GlobalMaxPooling2D, 3: L.GlobalMaxPooling3D},
}

_sig = signature_default


def _pool_padding(layer: _Pool, formula: LayerFormula) -> str | None:
    """'valid' or 'same' when Keras' own padding is exactly the spec's, else None."""
    assert formula.pads is not None
    if layer.ceil_mode:
        raise Unsupported(
            "Keras pooling has no ceil_mode (PyTorch's extra window over the end of the input)"
        )
    if all(a == 0 and b == 0 for a, b in formula.pads):
        return "valid"
    tf_same = tuple(
        same_pads(n, k, s, 1)
        for n, k, s in zip(
            formula.input.size, layer.per_axis("pool_size"), layer.per_axis("strides")
        )
    )
    return "same" if tf_same == formula.pads else None


@register_part("keras", "build", "max_pool")
def build_max_pool(layer: MaxPool, formula: LayerFormula, name: str, dtype: str) -> Made:
    """``MaxPoolingND`` with 'valid' or 'same', the only paddings it has.

    Example:
        >>> from compare.formulas import infer
        >>> from compare.spec import Input, Model
        >>> m = Model("m", Input(1, (4,)), (MaxPool(pool_size=2, padding=1),))
        >>> build_max_pool(m.layers[0], infer(m)[0], "p", "float32")
        Traceback (most recent call last):
        ...
        compare.adapters.base.Unsupported: Keras pads max pooling only through padding='same' ...
    """
    rank = formula.input.rank
    padding = _pool_padding(layer, formula)
    if padding is None:
        raise Unsupported(
            f"Keras pads max pooling only through padding='same' (here {formula.pads} is "
            "not what 'same' pads); ZeroPadding would pad with 0 instead of -inf"
        )
    pool = _MAX_POOL[rank](layer.pool_size, layer.strides, padding=padding, name=name, dtype=dtype)
    notes: Notes = ()
    if padding == "same" and layer.padding != "same":
        notes = (("padding", f"padding={formula.pads} is exactly what padding='same' does here"),)
    return [pool], {}, notes


@register_part("keras", "build", "avg_pool")
def build_avg_pool(layer: AvgPool, formula: LayerFormula, name: str, dtype: str) -> Made:
    """``AveragePoolingND``, after a ``ZeroPaddingND`` when padded zeros count.

    Example:
        >>> from compare.formulas import infer
        >>> from compare.spec import Input, Model
        >>> pool = AvgPool(pool_size=2, padding=1, count_include_pad=True)
        >>> m = Model("m", Input(1, (4,)), (pool,))
        >>> made = build_avg_pool(m.layers[0], infer(m)[0], "a", "float32")
        >>> [type(p).__name__ for p in made[0]]
        ['ZeroPadding1D', 'AveragePooling1D']
    """
    assert formula.pads is not None
    rank = formula.input.rank
    padding = _pool_padding(layer, formula)
    if padding == "valid" or (padding == "same" and not layer.count_include_pad):
        pool = _AVG_POOL[rank](
            layer.pool_size, layer.strides, padding=padding, name=name, dtype=dtype
        )
        return [pool], {}, ()
    if not layer.count_include_pad:
        raise Unsupported(
            f"Keras averages exclude padding only for padding='same', and {formula.pads} is "
            "not what 'same' pads here; ZeroPadding would count the padded zeros"
        )
    pads = pad_arg(formula.pads)
    pad = ZERO_PAD[rank](pads, name=f"{name}_pad", dtype=dtype)
    pool = _AVG_POOL[rank](layer.pool_size, layer.strides, padding="valid", name=name, dtype=dtype)
    note = (
        f"padded zeros count in the average: ZeroPadding{rank}D{pads} then padding='valid' "
        "(Keras' own 'same' would exclude them)"
    )
    return [pad, pool], {}, (("padding", note),)


@register_part("keras", "build", "global_avg_pool", "global_max_pool")
def build_global_pool(
    layer: GlobalAvgPool | GlobalMaxPool, formula: LayerFormula, name: str, dtype: str
) -> Made:
    """``GlobalAveragePoolingND`` / ``GlobalMaxPoolingND`` with the spec's keepdims.

    Example:
        >>> from compare.formulas import infer
        >>> from compare.spec import Input, Model
        >>> m = Model("m", Input(2, (4, 4)), (GlobalAvgPool(keepdims=True),))
        >>> build_global_pool(m.layers[0], infer(m)[0], "g", "float32")[0][0].keepdims
        True
    """
    cls = _GLOBAL[layer.kind][formula.input.rank]
    return [cls(keepdims=layer.keepdims, name=name, dtype=dtype)], {}, ()


def _pool_defaults(cls: Any) -> dict[str, Any]:
    strides = _sig(cls, "strides")
    return {
        "pool_size": as_int(_sig(cls, "pool_size")),
        "strides": "pool_size" if strides is None else strides,
        "padding": _sig(cls, "padding"),
    }


#: kind -> the framework's own defaults, in the spec's convention, read from signatures
_DEFAULTS: dict[str, Callable[[Any, LayerFormula], dict[str, Any]]] = {
    "max_pool": lambda layer, f: _pool_defaults(_MAX_POOL[f.input.rank]),
    "avg_pool": lambda layer, f: _pool_defaults(_AVG_POOL[f.input.rank]),
    "global_avg_pool": lambda layer, f: {
        "keepdims": _sig(_GLOBAL["global_avg_pool"][f.input.rank], "keepdims")
    },
    "global_max_pool": lambda layer, f: {
        "keepdims": _sig(_GLOBAL["global_max_pool"][f.input.rank], "keepdims")
    },
}
for _kind, _read in _DEFAULTS.items():
    register_part("keras", "defaults", _kind)(_read)
