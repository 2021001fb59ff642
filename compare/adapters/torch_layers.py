"""PyTorch builders for the normalisation, pooling, dropout and activation kinds.

Registered into ``TorchAdapter`` by kind. Where ``nn`` cannot express a spec
directly the realisation is explicit and noted: a pad with -inf before a max pool
whose padding is asymmetric, a zero pad or a masked mean for an average pool, a
channels-last move around a ``LayerNorm`` over the channels. A spec PyTorch cannot
express at all (gamma without beta) raises ``Unsupported`` with the reason.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from compare.adapters.base import Built, Notes, Unsupported
from compare.defaults import signature_default
from compare.formulas import LayerFormula
from compare.spec import Layer
from compare.spec_layers import (
    Activation,
    AvgPool,
    BatchNorm,
    Dropout,
    GlobalAvgPool,
    GlobalMaxPool,
    GroupNorm,
    LayerNorm,
    MaxPool,
)

__all__ = ["LAYER_BUILDERS", "ExcludePadAvgPool", "activation_module"]

_BATCH_NORM = {0: nn.BatchNorm1d, 1: nn.BatchNorm1d, 2: nn.BatchNorm2d, 3: nn.BatchNorm3d}
_MAX_POOL: dict[int, Any] = {1: nn.MaxPool1d, 2: nn.MaxPool2d, 3: nn.MaxPool3d}
_AVG_POOL: dict[int, Any] = {1: nn.AvgPool1d, 2: nn.AvgPool2d, 3: nn.AvgPool3d}
_AVG_POOL_F = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}
_CONST_PAD: dict[int, Any] = {1: nn.ConstantPad1d, 2: nn.ConstantPad2d, 3: nn.ConstantPad3d}
_ZERO_PAD: dict[int, Any] = {1: nn.ZeroPad1d, 2: nn.ZeroPad2d, 3: nn.ZeroPad3d}
_GLOBAL: dict[str, dict[int, Any]] = {
    "global_avg_pool": {1: nn.AdaptiveAvgPool1d, 2: nn.AdaptiveAvgPool2d, 3: nn.AdaptiveAvgPool3d},
    "global_max_pool": {1: nn.AdaptiveMaxPool1d, 2: nn.AdaptiveMaxPool2d, 3: nn.AdaptiveMaxPool3d},
}

#: canonical activation -> module factory (negative_slope, alpha)
ACTIVATION_MODULES: dict[str, Callable[[float, float], nn.Module]] = {
    "linear": lambda slope, alpha: nn.Identity(),
    "relu": lambda slope, alpha: nn.ReLU(),
    "relu6": lambda slope, alpha: nn.ReLU6(),
    "sigmoid": lambda slope, alpha: nn.Sigmoid(),
    "tanh": lambda slope, alpha: nn.Tanh(),
    "gelu": lambda slope, alpha: nn.GELU(approximate="none"),
    "gelu_tanh": lambda slope, alpha: nn.GELU(approximate="tanh"),
    "softmax": lambda slope, alpha: nn.Softmax(dim=1),
    "elu": lambda slope, alpha: nn.ELU(alpha=alpha),
    "selu": lambda slope, alpha: nn.SELU(),
    "leaky_relu": lambda slope, alpha: nn.LeakyReLU(negative_slope=slope),
    "silu": lambda slope, alpha: nn.SiLU(),
    "softplus": lambda slope, alpha: nn.Softplus(),
}


def activation_module(name: str, negative_slope: float = 0.01, alpha: float = 1.0) -> nn.Module:
    """The ``nn`` module computing a canonical activation (softmax over dim 1, channels).

    Example:
        >>> activation_module("leaky_relu", 0.2)
        LeakyReLU(negative_slope=0.2)
    """
    return ACTIVATION_MODULES[name](negative_slope, alpha)


def _pad_arg(pads: tuple[tuple[int, int], ...]) -> tuple[int, ...]:
    out: list[int] = []
    for before, after in reversed(pads):
        out += [before, after]
    return tuple(out)


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
        pad = _pad_arg(self.pads)
        ones = torch.ones((1, 1, *x.shape[2:]), dtype=x.dtype, device=x.device)
        total = pool(F.pad(x, pad), self.pool_size, self.strides)
        count = pool(F.pad(ones, pad), self.pool_size, self.strides)
        return total / count

    def extra_repr(self) -> str:
        return f"pool_size={self.pool_size}, strides={self.strides}, pads={self.pads}"


def _affine_flags(layer: BatchNorm | GroupNorm, cls: str) -> bool:
    if layer.center != layer.scale:
        raise Unsupported(
            f"nn.{cls}'s affine switches gamma and beta together; center={layer.center}, "
            f"scale={layer.scale} cannot be expressed"
        )
    return layer.center


def _batch_norm(layer: BatchNorm, formula: LayerFormula) -> tuple[nn.Module, dict[str, Any], Notes]:
    cls = _BATCH_NORM[formula.input.rank]
    bn = cls(
        formula.input.channels,
        eps=layer.epsilon,
        momentum=layer.momentum,
        affine=_affine_flags(layer, cls.__name__),
    )
    roles = {
        "gamma": (bn, "weight"),
        "beta": (bn, "bias"),
        "moving_mean": (bn, "running_mean"),
        "moving_variance": (bn, "running_var"),
    }
    return bn, roles, ()


def _layer_norm(layer: LayerNorm, formula: LayerFormula) -> tuple[nn.Module, dict[str, Any], Notes]:
    from compare.adapters.torch import MoveAxis

    if layer.center and not layer.scale:
        raise Unsupported(
            "nn.LayerNorm has a bias only together with elementwise_affine; "
            "center=True, scale=False cannot be expressed"
        )
    shape = formula.input
    normalized = (shape.channels, *shape.size) if layer.axes == "all" else (shape.channels,)
    ln = nn.LayerNorm(
        normalized, eps=layer.epsilon, elementwise_affine=layer.scale, bias=layer.center
    )
    roles = {"gamma": (ln, "weight"), "beta": (ln, "bias")}
    if layer.axes == "all" or shape.rank == 0:
        return ln, roles, ()
    note = "nn.LayerNorm normalises the last axes, so channels move last and back"
    return nn.Sequential(MoveAxis(1, -1), ln, MoveAxis(-1, 1)), roles, (("layer_norm_axes", note),)


def _group_norm(layer: GroupNorm, formula: LayerFormula) -> tuple[nn.Module, dict[str, Any], Notes]:
    gn = nn.GroupNorm(
        layer.groups,
        formula.input.channels,
        eps=layer.epsilon,
        affine=_affine_flags(layer, "GroupNorm"),
    )
    return gn, {"gamma": (gn, "weight"), "beta": (gn, "bias")}, ()


def _native_pads(formula: LayerFormula, pool: tuple[int, ...]) -> tuple[int, ...] | None:
    """The symmetric padding nn pooling accepts (at most half the window), or None."""
    assert formula.pads is not None
    if all(a == b and 2 * a <= k for (a, b), k in zip(formula.pads, pool)):
        return tuple(a for a, _ in formula.pads)
    return None


def _max_pool(layer: MaxPool, formula: LayerFormula) -> tuple[nn.Module, dict[str, Any], Notes]:
    assert isinstance(layer.pool_size, tuple) and formula.pads is not None
    rank = formula.input.rank
    native = _native_pads(formula, layer.pool_size)
    make = _MAX_POOL[rank]
    if native is not None:
        return make(layer.pool_size, layer.strides, native, ceil_mode=layer.ceil_mode), {}, ()
    pad = _CONST_PAD[rank](_pad_arg(formula.pads), float("-inf"))
    pool = make(layer.pool_size, layer.strides, 0, ceil_mode=layer.ceil_mode)
    note = (
        f"padding {formula.pads} is asymmetric; nn.MaxPool{rank}d pads symmetrically, so "
        f"ConstantPad{rank}d{_pad_arg(formula.pads)} with -inf precedes an unpadded pool"
    )
    return nn.Sequential(pad, pool), {}, (("padding", note),)


def _avg_pool(layer: AvgPool, formula: LayerFormula) -> tuple[nn.Module, dict[str, Any], Notes]:
    assert isinstance(layer.pool_size, tuple) and isinstance(layer.strides, tuple)
    assert formula.pads is not None
    rank = formula.input.rank
    native = _native_pads(formula, layer.pool_size)
    make = _AVG_POOL[rank]
    if native is not None:
        pool = make(
            layer.pool_size,
            layer.strides,
            native,
            ceil_mode=layer.ceil_mode,
            count_include_pad=layer.count_include_pad,
        )
        return pool, {}, ()
    if layer.count_include_pad:
        pad = _ZERO_PAD[rank](_pad_arg(formula.pads))
        pool = make(layer.pool_size, layer.strides, 0, ceil_mode=layer.ceil_mode)
        note = (
            f"padding {formula.pads} is asymmetric; ZeroPad{rank}d{_pad_arg(formula.pads)} "
            f"precedes an unpadded AvgPool{rank}d (padded zeros counted)"
        )
        return nn.Sequential(pad, pool), {}, (("padding", note),)
    note = (
        f"padding {formula.pads} is asymmetric and padded zeros must not count; "
        f"nn.AvgPool{rank}d pads symmetrically, so a masked mean (sum over the zero-padded "
        "window / number of real elements) realises it"
    )
    module = ExcludePadAvgPool(layer.pool_size, layer.strides, formula.pads)
    return module, {}, (("padding", note),)


def _global_pool(
    layer: GlobalAvgPool | GlobalMaxPool, formula: LayerFormula
) -> tuple[nn.Module, dict[str, Any], Notes]:
    pool = _GLOBAL[layer.kind][formula.input.rank](1)
    if layer.keepdims:
        return pool, {}, ()
    return nn.Sequential(pool, nn.Flatten()), {}, ()


def _dropout(layer: Dropout, formula: LayerFormula) -> tuple[nn.Module, dict[str, Any], Notes]:
    return nn.Dropout(layer.rate), {}, ()


def _activation(
    layer: Activation, formula: LayerFormula
) -> tuple[nn.Module, dict[str, Any], Notes]:
    return activation_module(layer.activation, layer.negative_slope, layer.alpha), {}, ()


#: spec class -> builder returning (module, roles, notes)
LAYER_BUILDERS: dict[type[Layer], Callable[..., tuple[nn.Module, dict[str, Any], Notes]]] = {
    BatchNorm: _batch_norm,
    LayerNorm: _layer_norm,
    GroupNorm: _group_norm,
    MaxPool: _max_pool,
    AvgPool: _avg_pool,
    GlobalAvgPool: _global_pool,
    GlobalMaxPool: _global_pool,
    Dropout: _dropout,
    Activation: _activation,
}


def with_activation(built: Built, name: str) -> Built:
    """``built`` followed by the activation module a Keras layer would carry inside.

    Example:
        >>> with_activation(Built("torch", nn.Linear(2, 2), ("Linear",)), "relu").classes
        ('Linear', 'ReLU')
    """
    module: nn.Module = built.obj
    parts = list(module) if isinstance(module, nn.Sequential) else [module]
    act = activation_module(name)
    note = (
        f"PyTorch layers carry no activation: nn.{type(act).__name__} follows as a module "
        f"of its own (Keras keeps activation='{name}' inside the layer)"
    )
    return Built(
        "torch",
        nn.Sequential(*parts, act),
        (*built.classes, type(act).__name__),
        built.roles,
        (*built.notes, ("activation", note)),
    )


# -- defaults and initialisers ---------------------------------------------------------

_sig = signature_default


def _padding_default(value: Any) -> Any:
    return "valid" if value == 0 else value


def _norm_defaults(cls: Any, affine: tuple[str, str]) -> dict[str, Any]:
    return {
        "epsilon": _sig(cls, "eps"),
        "center": _sig(cls, affine[0]),
        "scale": _sig(cls, affine[1]),
    }


def _pool_defaults(cls: Any) -> dict[str, Any]:
    stride = _sig(cls, "stride")
    return {
        "pool_size": _sig(cls, "kernel_size"),
        "strides": "pool_size" if stride is None else stride,
        "padding": _padding_default(_sig(cls, "padding")),
        "ceil_mode": _sig(cls, "ceil_mode"),
    }


def _activation_defaults(layer: Activation) -> dict[str, Any]:
    if layer.activation == "leaky_relu":
        return {"negative_slope": _sig(nn.LeakyReLU, "negative_slope")}
    if layer.activation == "elu":
        return {"alpha": _sig(nn.ELU, "alpha")}
    if layer.activation in ("gelu", "gelu_tanh"):
        return {"approximate": _sig(nn.GELU, "approximate") != "none"}
    if layer.activation == "softmax":
        dim = _sig(nn.Softmax, "dim")
        return {"axis": "implicit (deprecated)" if dim is None else dim}
    return {}


#: kind -> the framework's own defaults, in the spec's convention, read from signatures
_CONV_CLS: dict[int, Any] = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}
_CONV_T_CLS: dict[int, Any] = {1: nn.ConvTranspose1d, 2: nn.ConvTranspose2d, 3: nn.ConvTranspose3d}


def _conv_defaults(cls: Any) -> dict[str, Any]:
    """A conv's defaults in the spec's terms (PyTorch has no activation argument: the
    layer is linear unless a module follows)."""
    return {
        "strides": _sig(cls, "stride"),
        "padding": _padding_default(_sig(cls, "padding")),
        "dilation": _sig(cls, "dilation"),
        "use_bias": _sig(cls, "bias"),
        "activation": "linear",
    }


DEFAULTS: dict[str, Callable[[Any, LayerFormula], dict[str, Any]]] = {
    "conv": lambda layer, f: {
        **_conv_defaults(_CONV_CLS[f.input.rank]),
        "groups": _sig(_CONV_CLS[f.input.rank], "groups"),
    },
    "conv_transpose": lambda layer, f: {
        **_conv_defaults(_CONV_T_CLS[f.input.rank]),
        "groups": _sig(_CONV_T_CLS[f.input.rank], "groups"),
        "output_padding": _sig(_CONV_T_CLS[f.input.rank], "output_padding"),
    },
    # PyTorch has no depthwise or separable class: they are grouped nn.ConvNd.
    "depthwise_conv": lambda layer, f: _conv_defaults(_CONV_CLS[f.input.rank]),
    "separable_conv": lambda layer, f: _conv_defaults(_CONV_CLS[f.input.rank]),
    "dense": lambda layer, f: {"use_bias": _sig(nn.Linear, "bias"), "activation": "linear"},
    "batch_norm": lambda layer, f: {
        "momentum": _sig(_BATCH_NORM[f.input.rank], "momentum"),
        **_norm_defaults(_BATCH_NORM[f.input.rank], ("affine", "affine")),
    },
    "layer_norm": lambda layer, f: {
        "axes": _sig(nn.LayerNorm, "normalized_shape"),
        **_norm_defaults(nn.LayerNorm, ("bias", "elementwise_affine")),
    },
    "group_norm": lambda layer, f: {
        "groups": _sig(nn.GroupNorm, "num_groups"),
        **_norm_defaults(nn.GroupNorm, ("affine", "affine")),
    },
    "max_pool": lambda layer, f: _pool_defaults(_MAX_POOL[f.input.rank]),
    "avg_pool": lambda layer, f: {
        **_pool_defaults(_AVG_POOL[f.input.rank]),
        "count_include_pad": _sig(_AVG_POOL[f.input.rank], "count_include_pad"),
    },
    "dropout": lambda layer, f: {"rate": _sig(nn.Dropout, "p")},
    "activation": lambda layer, f: _activation_defaults(layer),
}

_CONSTANT_INIT = {"gamma": 1.0, "beta": 0.0, "moving_mean": 0.0, "moving_variance": 1.0}


def initialisers(built: Built) -> dict[str, tuple[str, float | None]]:
    """Role -> (initialiser name, theoretical std) of PyTorch's default initialisation.

    ``nn.ConvNd`` and ``nn.Linear`` draw weights from kaiming_uniform(a=sqrt(5)), i.e.
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with std 1/sqrt(3 * fan_in), and their bias from
    the same bound; fan_in is ``weight.shape[1] * prod(kernel)`` as PyTorch computes it.

    Example:
        >>> b = Built("torch", None, (), {"kernel": (nn.Linear(3, 2), "weight")})
        >>> round(initialisers(b)["kernel"][1], 4)
        0.3333
    """
    out: dict[str, tuple[str, float | None]] = {}
    for role, (module, _attr) in built.roles.items():
        if role in _CONSTANT_INIT:
            out[role] = (f"constant({_CONSTANT_INIT[role]:g})", 0.0)
            continue
        weight = getattr(module, "weight", None)
        if weight is None or weight.dim() < 2:
            continue
        fan_in = int(weight.shape[1]) * int(math.prod(weight.shape[2:]))
        std = 1.0 / math.sqrt(3.0 * fan_in)
        name = "kaiming_uniform(a=sqrt(5))" if role != "bias" else "uniform(+-1/sqrt(fan_in))"
        out[role] = (name, std)
    return out
