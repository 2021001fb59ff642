"""What the torch importer maps to the flatten kind: ``nn.Flatten``, ``torch.flatten``
and a reshape that keeps the batch axis and merges all others (``x.view(x.size(0), -1)``).
Any other reshape is refused, unless a family registered ``("torch", "reshape_op",
name)`` reads it as part of its own layer (the channel shuffle: torchvision's
``view``, ``transpose``, ``contiguous``, ``view``).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import torch
from torch import fx, nn

from compare.core import registry
from compare.core.registry import register_part
from compare.importers.base import Piece, Refuse
from compare.kinds.flatten.spec import Flatten
from compare.spec import prod

__all__: list[str] = []


def _flatten_dims(start: int, end: int) -> None:
    if start != 1 or end != -1:
        raise Refuse(
            f"flattens dims {start}..{end}; the spec's flatten keeps the batch axis and "
            "flattens all others (start_dim=1, end_dim=-1)"
        )


@register_part("torch", "module", nn.Flatten)
def _flatten(module: Any, piece: Piece) -> Piece:
    _flatten_dims(module.start_dim, module.end_dim)
    return replace(piece, layer=Flatten())


@register_part("torch", "function", torch.flatten, "flatten")
def _fn_flatten(node: fx.Node, piece: Piece) -> Piece:
    args: list[Any] = list(node.args[1:])
    start: Any = node.kwargs.get("start_dim", args[0] if args else 0)
    end: Any = node.kwargs.get("end_dim", args[1] if len(args) > 1 else -1)
    _flatten_dims(start, end)
    return replace(piece, layer=Flatten())


@register_part("torch", "function", torch.reshape, "view", "reshape")
def _fn_reshape(node: fx.Node, piece: Piece) -> Piece:
    """``x.view(x.size(0), -1)`` and the like: a flatten when it keeps the batch axis and
    merges all others (a row-major reshape orders them C, *size, as ``nn.Flatten`` does)."""
    inp, out = piece.in_shape, piece.out_shape
    features = inp.channels * prod(inp.size)
    if out.size or out.channels != features:
        for read_reshape in registry.parts("torch", "reshape_op", families=()).values():
            read_piece = read_reshape(node, piece)
            if read_piece is not None:
                return read_piece
        raise Refuse(
            f"reshapes {inp.torch()[1:]} to {out.torch()[1:]}; only a reshape to "
            f"(batch, {features}) is read, as a flatten"
        )
    return replace(piece, layer=Flatten())
