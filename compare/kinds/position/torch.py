"""PyTorch builder of ``position_embedding``: ``PositionAdd``, a module of ours holding
the (steps, features) table and adding it to a channels-first (N, features, steps)
sequence.

Example:
    >>> from compare.formulas import infer
    >>> from compare.spec import Input, Model
    >>> from compare.kinds.position.spec import PositionEmbedding
    >>> m = Model("m", Input(4, (3,)), (PositionEmbedding(),))
    >>> build_position(m.layers[0], infer(m)[0])[0].weight.shape
    torch.Size([3, 4])
"""

from __future__ import annotations

import torch
from torch import nn

from compare.adapters.base import Made, Notes
from compare.core.registry import register_part
from compare.formulas import LayerFormula
from compare.kinds.position.spec import PositionEmbedding

__all__ = ["PositionAdd", "build_position"]


class PositionAdd(nn.Module):
    """``x + weight.T``: a learned (steps, features) table added to a channels-first
    (N, features, steps) sequence; starts at N(0, 0.02), BERT's initialiser.

    Example:
        >>> m = PositionAdd(3, 2)
        >>> bool(torch.equal(m(torch.zeros(1, 2, 3))[0], m.weight.detach().T))
        True
    """

    def __init__(self, steps: int, features: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(steps, features))
        nn.init.normal_(self.weight, std=0.02)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.weight.T


@register_part("torch", "build", "position_embedding")
def build_position(layer: PositionEmbedding, formula: LayerFormula) -> Made:
    """``PositionAdd(steps, features)``, its ``weight`` the ``embeddings`` role.

    Example:
        >>> from compare.formulas import infer
        >>> from compare.spec import Input, Model
        >>> m = Model("m", Input(4, (3,)), (PositionEmbedding(),))
        >>> sorted(build_position(m.layers[0], infer(m)[0])[1])
        ['embeddings']
    """
    steps, features = formula.input.size[0], formula.input.channels
    module = PositionAdd(steps, features)
    notes: Notes = (
        (
            "layer",
            "PyTorch has no positional-embedding module: a model adds an nn.Parameter of "
            f"shape (1, {steps}, {features}) in forward; PositionAdd holds it as "
            f"({steps}, {features}) and adds its transpose to the channels-first "
            f"(N, {features}, {steps}) sequence",
        ),
    )
    return module, {"embeddings": (module, "weight")}, notes
