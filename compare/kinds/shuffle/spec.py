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
from compare.core.work import Work
from compare.errors import SpecError
from compare.spec import Layer

__all__ = ["ChannelShuffle", "ChannelSlice", "shuffle_order"]


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

    def work(self, formula: LayerFormula) -> Work:
        """A permutation of the channels: no arithmetic.

        Example:
            >>> c = ChannelShuffle(groups=2)
            >>> c.work(c.rule(Shape(4, (2, 2)))).macs
            0
        """
        return Work(0, "0")


@register_kind
@dataclass(frozen=True)
class ChannelSlice(Layer):
    """Channels ``start`` to ``stop`` (stop excluded) of the input, spatial axes untouched:
    one part of ShuffleNetV2's ``x.chunk(2, dim=1)``; no weights.

    Example:
        >>> ChannelSlice(start=2, stop=4).rule(Shape(6, (3, 3))).output == Shape(2, (3, 3))
        True
    """

    start: int = 0
    stop: int = 1
    kind: ClassVar[str] = "channel_slice"

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", check_int("start", self.start, 0))
        object.__setattr__(self, "stop", check_int("stop", self.stop, 1))
        if self.stop <= self.start:
            raise SpecError(
                f"stop={self.stop} must be greater than start={self.start} (a slice holds "
                "at least one channel)"
            )

    def rule(self, shape: Shape) -> LayerFormula:
        """``stop - start`` channels; ``stop`` must be within the input's channels.

        Example:
            >>> ChannelSlice(start=0, stop=8).rule(Shape(6, (2, 2)))
            Traceback (most recent call last):
            ...
            compare.errors.SpecError: stop=8 must be at most the input's 6 channels
        """
        if self.stop > shape.channels:
            raise SpecError(
                f"stop={self.stop} must be at most the input's {shape.channels} channels"
            )
        return LayerFormula(0, "0", shape, Shape(self.stop - self.start, shape.size))

    def work(self, formula: LayerFormula) -> Work:
        """A view of some channels: no arithmetic.

        Example:
            >>> c = ChannelSlice(start=0, stop=2)
            >>> c.work(c.rule(Shape(4, (2, 2)))).macs
            0
        """
        return Work(0, "0")
