"""What the torch importer maps to the prelu kind: ``nn.PReLU`` (one slope or one per
channel; its weight travels as ``alpha``) and ``F.prelu(x, weight)`` with a parameter of
the model as the slopes."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from compare.core.registry import register_part
from compare.importers.base import Piece, Refuse
from compare.importers.torch import roles
from compare.kinds.prelu.spec import PReLU

__all__: list[str] = []


@register_part("torch", "module", nn.PReLU)
def _prelu(module: Any, piece: Piece) -> Piece:
    n, channels = int(module.num_parameters), piece.in_shape.channels
    if n != 1 and n != channels:
        raise Refuse(f"num_parameters={n} on {channels} channels; nn.PReLU needs 1 or C")
    spec = PReLU(slopes="one" if n == 1 else "channel", init=float(module.init))
    return replace(piece, layer=spec, roles=roles(module, alpha="weight"))


@register_part("torch", "parameter", *{F.prelu, torch.prelu})
def _functional(node: Any, piece: Piece, owner: nn.Module, attr: str) -> Piece:
    """``F.prelu(x, self.weight)``: the slopes are the model's own parameter, one or one
    per channel, as ``nn.PReLU`` holds them."""
    weight = getattr(owner, attr)
    channels = piece.in_shape.channels
    if weight.dim() != 1 or int(weight.numel()) not in (1, channels):
        raise Refuse(
            f"F.prelu with the parameter {attr!r} of shape {tuple(weight.shape)} on "
            f"{channels} channels; the spec's prelu holds (1,) or ({channels},) slopes"
        )
    spec = PReLU(slopes="one" if int(weight.numel()) == 1 else "channel")
    return replace(piece, layer=spec, roles={"alpha": (owner, attr)})
