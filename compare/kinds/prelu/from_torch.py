"""What the torch importer maps to the prelu kind: ``nn.PReLU`` (one slope or one per
channel; its weight travels as ``alpha``)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

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
