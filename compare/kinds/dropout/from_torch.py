"""What the torch importer maps to the dropout kind: ``nn.Dropout`` and ``F.dropout``."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from torch import nn
from torch.nn import functional as F

from compare.core.registry import register_part
from compare.importers.base import Piece
from compare.importers.torch import arg
from compare.kinds.dropout.spec import Dropout

__all__: list[str] = []


@register_part("torch", "module", nn.Dropout)
def _dropout(module: Any, piece: Piece) -> Piece:
    return replace(piece, layer=Dropout(rate=float(module.p)))


@register_part("torch", "function", F.dropout)
def _fn_dropout(node: Any, piece: Piece) -> Piece:
    return replace(piece, layer=Dropout(rate=float(arg(node, 0, "p", 0.5))))
