"""What the Keras importer maps to the embedding kind: ``Embedding`` (and the range of
token ids it takes, which the importer's probe stays below)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import keras

from compare.core.registry import register_part
from compare.importers.base import Piece, Refuse
from compare.kinds.embedding.spec import Embedding

__all__: list[str] = []


@register_part("keras", "layer", keras.layers.Embedding)
def _embedding(layer: Any, piece: Piece) -> Piece:
    if layer.mask_zero:
        raise Refuse(
            "mask_zero=True makes id 0 a mask that later layers skip; the spec's embedding "
            "treats id 0 as an ordinary row"
        )
    spec = Embedding(input_dim=int(layer.input_dim), output_dim=int(layer.output_dim))
    return replace(piece, layer=spec, roles={"embeddings": (layer, "embeddings", None)})


@register_part("keras", "id_range", keras.layers.Embedding)
def _id_range(layer: Any) -> int:
    """An embedding takes ids below its vocabulary, ``input_dim``."""
    return int(layer.input_dim)
