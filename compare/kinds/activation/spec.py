"""The activation kind, framework-free: an element-wise (softmax: channel-wise) function.

Conventions: ``negative_slope`` of ``leaky_relu`` defaults to 0.01 (PyTorch's default;
Keras' ``LeakyReLU`` layer uses 0.3), ``alpha`` of ``elu`` to 1.0, ``softmax`` acts on
the channel axis, ``gelu`` is the exact erf form and ``gelu_tanh`` the tanh
approximation. The names are ``compare.core.validate.ACTIVATIONS``, shared with the
``activation`` field of the conv and dense kinds.

Example:
    >>> from compare.core.shapes import Shape
    >>> Activation(activation="relu").formula((Shape(3, (4,)),)).params
    0
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from compare.core.registry import register_kind
from compare.core.shapes import LayerFormula, Shape
from compare.core.validate import check_activation, check_float
from compare.core.work import Work, elements
from compare.spec import Layer

__all__ = ["Activation"]


@register_kind
@dataclass(frozen=True)
class Activation(Layer):
    """An element-wise (softmax: channel-wise) activation as a layer of its own.

    Example:
        >>> Activation(activation="leaky_relu").negative_slope
        0.01
    """

    activation: str = "relu"
    negative_slope: float = 0.01
    alpha: float = 1.0
    kind: ClassVar[str] = "activation"

    def __post_init__(self) -> None:
        object.__setattr__(self, "activation", check_activation("activation", self.activation))
        slope = check_float("negative_slope", self.negative_slope, 0.0, 1e6, closed_high=True)
        alpha = check_float("alpha", self.alpha, 0.0, 1e6, closed_high=True)
        object.__setattr__(self, "negative_slope", slope)
        object.__setattr__(self, "alpha", alpha)

    def rule(self, shape: Shape) -> LayerFormula:
        """The shape passes through; no parameters.

        Example:
            >>> Activation().rule(Shape(5)).output == Shape(5)
            True
        """
        return LayerFormula(0, "0", shape, shape)

    def work(self, formula: LayerFormula) -> Work:
        """No MACs; one activation evaluation per element.

        Example:
            >>> Activation().work(Activation().rule(Shape(5, (2,)))).activations
            10
        """
        return Work(0, "0", activations=elements(formula.output))
