"""PyTorch mappers for the normalisation, pooling, dropout and activation kinds.

Registered into ``compare.importers.torch``'s ``MODULES`` / ``FUNCTIONS`` tables.
Each mapper reads the module's own attributes into the spec's conventions (momentum
as PyTorch's, epsilon explicit, softmax over the channels) and raises ``Refuse``
with the reason where the spec cannot say what the module computes.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import torch
from torch import fx, nn
from torch.nn import functional as F

from compare.adapters.torch_layers import ExcludePadAvgPool
from compare.formulas import same_pads
from compare.importers.base import Piece, Refuse
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

__all__ = ["ACTIVATIONS", "FUNCTIONS", "MODULES"]

Mapper = Callable[[Any, Piece], Piece]


def _roles(module: nn.Module, **names: str) -> dict[str, Any]:
    return {
        role: (module, attr) for role, attr in names.items() if getattr(module, attr) is not None
    }


def _batch_norm(module: Any, piece: Piece) -> Piece:
    if not module.track_running_stats or module.running_mean is None:
        raise Refuse(
            "track_running_stats=False: it normalises with the batch's own statistics even "
            "in eval mode; the spec's batch norm keeps running statistics"
        )
    if module.momentum is None:
        raise Refuse(
            "momentum=None (a cumulative moving average); the spec's momentum is the "
            "weight of each new batch statistic"
        )
    layer = BatchNorm(
        epsilon=float(module.eps),
        momentum=float(module.momentum),
        center=bool(module.affine),
        scale=bool(module.affine),
    )
    roles = _roles(
        module,
        gamma="weight",
        beta="bias",
        moving_mean="running_mean",
        moving_variance="running_var",
    )
    return replace(piece, layer=layer, roles=roles)


def _layer_norm(module: Any, piece: Piece) -> Piece:
    normalized = tuple(module.normalized_shape)
    dims = piece.in_shape.torch()[1:]
    center = module.bias is not None
    scale = module.weight is not None
    eps = float(module.eps)
    roles = _roles(module, gamma="weight", beta="bias")
    if normalized == dims:
        axes = "all" if piece.in_shape.rank else "channels"
        layer = LayerNorm(axes=axes, epsilon=eps, center=center, scale=scale)
        return replace(piece, layer=layer, roles=roles)
    if len(normalized) == 1 and normalized == dims[-1:]:
        layer = LayerNorm(axes="channels", epsilon=eps, center=center, scale=scale)
        return replace(piece, layer=layer, roles=roles, last_axis=True)
    raise Refuse(
        f"normalized_shape={normalized} on a {dims} input; the spec normalises the "
        "channels or all non-batch axes"
    )


def _group_norm(module: Any, piece: Piece) -> Piece:
    layer = GroupNorm(
        groups=int(module.num_groups),
        epsilon=float(module.eps),
        center=bool(module.affine),
        scale=bool(module.affine),
    )
    return replace(piece, layer=layer, roles=_roles(module, gamma="weight", beta="bias"))


def _tuple(value: Any, rank: int) -> tuple[int, ...]:
    return tuple(int(v) for v in value) if isinstance(value, tuple | list) else (int(value),) * rank


def _pool_fields(module: Any, piece: Piece) -> dict[str, Any]:
    rank = piece.in_shape.rank
    if rank == 0:
        raise Refuse("pools a feature vector; the spec's pools need spatial axes")
    padding = _tuple(module.padding, rank)
    stride = module.stride if module.stride is not None else module.kernel_size
    return {
        "pool_size": _tuple(module.kernel_size, rank),
        "strides": _tuple(stride, rank),
        "padding": padding if any(padding) else "valid",
        "ceil_mode": bool(module.ceil_mode),
    }


def _max_pool(module: Any, piece: Piece) -> Piece:
    if module.return_indices:
        raise Refuse("return_indices=True returns a tuple; the spec's max pool one tensor")
    if any(d != 1 for d in _tuple(module.dilation, max(piece.in_shape.rank, 1))):
        raise Refuse(f"dilation={module.dilation}; the spec's max pool has no dilation")
    return replace(piece, layer=MaxPool(**_pool_fields(module, piece)))


def _avg_pool(module: Any, piece: Piece) -> Piece:
    if getattr(module, "divisor_override", None):
        raise Refuse(f"divisor_override={module.divisor_override}; the spec divides by the window")
    cip = bool(getattr(module, "count_include_pad", True))
    return replace(piece, layer=AvgPool(**_pool_fields(module, piece), count_include_pad=cip))


def _exclude_pad_avg_pool(module: Any, piece: Piece) -> Piece:
    """compare's own masked mean (TensorFlow's 'same' average with asymmetric pads)."""
    pads = tuple(module.pads)
    same = tuple(
        same_pads(n, k, s, 1)
        for n, k, s in zip(piece.in_shape.size, module.pool_size, module.strides)
    )
    if pads == same:
        padding: Any = "same"
    elif all(a == b for a, b in pads):
        padding = tuple(a for a, _ in pads)
    else:
        raise Refuse(f"pads {pads} are asymmetric and not TensorFlow's 'same' split {same}")
    layer = AvgPool(
        pool_size=tuple(module.pool_size), strides=tuple(module.strides), padding=padding
    )
    return replace(piece, layer=layer)


def _global_pool(kind: type) -> Mapper:
    def mapper(module: Any, piece: Piece) -> Piece:
        size = module.output_size
        sizes = size if isinstance(size, tuple | list) else (size,) * piece.in_shape.rank
        if any(s != 1 for s in sizes) or getattr(module, "return_indices", False):
            raise Refuse(f"output_size={size}; only an adaptive pool to size 1 is a global pool")
        return replace(piece, layer=kind(keepdims=True))

    return mapper


def _dropout(module: Any, piece: Piece) -> Piece:
    return replace(piece, layer=Dropout(rate=float(module.p)))


def _act(name: str, **params: Any) -> Activation:
    return Activation(activation=name, **params)


def _softmax_dim(dim: Any, piece: Piece) -> Activation:
    n = piece.in_shape.rank + 2
    if dim is None or int(dim) % n != 1:
        raise Refuse(f"softmax over dim={dim}; the spec's softmax acts on the channels (dim=1)")
    return _act("softmax")


def _softplus(beta: float, threshold: float) -> Activation:
    if beta != 1:
        raise Refuse(f"beta={beta}; the spec's softplus is log(1 + exp(x)) (beta=1)")
    return _act("softplus")


def _relu6(module: Any, piece: Piece) -> Activation:
    return _act("relu6")


#: activation module class -> its spec, read from the module
ACTIVATIONS: dict[type[nn.Module], Callable[[Any, Piece], Activation]] = {
    nn.ReLU: lambda m, p: _act("relu"),
    nn.ReLU6: _relu6,
    nn.Sigmoid: lambda m, p: _act("sigmoid"),
    nn.Tanh: lambda m, p: _act("tanh"),
    nn.GELU: lambda m, p: _act("gelu_tanh" if m.approximate == "tanh" else "gelu"),
    nn.Softmax: lambda m, p: _softmax_dim(m.dim, p),
    nn.ELU: lambda m, p: _act("elu", alpha=float(m.alpha)),
    nn.SELU: lambda m, p: _act("selu"),
    nn.LeakyReLU: lambda m, p: _act("leaky_relu", negative_slope=float(m.negative_slope)),
    nn.SiLU: lambda m, p: _act("silu"),
    nn.Softplus: lambda m, p: _softplus(float(m.beta), float(m.threshold)),
}


def _activation(module: Any, piece: Piece) -> Piece:
    return replace(piece, layer=ACTIVATIONS[type(module)](module, piece))


_BATCH_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)
_MAX_POOLS = (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d)
_AVG_POOLS = (nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d)
_ADAPTIVE_AVG = (nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d)
_ADAPTIVE_MAX = (nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d, nn.AdaptiveMaxPool3d)

#: module class -> mapper, merged into ``compare.importers.torch.MODULES``
MODULES: dict[type[nn.Module], Mapper] = {
    **dict.fromkeys(_BATCH_NORMS, _batch_norm),
    nn.LayerNorm: _layer_norm,
    nn.GroupNorm: _group_norm,
    **dict.fromkeys(_MAX_POOLS, _max_pool),
    **dict.fromkeys(_AVG_POOLS, _avg_pool),
    ExcludePadAvgPool: _exclude_pad_avg_pool,
    **dict.fromkeys(_ADAPTIVE_AVG, _global_pool(GlobalAvgPool)),
    **dict.fromkeys(_ADAPTIVE_MAX, _global_pool(GlobalMaxPool)),
    nn.Dropout: _dropout,
    **dict.fromkeys(ACTIVATIONS, _activation),
}


# -- functional forms (torch.fx call_function / call_method) ----------------------------


def _arg(node: fx.Node, index: int, name: str, default: Any) -> Any:
    """Argument ``name`` of a traced call (after the chain value), positional or keyword."""
    args = node.args[1:]
    return node.kwargs.get(name, args[index] if len(args) > index else default)


def _fn(make: Callable[[fx.Node, Piece], Activation]) -> Mapper:
    def mapper(node: Any, piece: Piece) -> Piece:
        return replace(piece, layer=make(node, piece))

    return mapper


def _fn_dropout(node: Any, piece: Piece) -> Piece:
    return replace(piece, layer=Dropout(rate=float(_arg(node, 0, "p", 0.5))))


def _fn_leaky(node: fx.Node, piece: Piece) -> Activation:
    return _act("leaky_relu", negative_slope=float(_arg(node, 0, "negative_slope", 0.01)))


def _fn_gelu(node: fx.Node, piece: Piece) -> Activation:
    return _act("gelu_tanh" if _arg(node, 0, "approximate", "none") == "tanh" else "gelu")


def _plain(name: str, node: fx.Node, piece: Piece) -> Activation:
    return _act(name)


_SIMPLE = {
    "relu": (F.relu, torch.relu, "relu", "relu_"),
    "relu6": (F.relu6,),
    "sigmoid": (torch.sigmoid, F.sigmoid, "sigmoid"),
    "tanh": (torch.tanh, F.tanh, "tanh"),
    "selu": (F.selu, torch.selu),
    "silu": (F.silu,),
}

#: traced function / tensor-method name -> mapper, merged into ``torch.FUNCTIONS``
FUNCTIONS: dict[Any, Mapper] = {
    **{key: _fn(functools.partial(_plain, name)) for name, keys in _SIMPLE.items() for key in keys},
    F.gelu: _fn(_fn_gelu),
    F.leaky_relu: _fn(_fn_leaky),
    F.elu: _fn(lambda n, p: _act("elu", alpha=float(_arg(n, 0, "alpha", 1.0)))),
    **dict.fromkeys(
        (F.softmax, torch.softmax, "softmax"),
        _fn(lambda n, p: _softmax_dim(_arg(n, 0, "dim", None), p)),
    ),
    F.softplus: _fn(
        lambda n, p: _softplus(float(_arg(n, 0, "beta", 1.0)), float(_arg(n, 1, "threshold", 20)))
    ),
    F.dropout: _fn_dropout,
}


def _fields(node: fx.Node, names: tuple[tuple[str, Any], ...]) -> Any:
    """The traced call's arguments (after the chain value) as attributes, like a module's."""
    from types import SimpleNamespace

    values = {name: _arg(node, i, name, default) for i, (name, default) in enumerate(names)}
    if "stride" in values and not values["stride"]:
        values["stride"] = values["kernel_size"]  # None or [] means the window
    return SimpleNamespace(**values)


_MAX_ARGS = (
    ("kernel_size", None),
    ("stride", None),
    ("padding", 0),
    ("dilation", 1),
    ("ceil_mode", False),
    ("return_indices", False),
)
_AVG_ARGS = (
    ("kernel_size", None),
    ("stride", None),
    ("padding", 0),
    ("ceil_mode", False),
    ("count_include_pad", True),
    ("divisor_override", None),
)


def _fn_max_pool(node: Any, piece: Piece) -> Piece:
    return _max_pool(_fields(node, _MAX_ARGS), piece)


def _fn_avg_pool(node: Any, piece: Piece) -> Piece:
    return _avg_pool(_fields(node, _AVG_ARGS), piece)


def _fn_global(kind: type) -> Mapper:
    mapper = _global_pool(kind)

    def read(node: Any, piece: Piece) -> Piece:
        return mapper(_fields(node, (("output_size", None),)), piece)

    return read


_POOL_FUNCTIONS: dict[Any, Mapper] = {
    **dict.fromkeys((F.max_pool1d, F.max_pool2d, F.max_pool3d), _fn_max_pool),
    **dict.fromkeys((F.avg_pool1d, F.avg_pool2d, F.avg_pool3d), _fn_avg_pool),
    **dict.fromkeys(
        (F.adaptive_avg_pool1d, F.adaptive_avg_pool2d, F.adaptive_avg_pool3d),
        _fn_global(GlobalAvgPool),
    ),
    **dict.fromkeys(
        (F.adaptive_max_pool1d, F.adaptive_max_pool2d, F.adaptive_max_pool3d),
        _fn_global(GlobalMaxPool),
    ),
}
FUNCTIONS.update(_POOL_FUNCTIONS)
