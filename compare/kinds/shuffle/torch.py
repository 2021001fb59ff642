"""PyTorch builders of the shuffle family: ``nn.ChannelShuffle`` for ``channel_shuffle``,
``SliceChannels`` (``x[:, start:stop]``; ``nn`` has no slicing module) for
``channel_slice``.

Example:
    >>> from compare.kinds.shuffle.spec import ChannelShuffle
    >>> build_shuffle(ChannelShuffle(groups=2), None)[0]
    ChannelShuffle(groups=2)
"""

from __future__ import annotations

import torch
from torch import nn

from compare.adapters.base import Made
from compare.core.registry import register_part
from compare.formulas import LayerFormula
from compare.kinds.shuffle.spec import ChannelShuffle, ChannelSlice

__all__ = ["SliceChannels", "build_shuffle", "build_slice"]


@register_part("torch", "build", "channel_shuffle")
def build_shuffle(layer: ChannelShuffle, formula: LayerFormula) -> Made:
    """``nn.ChannelShuffle(groups)``.

    Example:
        >>> build_shuffle(ChannelShuffle(groups=3), None)[0].groups
        3
    """
    return nn.ChannelShuffle(layer.groups), {}, ()


class SliceChannels(nn.Module):
    """``x[:, start:stop]``: some channels of a channels-first tensor.

    Example:
        >>> SliceChannels(1, 3)(torch.arange(4.0).reshape(1, 4)).tolist()
        [[1.0, 2.0]]
    """

    def __init__(self, start: int, stop: int) -> None:
        super().__init__()
        self.start, self.stop = start, stop

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, self.start : self.stop]

    def extra_repr(self) -> str:
        return f"{self.start}, {self.stop}"


@register_part("torch", "build", "channel_slice")
def build_slice(layer: ChannelSlice, formula: LayerFormula) -> Made:
    """``SliceChannels(start, stop)``.

    Example:
        >>> build_slice(ChannelSlice(start=2, stop=5), None)[0]
        SliceChannels(2, 5)
    """
    return SliceChannels(layer.start, layer.stop), {}, ()
