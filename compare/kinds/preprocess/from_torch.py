"""What the torch importer maps to the preprocessing kinds: the modules of ours that
compute Keras' ``Rescaling`` and ``Normalization`` (PyTorch has no such layers)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from compare.core.registry import register_part
from compare.importers.base import Piece
from compare.kinds.preprocess import spec, torch

__all__: list[str] = []


@register_part("torch", "module", torch.Rescaling)
def _rescaling(module: Any, piece: Piece) -> Piece:
    layer = spec.Rescaling(scale=float(module.scale), offset=float(module.offset))
    return replace(piece, layer=layer)


@register_part("torch", "module", torch.Normalization)
def _normalization(module: Any, piece: Piece) -> Piece:
    found = {"mean": (module, "mean"), "variance": (module, "variance")}
    return replace(piece, layer=spec.Normalization(invert=bool(module.invert)), roles=found)
