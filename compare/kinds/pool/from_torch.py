"""What the torch importer maps to the pool kinds: ``nn.MaxPool*d``, ``nn.AvgPool*d``,
``nn.AdaptiveAvgPool*d`` / ``nn.AdaptiveMaxPool*d`` (to size 1: global pools, keeping
their size-1 axes until a flatten joins them, ``compare.kinds.pool.folds``; to a size
that divides the input: a fixed window, as torchvision VGG's ``AdaptiveAvgPool2d((7, 7))``
on a 14x14 map; to a multiple of the input: a nearest up-sampling), compare's
own ``ExcludePadAvgPool`` and the functional forms (``F.max_pool2d`` ...).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from types import SimpleNamespace
from typing import Any

from torch import fx, nn
from torch.nn import functional as F

from compare.core.registry import register_part
from compare.formulas import same_pads
from compare.importers.base import Piece, Refuse
from compare.importers.torch import arg
from compare.kinds.pool.spec import AvgPool, GlobalAvgPool, GlobalMaxPool, MaxPool
from compare.kinds.pool.torch import ExcludePadAvgPool

__all__: list[str] = []

Mapper = Callable[[Any, Piece], Piece]


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


@register_part("torch", "module", nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d)
def _max_pool(module: Any, piece: Piece) -> Piece:
    if module.return_indices:
        raise Refuse("return_indices=True returns a tuple; the spec's max pool one tensor")
    if any(d != 1 for d in _tuple(module.dilation, max(piece.in_shape.rank, 1))):
        raise Refuse(f"dilation={module.dilation}; the spec's max pool has no dilation")
    return replace(piece, layer=MaxPool(**_pool_fields(module, piece)))


@register_part("torch", "module", nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d)
def _avg_pool(module: Any, piece: Piece) -> Piece:
    if getattr(module, "divisor_override", None):
        raise Refuse(f"divisor_override={module.divisor_override}; the spec divides by the window")
    cip = bool(getattr(module, "count_include_pad", True))
    return replace(piece, layer=AvgPool(**_pool_fields(module, piece), count_include_pad=cip))


@register_part("torch", "module", ExcludePadAvgPool)
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


def _adaptive_sizes(module: Any, piece: Piece) -> tuple[int, ...]:
    rank = piece.in_shape.rank
    if rank == 0:
        raise Refuse("pools a feature vector; the spec's pools need spatial axes")
    size = module.output_size
    sizes = tuple(size) if isinstance(size, tuple | list) else (size,) * rank
    if len(sizes) != rank:
        raise Refuse(f"output_size={size} does not have one size per spatial axis")
    # None keeps that axis' size
    return tuple(n if s is None else int(s) for s, n in zip(sizes, piece.in_shape.size))


def _global_pool(kind: type) -> Mapper:
    """An adaptive pool: a global pool to size 1; a fixed window and stride ``in / out``
    where every output size divides its input's; a nearest up-sampling by ``out / in``
    where every input size divides the output's (each window then holds one element)."""
    window_kind = AvgPool if kind is GlobalAvgPool else MaxPool

    def mapper(module: Any, piece: Piece) -> Piece:
        if getattr(module, "return_indices", False):
            raise Refuse("return_indices=True returns a tuple; the spec's pools one tensor")
        size = module.output_size
        sizes = _adaptive_sizes(module, piece)
        if all(s == 1 for s in sizes):
            return replace(piece, layer=kind(keepdims=True))
        inputs = piece.in_shape.size
        if all(n % s == 0 for n, s in zip(inputs, sizes)):
            window = tuple(n // s for n, s in zip(inputs, sizes))
            return replace(piece, layer=window_kind(pool_size=window, strides=window))
        if all(s % n == 0 for n, s in zip(inputs, sizes)):
            from compare.kinds.resample.spec import Resample

            scale = tuple(s // n for n, s in zip(inputs, sizes))
            return replace(piece, layer=Resample(scale=scale, mode="nearest"))
        raise Refuse(
            f"output_size={size} from {inputs}: the adaptive windows (start floor(i*in/out), "
            "end ceil((i+1)*in/out)) differ in size or overlap, so no fixed window and "
            "stride realises them, and Keras has no adaptive pool; an adaptive pool reads "
            "exactly where each output size divides its input's (or the input's divides it)"
        )

    return mapper


register_part("torch", "module", nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d)(
    _global_pool(GlobalAvgPool)
)
register_part("torch", "module", nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d, nn.AdaptiveMaxPool3d)(
    _global_pool(GlobalMaxPool)
)


# -- functional forms (torch.fx call_function) ------------------------------------------


def _fields(node: fx.Node, names: tuple[tuple[str, Any], ...]) -> Any:
    """The traced call's arguments (after the chain value) as attributes, like a module's."""
    values = {name: arg(node, i, name, default) for i, (name, default) in enumerate(names)}
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


@register_part("torch", "function", F.max_pool1d, F.max_pool2d, F.max_pool3d)
def _fn_max_pool(node: Any, piece: Piece) -> Piece:
    return _max_pool(_fields(node, _MAX_ARGS), piece)


@register_part("torch", "function", F.avg_pool1d, F.avg_pool2d, F.avg_pool3d)
def _fn_avg_pool(node: Any, piece: Piece) -> Piece:
    return _avg_pool(_fields(node, _AVG_ARGS), piece)


def _fn_global(kind: type) -> Mapper:
    mapper = _global_pool(kind)

    def read(node: Any, piece: Piece) -> Piece:
        return mapper(_fields(node, (("output_size", None),)), piece)

    return read


register_part(
    "torch",
    "function",
    F.adaptive_avg_pool1d,
    F.adaptive_avg_pool2d,
    F.adaptive_avg_pool3d,
)(_fn_global(GlobalAvgPool))
register_part(
    "torch",
    "function",
    F.adaptive_max_pool1d,
    F.adaptive_max_pool2d,
    F.adaptive_max_pool3d,
)(_fn_global(GlobalMaxPool))
