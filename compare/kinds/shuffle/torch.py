"""PyTorch builder of the ``channel_shuffle`` kind: ``nn.ChannelShuffle``.

Example:
    >>> from compare.kinds.shuffle.spec import ChannelShuffle
    >>> build_shuffle(ChannelShuffle(groups=2), None)[0]
    ChannelShuffle(groups=2)
"""

from __future__ import annotations

from torch import nn

from compare.adapters.base import Made
from compare.core.registry import register_part
from compare.formulas import LayerFormula
from compare.kinds.shuffle.spec import ChannelShuffle

__all__ = ["build_shuffle"]


@register_part("torch", "build", "channel_shuffle")
def build_shuffle(layer: ChannelShuffle, formula: LayerFormula) -> Made:
    """``nn.ChannelShuffle(groups)``.

    Example:
        >>> build_shuffle(ChannelShuffle(groups=3), None)[0].groups
        3
    """
    return nn.ChannelShuffle(layer.groups), {}, ()
