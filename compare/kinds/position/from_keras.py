"""What the Keras importer maps to ``position_embedding``: compare's ``PositionAdd``
(Keras has no layer of its own that adds learned positions)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from compare.core.registry import register_part
from compare.importers.base import Piece
from compare.kinds.position.keras import PositionAdd
from compare.kinds.position.spec import PositionEmbedding

__all__: list[str] = []


@register_part("keras", "layer", PositionAdd)
def _position(layer: Any, piece: Piece) -> Piece:
    roles = {"embeddings": (layer, "embeddings", None)}
    return replace(piece, layer=PositionEmbedding(), roles=roles)
