"""PyTorch builders and defaults of the pool family: ``max_pool``, ``avg_pool``,
``global_avg_pool`` and ``global_max_pool``.

Where ``nn`` cannot express a spec's padding directly the realisation is explicit and
noted: a pad with -inf before a max pool whose padding is asymmetric, a zero pad or a
masked mean (``ExcludePadAvgPool``) for an average pool.

Example:
    >>> from compare.formulas import infer
    >>> from compare.spec import Input, Model
    >>> from compare.kinds.pool.spec import MaxPool
    >>> m = Model("m", Input(1, (4, 4)), (MaxPool(pool_size=2),))
    >>> build_max_pool(m.layers[0], infer(m)[0])[0]
    MaxPool2d(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0), dilation=1, ceil_mode=False)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from compare.adapters.base import Made
from compare.adapters.torch_defaults import padding_default
from compare.adapters.torch_modules import ZERO_PAD, zero_pad_arg
from compare.core.registry import register_part
from compare.defaults import signature_default
from compare.formulas import LayerFormula
from compare.kinds.pool.spec import AvgPool, GlobalAvgPool, GlobalMaxPool, MaxPool

__all__ = ["ExcludePadAvgPool", "build_avg_pool", "build_global_pool", "build_max_pool"]

_MAX_POOL: dict[int, Any] = {1: nn.MaxPool1d, 2: nn.MaxPool2d, 3: nn.MaxPool3d}
_AVG_POOL: dict[int, Any] = {1: nn.AvgPool1d, 2: nn.AvgPool2d, 3: nn.AvgPool3d}
_AVG_POOL_F = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}
_CONST_PAD: dict[int, Any] = {1: nn.ConstantPad1d, 2: nn.ConstantPad2d, 3: nn.ConstantPad3d}
_GLOBAL: dict[str, dict[int, Any]] = {
    "global_avg_pool": {1: nn.AdaptiveAvgPool1d, 2: nn.AdaptiveAvgPool2d, 3: nn.AdaptiveAvgPool3d},
    "global_max_pool": {1: nn.AdaptiveMaxPool1d, 2: nn.AdaptiveMaxPool2d, 3: nn.AdaptiveMaxPool3d},
}

_sig = signature_default


class ExcludePadAvgPool(nn.Module):
    """Average pooling over a zero-padded input whose divisor counts real elements only
    (TensorFlow's 'same'), for any (before, after) padding.

    Example:
        >>> pool = ExcludePadAvgPool((2,), (2,), ((0, 1),))
        >>> pool(torch.tensor([[[1.0, 3.0, 5.0]]]))
        tensor([[[2., 5.]]])
    """

    def __init__(
        self,
        pool_size: tuple[int, ...],
        strides: tuple[int, ...],
        pads: tuple[tuple[int, int], ...],
    ) -> None:
        super().__init__()
        self.pool_size, self.strides, self.pads = pool_size, strides, pads

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pool = _AVG_POOL_F[len(self.pads)]
        pad = zero_pad_arg(self.pads)
        ones = torch.ones((1, 1, *x.shape[2:]), dtype=x.dtype, device=x.device)
        total = pool(F.pad(x, pad), self.pool_size, self.strides)
        count = pool(F.pad(ones, pad), self.pool_size, self.strides)
        return total / count

    def extra_repr(self) -> str:
        return f"pool_size={self.pool_size}, strides={self.strides}, pads={self.pads}"


def _native_pads(formula: LayerFormula, pool: tuple[int, ...]) -> tuple[int, ...] | None:
    """The symmetric padding nn pooling accepts (at most half the window), or None."""
    assert formula.pads is not None
    if all(a == b and 2 * a <= k for (a, b), k in zip(formula.pads, pool)):
        return tuple(a for a, _ in formula.pads)
    return None


@register_part("torch", "build", "max_pool")
def build_max_pool(layer: MaxPool, formula: LayerFormula) -> Made:
    """``nn.MaxPoolNd`` (behind a -inf ``ConstantPadNd`` when the padding is asymmetric,
    behind a ``ZeroPadNd`` when the padding holds zeros).

    Example:
        >>> from compare.formulas import infer
        >>> from compare.spec import Input, Model
        >>> m = Model("m", Input(1, (5,)), (MaxPool(pool_size=2, padding="same"),))
        >>> build_max_pool(m.layers[0], infer(m)[0])[2][0][0]
        'padding'
    """
    assert formula.pads is not None
    rank = formula.input.rank
    native = _native_pads(formula, layer.per_axis("pool_size"))
    make = _MAX_POOL[rank]
    if layer.pad_zeros and any(a or b for a, b in formula.pads):
        pad = ZERO_PAD[rank](zero_pad_arg(formula.pads))
        pool = make(layer.per_axis("pool_size"), layer.strides, 0)
        note = (
            f"the padding holds zeros: ZeroPad{rank}d{zero_pad_arg(formula.pads)} precedes an "
            f"unpadded MaxPool{rank}d (its own padding= pads -inf)"
        )
        return nn.Sequential(pad, pool), {}, (("padding", note),)
    if native is not None:
        return (
            make(layer.per_axis("pool_size"), layer.strides, native, ceil_mode=layer.ceil_mode),
            {},
            (),
        )
    pad = _CONST_PAD[rank](zero_pad_arg(formula.pads), float("-inf"))
    pool = make(layer.per_axis("pool_size"), layer.strides, 0, ceil_mode=layer.ceil_mode)
    note = (
        f"padding {formula.pads} is asymmetric; nn.MaxPool{rank}d pads symmetrically, so "
        f"ConstantPad{rank}d{zero_pad_arg(formula.pads)} with -inf precedes an unpadded pool"
    )
    return nn.Sequential(pad, pool), {}, (("padding", note),)


@register_part("torch", "build", "avg_pool")
def build_avg_pool(layer: AvgPool, formula: LayerFormula) -> Made:
    """``nn.AvgPoolNd``, a zero pad before it, or ``ExcludePadAvgPool``.

    Example:
        >>> from compare.formulas import infer
        >>> from compare.spec import Input, Model
        >>> m = Model("m", Input(1, (3,)), (AvgPool(pool_size=2, padding="same"),))
        >>> build_avg_pool(m.layers[0], infer(m)[0])[0]
        ExcludePadAvgPool(pool_size=(2,), strides=(2,), pads=((0, 1),))
    """
    assert formula.pads is not None
    rank = formula.input.rank
    native = _native_pads(formula, layer.per_axis("pool_size"))
    make = _AVG_POOL[rank]
    if native is not None:
        pool = make(
            layer.per_axis("pool_size"),
            layer.per_axis("strides"),
            native,
            ceil_mode=layer.ceil_mode,
            count_include_pad=layer.count_include_pad,
        )
        return pool, {}, ()
    if layer.count_include_pad:
        pad = ZERO_PAD[rank](zero_pad_arg(formula.pads))
        pool = make(
            layer.per_axis("pool_size"), layer.per_axis("strides"), 0, ceil_mode=layer.ceil_mode
        )
        note = (
            f"padding {formula.pads} is asymmetric; ZeroPad{rank}d{zero_pad_arg(formula.pads)} "
            f"precedes an unpadded AvgPool{rank}d (padded zeros counted)"
        )
        return nn.Sequential(pad, pool), {}, (("padding", note),)
    note = (
        f"padding {formula.pads} is asymmetric and padded zeros must not count; "
        f"nn.AvgPool{rank}d pads symmetrically, so a masked mean (sum over the zero-padded "
        "window / number of real elements) realises it"
    )
    module = ExcludePadAvgPool(layer.per_axis("pool_size"), layer.per_axis("strides"), formula.pads)
    return module, {}, (("padding", note),)


@register_part("torch", "build", "global_avg_pool", "global_max_pool")
def build_global_pool(layer: GlobalAvgPool | GlobalMaxPool, formula: LayerFormula) -> Made:
    """``nn.AdaptiveAvgPoolNd(1)`` / ``nn.AdaptiveMaxPoolNd(1)``, flattened unless keepdims.

    Example:
        >>> from compare.formulas import infer
        >>> from compare.spec import Input, Model
        >>> m = Model("m", Input(2, (4, 4)), (GlobalMaxPool(),))
        >>> [type(p).__name__ for p in build_global_pool(m.layers[0], infer(m)[0])[0]]
        ['AdaptiveMaxPool2d', 'Flatten']
    """
    pool = _GLOBAL[layer.kind][formula.input.rank](1)
    if layer.keepdims:
        return pool, {}, ()
    return nn.Sequential(pool, nn.Flatten()), {}, ()


def _pool_defaults(cls: Any) -> dict[str, Any]:
    stride = _sig(cls, "stride")
    return {
        "pool_size": _sig(cls, "kernel_size"),
        "strides": "pool_size" if stride is None else stride,
        "padding": padding_default(_sig(cls, "padding")),
        "ceil_mode": _sig(cls, "ceil_mode"),
    }


#: kind -> the framework's own defaults, in the spec's convention, read from signatures
_DEFAULTS: dict[str, Callable[[Any, LayerFormula], dict[str, Any]]] = {
    "max_pool": lambda layer, f: _pool_defaults(_MAX_POOL[f.input.rank]),
    "avg_pool": lambda layer, f: {
        **_pool_defaults(_AVG_POOL[f.input.rank]),
        "count_include_pad": _sig(_AVG_POOL[f.input.rank], "count_include_pad"),
    },
}
for _kind, _read in _DEFAULTS.items():
    register_part("torch", "defaults", _kind)(_read)
