"""What the torch importer maps to the channel shuffle kind: ``nn.ChannelShuffle`` and
``F.channel_shuffle``."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from torch import nn
from torch.nn import functional as F

from compare.core.registry import register_part
from compare.importers.base import Piece
from compare.importers.torch import arg
from compare.kinds.shuffle.spec import ChannelShuffle

__all__: list[str] = []


@register_part("torch", "module", nn.ChannelShuffle)
def _shuffle(module: Any, piece: Piece) -> Piece:
    return replace(piece, layer=ChannelShuffle(groups=int(module.groups)))


@register_part("torch", "function", F.channel_shuffle)
def _fn_shuffle(node: Any, piece: Piece) -> Piece:
    return replace(piece, layer=ChannelShuffle(groups=int(arg(node, 0, "groups", 1))))
