"""What the Keras importer maps to the pool kinds: ``MaxPooling*D``,
``AveragePooling*D``, ``GlobalAveragePooling*D``, ``GlobalMaxPooling*D`` and compare's
``NegInfPadding`` (the -inf padding of a max pool)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import keras

from compare.core.registry import register_part
from compare.importers.base import Piece, Refuse
from compare.importers.keras import channels_last
from compare.kinds.pool.keras import NegInfPadding
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
