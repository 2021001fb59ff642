"""What the torch importer maps to the embedding kind: ``nn.Embedding``, whose output
is a (N, steps, features) sequence (the layout a ``batch_first`` RNN takes)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import torch
from torch import nn

from compare.core.registry import register_part
from compare.importers.base import Piece, Refuse
from compare.kinds.embedding.spec import Embedding

__all__: list[str] = []


@register_part("torch", "module", nn.Embedding)
def _embedding(module: Any, piece: Piece) -> Piece:
    options = {
        "padding_idx": (
            module.padding_idx,
            "the row it names gets no gradient (and starts at zero); the spec's embedding "
            "trains every row",
        ),
        "max_norm": (
            module.max_norm,
            "rows are renormalised in place at lookup; the spec's embedding returns them as "
            "they are",
        ),
    }
    for field, (value, why) in options.items():
        if value is not None:
            raise Refuse(f"{field}={value}: {why}")
    if module.scale_grad_by_freq:
        raise Refuse("scale_grad_by_freq=True changes training; the spec's embedding has no such")
    layer = Embedding(input_dim=module.num_embeddings, output_dim=module.embedding_dim)
    return replace(piece, layer=layer, roles={"embeddings": (module, "weight")})


@register_part("torch", "sequence_layout", "embedding")
def _layout(
    piece: Piece, last: bool, x: torch.Tensor, obj: Any, run: Callable[[Any], Any]
) -> tuple[Piece, bool]:
    """An embedding returns (N, steps, features)."""
    return piece, True
