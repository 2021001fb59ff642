"""Keras builders and defaults of the pool family: ``max_pool``, ``avg_pool``,
``global_avg_pool`` and ``global_max_pool``.

Keras pads max pooling only as 'same'; PyTorch's -inf padding (``MaxPool2d(3, 2,
padding=1)``, the ResNet stem) and its ``ceil_mode`` (the last window hanging over the
end: GoogLeNet, SqueezeNet) are realised exactly by ``NegInfPadding`` (``keras.ops.pad``
with -inf) before a 'valid' ``MaxPoolingND``: a padded -inf never wins a window that
holds a real element, and PyTorch's windows always do. An average whose divisor Keras
cannot say (``ceil_mode``'s last window, divided by the positions inside the input and
its padding; explicit padding left out of the divisor) is ``MaskedAveragePooling``:
``keras.ops.average_pool`` of the zero-padded input divided by the same pool of a mask
of the positions PyTorch counts.

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
from compare.adapters.base import Made, Notes
from compare.adapters.keras_defaults import as_int
from compare.adapters.keras_modules import ZERO_PAD, pad_arg
from compare.core.registry import register_part
from compare.defaults import signature_default
from compare.formulas import LayerFormula, same_pads
from compare.kinds.pool.spec import AvgPool, GlobalAvgPool, GlobalMaxPool, MaxPool, _Pool

__all__ = [
    "MaskedAveragePooling",
    "NegInfPadding",
    "build_avg_pool",
    "build_global_pool",
    "build_max_pool",
    "ceil_pads",
]

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


@keras.saving.register_keras_serializable(package="compare")
class NegInfPadding(keras.layers.Layer):
    """Pad the spatial axes of a channels-last tensor with -inf, ``pads`` holding one
    (before, after) pair per spatial axis (what PyTorch's max pooling pads with).

    Example:
        >>> import numpy as np
        >>> y = NegInfPadding(((1, 2),))(np.ones((1, 2, 1), "float32"))
        >>> np.asarray(y).ravel().tolist()
        [-inf, 1.0, 1.0, -inf, -inf]
    """

    def __init__(self, pads: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.pads = tuple((int(a), int(b)) for a, b in pads)

    def call(self, x: Any) -> Any:
        widths = [(0, 0), *self.pads, (0, 0)]
        return keras.ops.pad(x, widths, constant_values=float("-inf"))

    def compute_output_shape(self, input_shape: Any) -> Any:
        size = [None if n is None else n + a + b for n, (a, b) in zip(input_shape[1:-1], self.pads)]
        return (input_shape[0], *size, input_shape[-1])

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = super().get_config()
        config.update(pads=[list(p) for p in self.pads])
        return config


@keras.saving.register_keras_serializable(package="compare")
class MaskedAveragePooling(keras.layers.Layer):
    """Average pooling of a channels-last tensor with PyTorch's divisor: the window sum
    over the input zero-padded by ``pads`` (one (before, after) pair per spatial axis),
    divided by the number of positions in the window that lie inside the input grown by
    ``counted`` (PyTorch's symmetric padding when ``count_include_pad``, else zeros):
    ``average_pool(pad(x)) / average_pool(pad(mask))``, both by ``keras.ops``.

    Example:
        >>> import numpy as np
        >>> pool = MaskedAveragePooling((2,), (2,), ((0, 1),), ((0, 0),))
        >>> np.asarray(pool(np.array([[[1.0], [3.0], [5.0]]], "float32"))).ravel().tolist()
        [2.0, 5.0]
    """

    def __init__(
        self, pool_size: Any, strides: Any, pads: Any, counted: Any, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.pool_size = tuple(int(k) for k in pool_size)
        self.strides = tuple(int(s) for s in strides)
        self.pads = tuple((int(a), int(b)) for a, b in pads)
        self.counted = tuple((int(a), int(b)) for a, b in counted)

    def _pool(self, x: Any, pads: Any) -> Any:
        x = keras.ops.pad(x, [(0, 0), *pads, (0, 0)])
        return keras.ops.average_pool(x, self.pool_size, self.strides, padding="valid")

    def call(self, x: Any) -> Any:
        size = tuple(x.shape[1:-1])
        mask = keras.ops.ones(
            (1, *(n + a + b for n, (a, b) in zip(size, self.counted)), 1), dtype=x.dtype
        )
        rest = [(p - c, q - d) for (p, q), (c, d) in zip(self.pads, self.counted)]
        return self._pool(x, self.pads) / self._pool(mask, rest)

    def compute_output_shape(self, input_shape: Any) -> Any:
        size = [
            None if n is None else (n + a + b - k) // s + 1
            for n, (a, b), k, s in zip(input_shape[1:-1], self.pads, self.pool_size, self.strides)
        ]
        return (input_shape[0], *size, input_shape[-1])

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = super().get_config()
        config.update(
            pool_size=list(self.pool_size),
            strides=list(self.strides),
            pads=[list(p) for p in self.pads],
            counted=[list(p) for p in self.counted],
        )
        return config


def ceil_pads(layer: _Pool, formula: LayerFormula) -> tuple[tuple[int, int], ...]:
    """The (before, after) padding per axis that a 'valid' pool needs to give the spec's
    output: the spec's pads, the after side grown by what ``ceil_mode``'s last window
    hangs over the end.

    Example:
        >>> from compare.formulas import infer
        >>> from compare.spec import Input, Model
        >>> pool = MaxPool(pool_size=3, strides=2, ceil_mode=True)
        >>> m = Model("m", Input(1, (112, 112)), (pool,))
        >>> ceil_pads(m.layers[0], infer(m)[0])
        ((0, 1), (0, 1))
    """
    assert formula.pads is not None
    out = []
    for n, o, k, s, (a, b) in zip(
        formula.input.size,
        formula.output.size,
        layer.per_axis("pool_size"),
        layer.per_axis("strides"),
        formula.pads,
    ):
        out.append((a, max(b, (o - 1) * s + k - n - a)))
    return tuple(out)


def _pool_padding(layer: _Pool, formula: LayerFormula) -> str | None:
    """'valid' or 'same' when Keras' own padding is exactly the spec's, else None."""
    assert formula.pads is not None
    if layer.ceil_mode:
        return None
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
    """``MaxPoolingND`` with 'valid' or 'same' where that is the spec's padding, else
    ``NegInfPadding`` and a 'valid' ``MaxPoolingND``.

    Example:
        >>> from compare.formulas import infer
        >>> from compare.spec import Input, Model
        >>> m = Model("m", Input(1, (4,)), (MaxPool(pool_size=3, strides=2, padding=1),))
        >>> made = build_max_pool(m.layers[0], infer(m)[0], "p", "float32")
        >>> [type(p).__name__ for p in made[0]], made[0][0].pads
        (['NegInfPadding', 'MaxPooling1D'], ((1, 1),))
    """
    rank = formula.input.rank
    assert formula.pads is not None
    if layer.pad_zeros and any(a or b for a, b in formula.pads):
        zero = ZERO_PAD[rank](pad_arg(formula.pads), name=f"{name}_pad", dtype=dtype)
        pool = _MAX_POOL[rank](
            layer.pool_size, layer.strides, padding="valid", name=name, dtype=dtype
        )
        note = f"the padding holds zeros: ZeroPadding{rank}D{pad_arg(formula.pads)} then 'valid'"
        return [zero, pool], {}, (("padding", note),)
    padding = _pool_padding(layer, formula)
    if padding is None:
        pads = ceil_pads(layer, formula)
        pad = NegInfPadding(pads, name=f"{name}_pad", dtype=dtype)
        pool = _MAX_POOL[rank](
            layer.pool_size, layer.strides, padding="valid", name=name, dtype=dtype
        )
        why = (
            "ceil_mode's last window hangs over the end"
            if layer.ceil_mode
            else f"padding={formula.pads} is not what 'same' pads"
        )
        note = (
            f"Keras pads max pooling only as 'same' and has no ceil_mode ({why}); "
            f"NegInfPadding{pads} (-inf, as PyTorch pads) then padding='valid'"
        )
        return [pad, pool], {}, (("padding", note),)
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
    if layer.ceil_mode or not layer.count_include_pad:
        return _masked_avg_pool(layer, formula, name, dtype)
    pads = pad_arg(formula.pads)
    pad = ZERO_PAD[rank](pads, name=f"{name}_pad", dtype=dtype)
    pool = _AVG_POOL[rank](layer.pool_size, layer.strides, padding="valid", name=name, dtype=dtype)
    note = (
        f"padded zeros count in the average: ZeroPadding{rank}D{pads} then padding='valid' "
        "(Keras' own 'same' would exclude them)"
    )
    return [pad, pool], {}, (("padding", note),)


def _masked_avg_pool(layer: AvgPool, formula: LayerFormula, name: str, dtype: str) -> Made:
    """``MaskedAveragePooling`` for the averages Keras' own pools cannot divide."""
    assert formula.pads is not None
    pads = ceil_pads(layer, formula)
    zero = tuple((0, 0) for _ in pads)
    counted = formula.pads if layer.count_include_pad else zero
    pool = MaskedAveragePooling(
        layer.per_axis("pool_size"),
        layer.per_axis("strides"),
        pads,
        counted,
        name=name,
        dtype=dtype,
    )
    if layer.ceil_mode:
        why = (
            "has no ceil_mode (PyTorch's last window hangs over the end and divides by the "
            + (
                "positions inside the input and its padding"
                if any(a for a, _ in counted)
                else "real elements it holds"
            )
            + ")"
        )
    else:
        why = f"leaves padding out of the divisor only as 'same', and {formula.pads} is not it"
    note = (
        f"Keras average pooling {why}; MaskedAveragePooling: keras.ops.average_pool of the "
        f"input zero-padded by {pads} over the same pool of a mask of the counted positions"
    )
    return [pool], {}, (("padding", note),)


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
