"""What the torch importer maps to ``position_embedding``: a model's own
``nn.Parameter`` of shape (1, steps, features) or (steps, features) added in
``forward`` to a (N, steps, features) sequence (``tokens + self.pos``, a ``get_attr``
in the traced graph), and compare's ``PositionAdd`` (channels-first).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import torch
from torch import fx, nn

from compare.core.registry import register_part
from compare.importers.base import Piece, Refuse
from compare.kinds.position.spec import PositionEmbedding
from compare.kinds.position.torch import PositionAdd

__all__ = ["Table"]


class Table:
    """The (steps, features) view of a model's positional parameter, as the weight role
    ``embeddings`` reads and writes it (a view: writing it writes the parameter).

    Example:
        >>> owner = nn.Module()
        >>> owner.pos = nn.Parameter(torch.zeros(1, 3, 2))
        >>> tuple(Table(owner, "pos", (3, 2)).weight.shape)
        (3, 2)
    """

    def __init__(self, owner: nn.Module, attr: str, shape: tuple[int, int]) -> None:
        self.owner, self.attr, self.shape = owner, attr, shape

    @property
    def weight(self) -> torch.Tensor:
        """The parameter, viewed as (steps, features)."""
        param: torch.Tensor = getattr(self.owner, self.attr)
        return param.view(self.shape)


@register_part("torch", "module", PositionAdd)
def _ours(module: Any, piece: Piece) -> Piece:
    return replace(piece, layer=PositionEmbedding(), roles={"embeddings": (module, "weight")})


@register_part("torch", "parameter", operator.add, operator.iadd, torch.add, "add", "add_")
def _added(node: Any, piece: Piece, owner: nn.Module, attr: str) -> Piece:
    """``x + self.pos``: a learned position table when the parameter has one vector per
    step of the sequence; ``Refuse`` otherwise."""
    param = getattr(owner, attr)
    shape = piece.in_shape
    if shape.rank != 1 or shape.dtype != "float":
        raise Refuse(
            f"it adds the parameter {attr!r} {tuple(param.shape)} to a tensor that is not "
            "a sequence; the spec adds learned positions to (N, steps, features) only"
        )
    steps, features = shape.size[0], shape.channels
    if tuple(param.shape) not in ((1, steps, features), (steps, features)):
        raise Refuse(
            f"it adds the parameter {attr!r} of shape {tuple(param.shape)} to a sequence "
            f"of {steps} steps of {features} features; a position table is "
            f"(1, {steps}, {features}) or ({steps}, {features})"
        )
    table = Table(owner, attr, (steps, features))
    return replace(piece, layer=PositionEmbedding(), roles={"embeddings": (table, "weight")})


@register_part("torch", "sequence_layout", "position_embedding")
def _layout(
    piece: Piece, last: bool, x: torch.Tensor, obj: Any, run: Callable[[Any], Any]
) -> tuple[Piece, bool]:
    """A model's parameter is added to (N, steps, features); ``PositionAdd`` takes the
    channels-first (N, features, steps)."""
    if isinstance(obj, fx.Node):
        if not last:
            raise Refuse(
                f"it adds a position table to a {tuple(x.shape)} tensor read channels-first; "
                "it is read on (N, steps, features) sequences"
            )
        return piece, True
    if last:
        raise Refuse("compare's PositionAdd takes channels-first (N, features, steps) tensors")
    return piece, False
