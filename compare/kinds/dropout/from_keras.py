"""What the Keras importer maps to the dropout kind: ``Dropout``."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import keras

from compare.core.registry import register_part
from compare.importers.base import Piece, Refuse
from compare.kinds.dropout.spec import Dropout

__all__: list[str] = []


@register_part("keras", "layer", keras.layers.Dropout)
def _dropout(layer: Any, piece: Piece) -> Piece:
    if getattr(layer, "noise_shape", None) is not None:
        raise Refuse(f"noise_shape={layer.noise_shape}; the spec's dropout drops elements")
    return replace(piece, layer=Dropout(rate=float(layer.rate)))
