"""PyTorch side of the merge family. ``torch.nn`` has no merge modules: each kind is a
small ``nn.Module`` whose ``forward`` takes the inputs and applies the one tensor
function PyTorch code uses for it (``torch.add``, ``torch.cat(dim=1)`` ...).

Example:
    >>> import torch
    >>> Merge("add")(torch.ones(1, 2), torch.ones(1, 2))
    tensor([[2., 2.]])
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import torch
from torch import nn

from compare.adapters.base import Made
from compare.core.registry import register_part
from compare.formulas import LayerFormula
from compare.spec import Layer

__all__ = ["FUNCTIONS", "Merge", "build_merge"]


def _average(*xs: torch.Tensor) -> torch.Tensor:
    return functools.reduce(torch.add, xs) / len(xs)


#: kind -> the tensor function of its inputs
FUNCTIONS: dict[str, Callable[..., torch.Tensor]] = {
    "add": lambda *xs: functools.reduce(torch.add, xs),
    "subtract": torch.sub,
    "multiply": lambda *xs: functools.reduce(torch.mul, xs),
    "average": _average,
    "maximum": lambda *xs: functools.reduce(torch.maximum, xs),
    "minimum": lambda *xs: functools.reduce(torch.minimum, xs),
    "concatenate": lambda *xs: torch.cat(xs, dim=1),
}


class Merge(nn.Module):
    """One merge of several tensors (``kind`` names it); broadcasting is torch's own.

    Example:
        >>> Merge("concatenate")(torch.ones(1, 2, 3), torch.ones(1, 4, 3)).shape
        torch.Size([1, 6, 3])
    """

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind
        self._function = FUNCTIONS[kind]

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        return self._function(*xs)

    def extra_repr(self) -> str:
        return "dim=1" if self.kind == "concatenate" else self.kind


@register_part("torch", "build", *FUNCTIONS)
def build_merge(layer: Layer, formula: LayerFormula) -> Made:
    """A ``Merge`` module; it holds no weights.

    Example:
        >>> from compare.kinds.merge.spec import Add
        >>> build_merge(Add(), None)[0]
        Merge(add)
    """
    return Merge(layer.kind), {}, ()
