"""What the Keras importer maps to the shuffle family: compare's own ``SliceChannels``
(a ``channel_slice``)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from compare.core.registry import register_part
from compare.importers.base import Piece
from compare.importers.keras import channels_last
from compare.kinds.shuffle.keras import SliceChannels
from compare.kinds.shuffle.spec import ChannelSlice

__all__: list[str] = []


@register_part("keras", "layer", SliceChannels)
def _slice(layer: Any, piece: Piece) -> Piece:
    channels_last(layer)
    return replace(piece, layer=ChannelSlice(start=layer.start, stop=layer.stop))
