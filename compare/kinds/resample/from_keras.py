"""What the Keras importer maps to the resample kind: ``UpSampling1D/2D/3D``,
``Resizing`` and compare's own ``TFResize2D``."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import keras

from compare.core.registry import register_part
from compare.importers.base import Piece, Refuse
from compare.importers.keras import channels_last
from compare.kinds.resample.keras import TFResize2D
from compare.kinds.resample.spec import Resample

__all__: list[str] = []

L = keras.layers


def _size(value: Any) -> Any:
    values = tuple(int(v) for v in value) if isinstance(value, tuple | list) else (int(value),)
    return values[0] if len(set(values)) == 1 else values


@register_part("keras", "layer", L.UpSampling1D, L.UpSampling2D, L.UpSampling3D)
def _upsampling(layer: Any, piece: Piece) -> Piece:
    channels_last(layer)
    interpolation = getattr(layer, "interpolation", "nearest")
    if interpolation not in ("nearest", "bilinear"):
        raise Refuse(f"interpolation={interpolation!r}; the spec resamples nearest or bilinear")
    return replace(piece, layer=Resample(scale=_size(layer.size), mode=interpolation))


@register_part("keras", "layer", L.Resizing)
def _resizing(layer: Any, piece: Piece) -> Piece:
    channels_last(layer)
    modes = {"nearest": "nearest_exact", "bilinear": "bilinear"}
    if layer.interpolation not in modes:
        raise Refuse(
            f"interpolation={layer.interpolation!r}; the spec resamples nearest or bilinear"
        )
    for flag in ("crop_to_aspect_ratio", "pad_to_aspect_ratio", "antialias"):
        if getattr(layer, flag, False):
            raise Refuse(f"{flag}=True; the spec's resample maps the whole input to the size")
    size = (int(layer.height), int(layer.width))
    return replace(piece, layer=Resample(size=size, mode=modes[layer.interpolation]))


@register_part("keras", "layer", TFResize2D)
def _tf_resize(layer: Any, piece: Piece) -> Piece:
    mode = "bilinear" if layer.method == "bilinear" else "nearest"
    corners = bool(layer.align_corners)
    if mode == "nearest" and corners:
        raise Refuse("nearest with align_corners=True; the spec's nearest modes align no corners")
    return replace(piece, layer=Resample(size=tuple(layer.size), mode=mode, align_corners=corners))
