"""The channel shuffle kind, framework-free: ShuffleNet's permutation of the channels.

With ``groups`` g over C channels, output channel ``a * g + b`` is input channel
``b * (C / g) + a``: PyTorch's ``nn.ChannelShuffle`` (and torchvision's
``x.view(n, g, C // g, h, w).transpose(1, 2).reshape(n, C, h, w)``). The reshape that
says it is written for channels-first memory; on channels-last data the same reshape
mixes spatial positions into the channels, so Keras spells the shuffle as a reshape
of the channel axis alone, a permute of the two new axes and a reshape back.

Example:
    >>> from compare.core.shapes import Shape
    >>> ChannelShuffle(groups=2).formula((Shape(4, (3, 3)),)).output == Shape(4, (3, 3))
    True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from compare.core.registry import register_kind
from compare.core.shapes import LayerFormula, Shape
from compare.core.validate import check_int
from compare.errors import SpecError
from compare.spec import Layer

__all__ = ["ChannelShuffle", "shuffle_order"]


def shuffle_order(channels: int, groups: int) -> list[int]:
    """The input channel each output channel reads.

    Example:
        >>> shuffle_order(6, 2)
        [0, 3, 1, 4, 2, 5]
    """
    per = channels // groups
    return [b * per + a for a in range(per) for b in range(groups)]


@register_kind
@dataclass(frozen=True)
class ChannelShuffle(Layer):
    """Shuffle the channels across ``groups`` (which must divide them); no weights.

    Example:
        >>> ChannelShuffle(groups=3).groups
        3
    """

    groups: int = 1
    kind: ClassVar[str] = "channel_shuffle"
    min_rank: ClassVar[int] = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "groups", check_int("groups", self.groups, 1))

    def rule(self, shape: Shape) -> LayerFormula:
        """The shape passes through; ``groups`` must divide the channels.

        Example:
            >>> ChannelShuffle(groups=4).rule(Shape(6, (2, 2)))
            Traceback (most recent call last):
            ...
            compare.errors.SpecError: groups=4 must divide the input's 6 channels
        """
        if shape.rank == 0:
            raise SpecError(
                "kind='channel_shuffle' needs spatial axes, but its input is a flat vector "
                f"of {shape.channels} features"
            )
        if shape.channels % self.groups:
            raise SpecError(
                f"groups={self.groups} must divide the input's {shape.channels} channels"
            )
        return LayerFormula(0, "0", shape, shape)
