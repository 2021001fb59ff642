"""The work a layer does in one forward pass at batch 1, by the spec alone.

The convention: a multiply-add (``y += w * x``) is one MAC, and a framework's FLOP
counter counts it as two FLOPs. Bias adds, activation functions and the other
element-wise work (a norm's affine, a pool's comparisons or sums, a merge's
element-wise op) are counted apart, one per output element they touch, because the
frameworks' counters disagree on them: TensorFlow's profiler counts a ``BiasAdd``
as one FLOP per element, PyTorch's ``FlopCounterMode`` counts neither bias adds nor
activations. The MACs are the independent oracle both counters are held to.

Example:
    >>> w = Work(243_360, "40*26*26*(3*3*1) = 243360", bias_adds=27_040)
    >>> w.flops, w.flops + w.bias_adds
    (486720, 513760)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from compare.core.shapes import Shape, prod

__all__ = ["Work", "elements", "product_text"]


def elements(shape: Shape) -> int:
    """Elements of one activation at batch 1 (token ids: one per step).

    Example:
        >>> elements(Shape(40, (26, 26)))
        27040
    """
    if shape.dtype == "int":
        return prod(shape.size)
    return shape.channels * prod(shape.size)


def product_text(factors: Sequence[int]) -> str:
    """``a*b*c`` for a product written out in an expression.

    Example:
        >>> product_text((40, 26, 26))
        '40*26*26'
    """
    return "*".join(str(f) for f in factors) or "1"


@dataclass(frozen=True)
class Work:
    """MACs (multiply-adds) of one layer at batch 1, with the bias adds, activations
    and other element-wise operations listed apart; ``expression`` writes the MACs out.

    Example:
        >>> Work(46_080, "10*4608 = 46080", bias_adds=10).to_dict()["macs"]
        46080
    """

    macs: int
    expression: str
    bias_adds: int = 0
    activations: int = 0
    other: int = 0

    @property
    def flops(self) -> int:
        """Two FLOPs per MAC: what a counter that counts only the multiply-adds reports.

        Example:
            >>> Work(3, "3").flops
            6
        """
        return 2 * self.macs

    def plus(self, *, activations: int = 0) -> Work:
        """This work with ``activations`` more activation evaluations (a layer's own
        ``activation`` field applied to its output).

        Example:
            >>> Work(4, "4").plus(activations=2).activations
            2
        """
        return Work(
            self.macs, self.expression, self.bias_adds, self.activations + activations, self.other
        )

    def scaled(self, batch: int) -> Work:
        """The same work for ``batch`` samples: every count times ``batch``, the
        expression prefixed with ``batch*`` (every kind's work is per sample).

        Example:
            >>> Work(46_080, "10*4608 = 46080", bias_adds=10).scaled(8).expression
            '8*10*4608 = 368640'
        """
        if batch == 1:
            return self
        text, sep, _ = self.expression.rpartition(" = ")
        head = text if sep else self.expression
        lhs = head if head.replace("*", "").isdigit() else f"({head})"
        return Work(
            self.macs * batch,
            f"{batch}*{lhs} = {self.macs * batch}",
            self.bias_adds * batch,
            self.activations * batch,
            self.other * batch,
        )

    def to_dict(self) -> dict[str, int | str]:
        """JSON-ready form."""
        return {
            "macs": self.macs,
            "expression": self.expression,
            "bias_adds": self.bias_adds,
            "activations": self.activations,
            "other": self.other,
        }
