"""The dropout kind, framework-free: inverted dropout, the identity in inference.

Example:
    >>> from compare.core.shapes import Shape
    >>> Dropout(rate=0.5).formula((Shape(8),)).params
    0
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from compare.core.registry import register_kind
from compare.core.shapes import LayerFormula, Shape
from compare.core.validate import check_float
from compare.core.work import Work
from compare.spec import Layer

__all__ = ["Dropout"]


@register_kind
@dataclass(frozen=True)
class Dropout(Layer):
    """Inverted dropout of ``rate`` in [0, 1): the identity in inference.

    Example:
        >>> Dropout(rate=0.5).rate
        0.5
    """

    rate: float = 0.5
    kind: ClassVar[str] = "dropout"
    field_aliases: ClassVar[dict[str, str]] = {"p": "rate"}
    inference_identity: ClassVar[bool] = True

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "rate", check_float("rate", self.rate, 0.0, 1.0, closed_high=False)
        )

    def rule(self, shape: Shape) -> LayerFormula:
        """The shape passes through; no parameters.

        Example:
            >>> Dropout().rule(Shape(3, (4,))).output == Shape(3, (4,))
            True
        """
        return LayerFormula(0, "0", shape, shape)

    def work(self, formula: LayerFormula) -> Work:
        """The identity at inference: no arithmetic.

        Example:
            >>> Dropout().work(Dropout().rule(Shape(3, (4,)))).macs
            0
        """
        return Work(0, "0")
