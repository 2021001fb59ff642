"""What the Keras importer maps to the norm kinds: ``BatchNormalization`` (whose
``momentum`` is one minus the spec's), ``LayerNormalization``, ``GroupNormalization``;
``Refuse`` names what the spec cannot say."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import keras

from compare.core.registry import register_part
from compare.importers.base import Piece, Refuse
from compare.importers.keras import roles
from compare.kinds.norm.spec import BatchNorm, GroupNorm, LayerNorm

__all__: list[str] = []

L = keras.layers


def _last_axis(layer: Any, piece: Piece, what: str) -> None:
    axis = layer.axis
    axes = list(axis) if isinstance(axis, list | tuple) else [axis]
    n = piece.in_shape.rank + 2
    if [int(a) % n for a in axes] != [n - 1]:
        raise Refuse(f"axis={axis}; the spec's {what} normalises the channels (axis=-1)")


@register_part("keras", "layer", L.BatchNormalization)
def _batch_norm(layer: Any, piece: Piece) -> Piece:
    _last_axis(layer, piece, "batch norm")
    if getattr(layer, "renorm", False):
        raise Refuse("renorm=True (batch renormalisation) has no spec")
    spec = BatchNorm(
        momentum=round(1.0 - float(layer.momentum), 12),
        epsilon=float(layer.epsilon),
        center=bool(layer.center),
        scale=bool(layer.scale),
    )
    found = roles(
        layer,
        gamma="gamma",
        beta="beta",
        moving_mean="moving_mean",
        moving_variance="moving_variance",
    )
    return replace(piece, layer=spec, roles=found)


@register_part("keras", "layer", L.LayerNormalization)
def _layer_norm(layer: Any, piece: Piece) -> Piece:
    if getattr(layer, "rms_scaling", False):
        raise Refuse("rms_scaling=True (an RMS norm) has no spec")
    axis, rank = layer.axis, piece.in_shape.rank
    listed = axis if isinstance(axis, list | tuple) else [axis]
    axes = sorted(int(a) % (rank + 2) for a in listed)
    if axes == [rank + 1]:
        name = "channels"
    elif axes == list(range(1, rank + 2)):
        name = "all"
    else:
        raise Refuse(f"axis={axis}; the spec normalises the channels or all non-batch axes")
    spec = LayerNorm(
        axes=name, epsilon=float(layer.epsilon), center=bool(layer.center), scale=bool(layer.scale)
    )
    return replace(piece, layer=spec, roles=roles(layer, gamma="gamma", beta="beta"))


@register_part("keras", "layer", L.GroupNormalization)
def _group_norm(layer: Any, piece: Piece) -> Piece:
    _last_axis(layer, piece, "group norm")
    spec = GroupNorm(
        groups=int(layer.groups),
        epsilon=float(layer.epsilon),
        center=bool(layer.center),
        scale=bool(layer.scale),
    )
    return replace(piece, layer=spec, roles=roles(layer, gamma="gamma", beta="beta"))
