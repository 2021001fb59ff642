"""What the Keras importer maps to the flatten kind: ``Flatten`` and a ``Reshape`` that
merges every non-batch axis."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import keras

from compare.core.registry import register_part
from compare.importers.base import Piece, Refuse
from compare.importers.keras import channels_last
from compare.kinds.flatten.spec import Flatten
from compare.spec import prod

__all__: list[str] = []


@register_part("keras", "layer", keras.layers.Flatten)
def _flatten(layer: Any, piece: Piece) -> Piece:
    channels_last(layer)
    return replace(piece, layer=Flatten())


@register_part("keras", "layer", keras.layers.Reshape)
def _reshape(layer: Any, piece: Piece) -> Piece:
    """``Reshape((-1,))`` and the like: a flatten when it merges every non-batch axis
    (a row-major reshape orders them *size, C, as ``Flatten`` does)."""
    inp, out = piece.in_shape, piece.out_shape
    features = inp.channels * prod(inp.size)
    if not inp.size and out.channels == inp.channels and out.size and set(out.size) == {1}:
        return replace(piece, expand=len(out.size))  # (C,) -> (1, 1, C): see the pools
    if out.size or out.channels != features:
        raise Refuse(
            f"reshapes {inp.keras()[1:]} to {out.keras()[1:]}; only a reshape to "
            f"({features},) is read, as a flatten"
        )
    return replace(piece, layer=Flatten())
