"""The flatten kind, framework-free: channels and spatial axes into one feature axis.

The features come out C,*S-ordered in PyTorch and *S,C in Keras; the output ``Shape``
remembers the map (``flattened_from``) so that what follows can be ported right.

Example:
    >>> from compare.core.shapes import Shape
    >>> Flatten().formula((Shape(8, (24, 24)),)).output.channels
    4608
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from compare.core.registry import register_kind
from compare.core.shapes import LayerFormula, Shape, prod
from compare.core.work import Work
from compare.spec import Layer

__all__ = ["Flatten"]


@register_kind
@dataclass(frozen=True)
class Flatten(Layer):
    """Flatten channels and spatial axes into one feature axis.

    Example:
        >>> Flatten().to_dict()
        {'kind': 'flatten'}
    """

    kind: ClassVar[str] = "flatten"
    spellings: ClassVar[dict[str, int]] = {}

    def rule(self, shape: Shape) -> LayerFormula:
        """No parameters; a vector stays as it is.

        Example:
            >>> Flatten().rule(Shape(5)).output == Shape(5)
            True
        """
        if shape.rank == 0:
            return LayerFormula(0, "0", shape, shape)
        features = shape.channels * prod(shape.size)
        out = Shape(features, (), (shape.channels, shape.size))
        return LayerFormula(0, "0", shape, out)

    def work(self, formula: LayerFormula) -> Work:
        """A reshape: no arithmetic.

        Example:
            >>> Flatten().work(Flatten().rule(Shape(2, (3, 4)))).expression
            '0'
        """
        return Work(0, "0")
