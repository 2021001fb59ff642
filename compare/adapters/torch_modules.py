"""PyTorch helpers several families' builders share: small ``nn`` modules that move an
axis or crop, and the zero-pad classes with the argument order they want.

Example:
    >>> ZERO_PAD[2](zero_pad_arg(((0, 1), (2, 3)))).padding
    (2, 3, 0, 1)
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["ZERO_PAD", "Crop", "MoveAxis", "zero_pad_arg"]

#: rank -> the zero-pad class of that rank
ZERO_PAD: dict[int, type[nn.Module]] = {1: nn.ZeroPad1d, 2: nn.ZeroPad2d, 3: nn.ZeroPad3d}


def zero_pad_arg(pads: tuple[tuple[int, int], ...]) -> tuple[int, ...]:
    """(before, after) per axis as ``nn.ZeroPadNd`` / ``F.pad`` want them: last axis first.

    Example:
        >>> zero_pad_arg(((0, 1), (2, 3)))
        (2, 3, 0, 1)
    """
    out: list[int] = []
    for before, after in reversed(pads):
        out += [before, after]
    return tuple(out)


class MoveAxis(nn.Module):
    """Move one axis (``torch.movedim``): lets ``nn.Linear`` act on the channel axis.

    Example:
        >>> MoveAxis(1, -1)(torch.zeros(2, 3, 5)).shape
        torch.Size([2, 5, 3])
    """

    def __init__(self, source: int, destination: int) -> None:
        super().__init__()
        self.source, self.destination = source, destination

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.movedim(x, self.source, self.destination)

    def extra_repr(self) -> str:
        return f"{self.source}, {self.destination}"


class Crop(nn.Module):
    """Crop (start, end) elements from each spatial axis of a channels-first tensor.

    Example:
        >>> Crop(((0, 1), (1, 1)))(torch.zeros(1, 2, 5, 5)).shape
        torch.Size([1, 2, 4, 3])
    """

    def __init__(self, crops: tuple[tuple[int, int], ...]) -> None:
        super().__init__()
        self.crops = crops

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        index: list[slice] = [slice(None), slice(None)]
        index += [slice(a, x.shape[2 + i] - b) for i, (a, b) in enumerate(self.crops)]
        return x[tuple(index)]

    def extra_repr(self) -> str:
        return f"crops={self.crops}"
