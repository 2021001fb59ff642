"""What the Keras importer maps to the dense kind: ``Dense``."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import keras

from compare.core.registry import register_part
from compare.importers.base import Piece
from compare.importers.keras import channels_last, roles
from compare.kinds.dense.spec import Dense

__all__: list[str] = []


@register_part("keras", "layer", keras.layers.Dense)
def _dense(layer: Any, piece: Piece) -> Piece:
    channels_last(layer)
    spec = Dense(units=layer.units, use_bias=bool(layer.use_bias))
    return replace(piece, layer=spec, roles=roles(layer, kernel="kernel", bias="bias"))
