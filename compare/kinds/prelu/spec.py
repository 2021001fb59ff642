"""The prelu kind, framework-free: ``max(0, x) + alpha * min(0, x)`` with learned slopes.

``slopes`` says how many: ``"one"`` (one alpha for the whole tensor: PyTorch's default
``nn.PReLU()``), ``"channel"`` (one per channel: ``nn.PReLU(C)``, Keras'
``PReLU(shared_axes=<the spatial axes>)``) or ``"element"`` (one per element of the
sample, input_shape[1:]: Keras' default ``PReLU()``, which PyTorch cannot hold on a map).
``init`` is the slopes' starting value: PyTorch's 0.25 by default (Keras starts at 0).

Example:
    >>> from compare.core.shapes import Shape
    >>> PReLU(slopes="channel").formula((Shape(4, (5, 5)),)).params
    4
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from compare.core.layouts import WeightLayout, kernel_axes
from compare.core.registry import register_kind
from compare.core.shapes import LayerFormula, Shape, prod
from compare.core.validate import check_float, fmt
from compare.core.work import Work, elements
from compare.errors import SpecError
from compare.spec import Layer

__all__ = ["SLOPES", "PReLU"]

#: What ``slopes`` may be: one alpha, one per channel, one per element of the sample.
SLOPES = ("one", "channel", "element")


@register_kind
@dataclass(frozen=True)
class PReLU(Layer):
    """A parametric ReLU whose negative slopes are learned weights (role ``alpha``).

    Example:
        >>> PReLU().slopes, PReLU().init
        ('channel', 0.25)
    """

    slopes: str = "channel"
    init: float = 0.25
    kind: ClassVar[str] = "prelu"

    def __post_init__(self) -> None:
        if not isinstance(self.slopes, str) or self.slopes not in SLOPES:
            raise SpecError(
                f"slopes={fmt(self.slopes)} must be one of {', '.join(map(repr, SLOPES))} "
                "(one alpha, one per channel, one per element)"
            )
        init = check_float("init", self.init, -1e6, 1e6, closed_high=True)
        object.__setattr__(self, "init", init)

    def count(self, shape: Shape) -> int:
        """How many slopes the layer holds on ``shape``.

        Example:
            >>> PReLU(slopes="element").count(Shape(3, (4, 5)))
            60
        """
        if self.slopes == "one":
            return 1
        if self.slopes == "channel" or not shape.rank:
            return shape.channels
        return shape.channels * prod(shape.size)

    def work(self, formula: LayerFormula) -> Work:
        """No MACs: a comparison and a multiply per element (listed as other work, one per element).

        Example:
            >>> layer = PReLU().resolved(2)
            >>> layer.work(layer.rule(Shape(3, (2, 2)))).other
            12
        """
        return Work(0, "0", other=elements(formula.output))

    def rule(self, shape: Shape) -> LayerFormula:
        """The shape passes through; the slopes are the parameters.

        Example:
            >>> PReLU(slopes="element").rule(Shape(3, (4, 5))).expression
            'alpha 3*4*5 = 60'
        """
        n = self.count(shape)
        if self.slopes == "one":
            text = "alpha 1 = 1"
        elif self.slopes == "channel" or not shape.rank:
            text = f"alpha {shape.channels} = {n}"
        else:
            text = f"alpha {'*'.join(map(str, (shape.channels, *shape.size)))} = {n}"
        return LayerFormula(n, text, shape, shape)

    def layout(self, formula: LayerFormula, role: str) -> tuple[WeightLayout, dict[str, int]]:
        """``alpha``: PyTorch holds (1,) or (C,); Keras holds input_shape[1:] with the
        shared axes of size 1: (1, 1, 1), (1, 1, C) or (H, W, C) on a 2-d map.

        Example:
            >>> p = PReLU(slopes="channel")
            >>> lay, sizes = p.layout(p.rule(Shape(4, (5, 5))), "alpha")
            >>> lay.torch_shown, lay.keras_shown, sizes
            (('C',), ('1', '1', 'C'), {'C': 4})
        """
        if role != "alpha":
            raise KeyError(f"no layout for role {role!r} of kind {self.kind!r}")
        shape = formula.input
        ones = ("1",) * shape.rank
        if self.slopes == "one":
            return WeightLayout(("1",), ("1",), ("1",), (*ones, "1")), {"1": 1}
        if self.slopes == "channel" or not shape.rank:
            return WeightLayout(("C",), ("C",), ("C",), (*ones, "C")), {"C": shape.channels}
        s = kernel_axes(shape.rank)
        sizes = {"C": shape.channels, **dict(zip(s, shape.size))}
        return WeightLayout(("C", *s), (*s, "C"), ("C", *s), (*s, "C")), sizes
