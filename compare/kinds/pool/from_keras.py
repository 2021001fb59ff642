"""What the Keras importer maps to the pool kinds: ``MaxPooling*D``,
``AveragePooling*D``, ``GlobalAveragePooling*D``, ``GlobalMaxPooling*D`` and compare's
``NegInfPadding`` (the -inf padding of a max pool) and ``MaskedAveragePooling`` (an
average with PyTorch's divisor: ``ceil_mode``, explicit padding left out)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import keras

from compare.core.registry import register_part
from compare.core.shapes import pool_output_size
from compare.importers.base import Piece, Refuse
from compare.importers.keras import channels_last
from compare.kinds.pool.keras import MaskedAveragePooling, NegInfPadding
from compare.kinds.pool.spec import AvgPool, GlobalAvgPool, GlobalMaxPool, MaxPool

__all__: list[str] = []

L = keras.layers


def _pool(kind: type) -> Callable[[Any, Piece], Piece]:
    def mapper(layer: Any, piece: Piece) -> Piece:
        channels_last(layer)
        if layer.padding not in ("valid", "same"):
            raise Refuse(f"padding={layer.padding!r}; Keras pools pad 'valid' or 'same'")
        spec = kind(
            pool_size=tuple(layer.pool_size),
            strides=tuple(layer.strides),
            padding=str(layer.padding),
        )
        return replace(piece, layer=spec)

    return mapper


def _global_pool(kind: type) -> Callable[[Any, Piece], Piece]:
    def mapper(layer: Any, piece: Piece) -> Piece:
        channels_last(layer)
        return replace(piece, layer=kind(keepdims=bool(layer.keepdims)))

    return mapper


register_part("keras", "layer", L.MaxPooling1D, L.MaxPooling2D, L.MaxPooling3D)(_pool(MaxPool))
register_part("keras", "layer", L.AveragePooling1D, L.AveragePooling2D, L.AveragePooling3D)(
    _pool(AvgPool)
)
register_part(
    "keras",
    "layer",
    L.GlobalAveragePooling1D,
    L.GlobalAveragePooling2D,
    L.GlobalAveragePooling3D,
)(_global_pool(GlobalAvgPool))
register_part("keras", "layer", L.GlobalMaxPooling1D, L.GlobalMaxPooling2D, L.GlobalMaxPooling3D)(
    _global_pool(GlobalMaxPool)
)


@register_part("keras", "layer", NegInfPadding)
def _neg_inf_padding(layer: Any, piece: Piece) -> Piece:
    """compare's own -inf padding: explicit padding a max pool after it takes in."""
    return replace(piece, pad=tuple(tuple(p) for p in layer.pads), pad_value=float("-inf"))


@register_part("keras", "layer", MaskedAveragePooling)
def _masked_average(layer: Any, piece: Piece) -> Piece:
    """compare's own average with PyTorch's divisor: the zero padding before the end is
    the spec's padding, any more after the end is ``ceil_mode``'s last window, and the
    counted padding says ``count_include_pad``."""
    channels_last(layer)
    size, pads, counted = piece.in_shape.size, layer.pads, layer.counted
    before = tuple(a for a, _ in pads)
    ceil = any(b != a for a, b in pads)
    for n, k, s, (a, b) in zip(size, layer.pool_size, layer.strides, pads):
        if (
            b < a
            or 2 * a > k
            or pool_output_size(n, k, s, (a, a), ceil) != (n + a + b - k) // s + 1
        ):
            raise Refuse(
                f"pads {pads} are not PyTorch's padding {before} with or without ceil_mode"
            )
    include = any(a or b for a, b in counted)
    if include and tuple(counted) != tuple((a, a) for a in before):
        raise Refuse(f"counted padding {counted} is neither none nor the padding {before}")
    spec = AvgPool(
        pool_size=tuple(layer.pool_size),
        strides=tuple(layer.strides),
        padding=before if any(before) else "valid",
        ceil_mode=ceil,
        count_include_pad=include,
    )
    return replace(piece, layer=spec)
