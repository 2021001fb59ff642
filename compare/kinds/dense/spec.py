"""The dense kind, framework-free: a fully connected layer on the channel axis.

On a feature map it acts on the channels at every position (a 1x1 conv). After a
Flatten of a (C, *S) map its input features are ordered C,*S in PyTorch and *S,C in
Keras, so its kernel's input axis is split by the layout into those labels and a port
permutes the rows (``compare.naive`` measures what skipping that costs).

Example:
    >>> from compare.core.shapes import Shape
    >>> Dense(units=10).resolved(0).formula((Shape(1152),)).expression
    '10*1152+10 = 11530'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from compare.core.layouts import WeightLayout, flattened_features
from compare.core.registry import register_kind
from compare.core.shapes import LayerFormula, Shape, prod
from compare.core.validate import check_activation, check_bool, check_int
from compare.core.work import Work, elements, product_text
from compare.spec import Layer

__all__ = ["Dense", "dense_weight_layout"]


def dense_weight_layout(role: str, *, flattened: int = 0) -> WeightLayout:
    """The layout of a dense ``role``; ``flattened`` is the spatial rank of the map a
    Flatten turned into its input (0: the input was not flattened from a map).

    Example:
        >>> dense_weight_layout("kernel", flattened=2).torch
        ('O', 'C', 'H', 'W')
    """
    if role == "bias":
        return WeightLayout(("O",), ("O",), ("O",), ("O",))
    if role != "kernel":
        raise KeyError(f"no layout for role {role!r} of kind 'dense'")
    plain = WeightLayout(("O", "I"), ("I", "O"), ("O", "I"), ("I", "O"))
    return flattened_features(plain, flattened) if flattened else plain


@register_kind
@dataclass(frozen=True)
class Dense(Layer):
    """A fully connected layer acting on the channel (feature) axis.

    Example:
        >>> Dense(units=10, use_bias=False).use_bias
        False
    """

    units: int = 0
    use_bias: bool = True
    activation: str = "linear"
    kind: ClassVar[str] = "dense"
    post_activation: ClassVar[bool] = True

    def __post_init__(self) -> None:
        check_int("units", self.units, 1)
        check_bool("use_bias", self.use_bias)
        object.__setattr__(self, "activation", check_activation("activation", self.activation))

    @classmethod
    def weight_layout(
        cls, role: str, rank: int, *, groups: int = 1, flattened: int = 0
    ) -> WeightLayout:
        """The layout of ``role`` (``compare.layouts.weight_layout``; ``rank`` is unused:
        a dense layer's kernel has no spatial axes).

        Example:
            >>> Dense.weight_layout("kernel", 0).torch
            ('O', 'I')
        """
        return dense_weight_layout(role, flattened=flattened)

    def rule(self, shape: Shape) -> LayerFormula:
        """``units*features + units``; the spatial axes, if any, are kept.

        Example:
            >>> Dense(units=2).rule(Shape(3, (5,))).output.size
            (5,)
        """
        n = shape.channels
        params = self.units * n + (self.units if self.use_bias else 0)
        text = f"{self.units}*{n}" + (f"+{self.units}" if self.use_bias else "")
        return LayerFormula(params, f"{text} = {params}", shape, Shape(self.units, shape.size))

    def work(self, formula: LayerFormula) -> Work:
        """``units*features`` at every position (one on a vector).

        Example:
            >>> d = Dense(units=10).resolved(0)
            >>> d.work(d.rule(Shape(4608))).expression
            '10*4608 = 46080'
        """
        x = formula.input
        macs = self.units * x.channels * prod(x.size)
        text = product_text((self.units, x.channels, *x.size))
        bias = elements(formula.output) if self.use_bias else 0
        return Work(macs, f"{text} = {macs}", bias_adds=bias)

    def layout(self, formula: LayerFormula, role: str) -> tuple[WeightLayout, dict[str, int]]:
        """Kernel (O, I) in PyTorch, (I, O) in Keras (after a Flatten, ``Layer.laid_out``
        splits I into the map's C,*S); bias (O,).

        Example:
            >>> d = Dense(units=10).resolved(0)
            >>> d.laid_out(d.rule(Shape(12, (), (3, (2, 2)))), "kernel")[1]
            {'O': 10, 'C': 3, 'H': 2, 'W': 2}
        """
        layout = dense_weight_layout(role)
        out_c = formula.output.channels
        if role == "bias":
            return layout, {"O": out_c}
        return layout, {"O": out_c, "I": formula.input.channels}
