"""What the Keras importer maps to the preprocessing kinds: ``Rescaling`` (scalar scale
and offset) and ``Normalization`` over the channels (axis -1), whose mean and variance are weights
(``adapt()``) or constants given to the constructor (keras.applications ConvNeXt and
EfficientNetV2: the ImageNet statistics), read from the tensors the built layer
computes with; ``Refuse`` names what the spec cannot say."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace
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
        return replace(piece, layer=Normalization(invert=bool(layer.invert)), roles=_given(layer))
    found = {"mean": (layer, "adapt_mean", None), "variance": (layer, "adapt_variance", None)}
    return replace(piece, layer=Normalization(invert=bool(layer.invert)), roles=found)


def _given(layer: Any) -> dict[str, Any]:
    """The roles of a normalization built from constants: Keras keeps no weight, only
    the tensors ``build`` broadcast to (1, ..., 1, channels); they are read as they are,
    one value per channel, through variables that hold them."""
    if not getattr(layer, "built", False) or getattr(layer, "mean", None) is None:
        raise Refuse("a normalization given constants that was never built: no mean to read")
    held: dict[str, Any] = {}
    for role in ("mean", "variance"):
        value = np.asarray(keras.ops.convert_to_numpy(getattr(layer, role)))
        channels = value.shape[-1]
        if value.size != channels:
            raise Refuse(
                f"{role} of shape {value.shape}; the spec's normalization holds one per channel"
            )
        held[role] = keras.Variable(value.reshape(channels), trainable=False, name=role)
    holder = SimpleNamespace(**held)
    return {role: (holder, role, None) for role in held}
