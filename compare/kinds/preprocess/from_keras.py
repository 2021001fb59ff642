"""What the Keras importer maps to the preprocessing kinds: ``Rescaling`` (scalar scale
and offset) and ``Normalization`` over the channels (axis -1) whose mean and variance
are weights; ``Refuse`` names what the spec cannot say."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import keras
import numpy as np

from compare.core.registry import register_part
from compare.importers.base import Piece, Refuse
from compare.kinds.preprocess.spec import Normalization, Rescaling

__all__: list[str] = []

L = keras.layers


def _scalar(name: str, value: Any) -> float:
    array = np.asarray(value, dtype=np.float64)
    if array.size != 1:
        raise Refuse(f"{name} of shape {array.shape}; the spec's rescaling takes scalars")
    return float(array.reshape(()))


@register_part("keras", "layer", L.Rescaling)
def _rescaling(layer: Any, piece: Piece) -> Piece:
    spec = Rescaling(scale=_scalar("scale", layer.scale), offset=_scalar("offset", layer.offset))
    return replace(piece, layer=spec)


@register_part("keras", "layer", L.Normalization)
def _normalization(layer: Any, piece: Piece) -> Piece:
    n = piece.in_shape.rank + 2
    if [int(a) % n for a in layer.axis] != [n - 1]:
        raise Refuse(f"axis={layer.axis}; the spec's normalization acts on the channels (-1)")
    if getattr(layer, "input_mean", None) is not None:
        raise Refuse(
            "mean and variance given as constants to the constructor (no weights to "
            "read); the spec reads them from the weights adapt() fills"
        )
    found = {"mean": (layer, "adapt_mean", None), "variance": (layer, "adapt_variance", None)}
    return replace(piece, layer=Normalization(invert=bool(layer.invert)), roles=found)
