"""What the Keras importer maps to the dropout family: ``Dropout`` (with a
``noise_shape`` of (None, 1, ..., 1) or all ones: a stochastic depth, per sample or per
batch) and ``SpatialDropout1D/2D/3D``."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import keras

from compare.core.registry import register_part
from compare.importers.base import Piece, Refuse
from compare.kinds.dropout.spec import Dropout, SpatialDropout, StochasticDepth

__all__: list[str] = []

L = keras.layers


@register_part("keras", "layer", L.Dropout)
def _dropout(layer: Any, piece: Piece) -> Piece:
    shape = getattr(layer, "noise_shape", None)
    if shape is None:
        return replace(piece, layer=Dropout(rate=float(layer.rate)))
    ones = [1] * (piece.in_shape.rank + 1)
    for mode, first in (("row", None), ("batch", 1)):
        if list(shape) == [first, *ones]:
            return replace(piece, layer=StochasticDepth(rate=float(layer.rate), mode=mode))
    raise Refuse(
        f"noise_shape={shape}; the spec's dropout drops elements, and (None, 1, ..., 1) "
        "samples (a stochastic depth)"
    )


_SPATIAL = {L.SpatialDropout1D: 1, L.SpatialDropout2D: 2, L.SpatialDropout3D: 3}


@register_part("keras", "layer", *_SPATIAL)
def _spatial(layer: Any, piece: Piece) -> Piece:
    return replace(piece, layer=SpatialDropout(rate=float(layer.rate)))
