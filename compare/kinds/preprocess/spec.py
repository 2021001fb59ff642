"""The preprocessing family, framework-free: ``rescaling`` (``x * scale + offset``) and
``normalization`` (``(x - mean) / max(sqrt(variance), 1e-7)`` per channel, Keras'
definition; ``invert`` undoes it), the first layers of keras.applications' EfficientNet.

A normalization's mean and variance are ``LayerFormula.state``: Keras keeps them as
non-trainable weights (with an integer ``count``), the PyTorch module as buffers.

Example:
    >>> from compare.core.shapes import Shape
    >>> Normalization().formula((Shape(3, (4, 4)),)).state
    6
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from compare.core.layouts import WeightLayout
from compare.core.registry import register_kind
from compare.core.shapes import LayerFormula, Shape
from compare.core.validate import check_bool, check_float
from compare.core.work import Work, elements
from compare.spec import Layer

__all__ = ["NORMALIZATION_EPSILON", "NORMALIZATION_ROLES", "Normalization", "Rescaling"]

#: The floor of the standard deviation (Keras' ``backend.epsilon()``, 1e-7 by default).
NORMALIZATION_EPSILON = 1e-7
#: The weight roles of a normalization: its statistics, per channel.
NORMALIZATION_ROLES = ("mean", "variance")


@register_kind
@dataclass(frozen=True)
class Rescaling(Layer):
    """``x * scale + offset``, element-wise (scalars; no weights).

    Example:
        >>> Rescaling(scale=1 / 255).offset
        0.0
    """

    scale: float = 1.0
    offset: float = 0.0
    kind: ClassVar[str] = "rescaling"

    def __post_init__(self) -> None:
        scale = check_float("scale", self.scale, -1e12, 1e12, closed_high=True)
        offset = check_float("offset", self.offset, -1e12, 1e12, closed_high=True)
        object.__setattr__(self, "scale", scale)
        object.__setattr__(self, "offset", offset)

    def work(self, formula: LayerFormula) -> Work:
        """No MACs: a multiply and an add per element (listed as other work, one per element).

        Example:
            >>> layer = Rescaling(scale=0.5).resolved(2)
            >>> layer.work(layer.rule(Shape(3, (2, 2)))).other
            12
        """
        return Work(0, "0", other=elements(formula.output))

    def rule(self, shape: Shape) -> LayerFormula:
        """The shape passes through; no parameters.

        Example:
            >>> Rescaling().rule(Shape(3)).params
            0
        """
        return LayerFormula(0, "0", shape, shape)


@register_kind
@dataclass(frozen=True)
class Normalization(Layer):
    """Per-channel standardisation with a stored ``mean`` and ``variance`` (state, not
    trained); ``invert`` maps standardised values back.

    Example:
        >>> Normalization(invert=True).invert
        True
    """

    invert: bool = False
    kind: ClassVar[str] = "normalization"

    def __post_init__(self) -> None:
        check_bool("invert", self.invert)

    def work(self, formula: LayerFormula) -> Work:
        """No MACs: a subtract and a divide per element (listed as other work, one per element).

        Example:
            >>> layer = Normalization().resolved(2)
            >>> layer.work(layer.rule(Shape(3, (2, 2)))).other
            12
        """
        return Work(0, "0", other=elements(formula.output))

    def rule(self, shape: Shape) -> LayerFormula:
        """No parameters; the mean and variance per channel are state. Keras also
        holds an integer ``count`` weight (for old saved models): one more parameter.

        Example:
            >>> Normalization().rule(Shape(3, (4, 4))).expression
            '0 (Keras: count 1); mean, variance 3*2 = 6'
        """
        c = shape.channels
        text = f"0 (Keras: count 1); mean, variance {c}*2 = {2 * c}"
        return LayerFormula(0, text, shape, shape, framework_params=(("keras", 1),), state=2 * c)

    def layout(self, formula: LayerFormula, role: str) -> tuple[WeightLayout, dict[str, int]]:
        """One value per channel, (C,) in both frameworks.

        Example:
            >>> n = Normalization()
            >>> n.layout(n.rule(Shape(3, (4,))), "mean")[0].keras
            ('C',)
        """
        if role not in NORMALIZATION_ROLES:
            raise KeyError(f"no layout for role {role!r} of kind {self.kind!r}")
        return WeightLayout(("C",), ("C",), ("C",), ("C",)), {"C": formula.input.channels}
