"""The merge family, framework-free: ``add``, ``subtract``, ``multiply``, ``average``,
``maximum``, ``minimum`` (element-wise over two or more inputs) and ``concatenate``
(on the channel axis).

Broadcasting is allowed where both frameworks broadcast the same way: inputs of the same
rank whose every axis (channels and each spatial axis) is equal or 1, as in a
squeeze-excitation block, ``(N, C, 1, 1) * (N, C, H, W)`` in PyTorch and
``(N, 1, 1, C) * (N, H, W, C)`` in Keras. A flat vector against a map is refused: the
frameworks align trailing axes, which are the spatial ones in PyTorch and the channels
in Keras, so they would compute different things.

``concatenate`` joins the channel axis, the layout-neutral one: dim 1 in PyTorch, -1 in
Keras; the other axes must agree.

Example:
    >>> from compare.core.shapes import Shape
    >>> Add().formula((Shape(8, (4, 4)), Shape(8, (4, 4)))).output
    Shape(channels=8, size=(4, 4), flattened_from=None, dtype='float')
    >>> Concatenate().formula((Shape(8, (4, 4)), Shape(16, (4, 4)))).output.channels
    24
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from compare.core.registry import register_kind
from compare.core.shapes import LayerFormula, Shape
from compare.core.work import Work, elements
from compare.errors import SpecError
from compare.spec import Layer

__all__ = ["Add", "Average", "Concatenate", "Maximum", "Minimum", "Multiply", "Subtract"]


def _text(shape: Shape) -> str:
    if shape.dtype == "int":
        return f"{shape.size[0]} token ids"
    return "x".join(str(n) for n in (shape.channels, *shape.size))


def _check_floats(kind: str, inputs: tuple[Shape, ...]) -> None:
    for index, shape in enumerate(inputs):
        if shape.dtype != "float":
            raise SpecError(
                f"kind='{kind}' merges float activations, but input {index} is a sequence "
                "of integer token ids"
            )


@dataclass(frozen=True)
class _Merge(Layer):
    """Element-wise merges: two or more inputs of one shape (or broadcastable to it)."""

    #: At least this many inputs, at most ``max_inputs`` (None: no limit).
    min_inputs: ClassVar[int] = 2
    max_inputs: ClassVar[int | None] = None
    #: How the values combine, for the formula's expression.
    symbol: ClassVar[str] = "+"
    commutative: ClassVar[bool] = True

    def formula(self, inputs: tuple[Shape, ...]) -> LayerFormula:
        """The broadcast shape of the inputs; no parameters.

        Example:
            >>> Multiply().formula((Shape(8, (1, 1)), Shape(8, (5, 5)))).output.size
            (5, 5)
        """
        self._check_count(inputs)
        _check_floats(self.kind, inputs)
        ranks = {shape.rank for shape in inputs}
        if len(ranks) > 1:
            shapes = ", ".join(_text(s) for s in inputs)
            raise SpecError(
                f"kind='{self.kind}' needs inputs of one rank (PyTorch and Keras broadcast "
                f"a vector against a map along different axes), got {shapes}"
            )
        channels = self._merged(inputs, [s.channels for s in inputs], "channels")
        size = tuple(
            self._merged(inputs, [s.size[axis] for s in inputs], f"spatial axis {axis}")
            for axis in range(inputs[0].rank)
        )
        flats = {s.flattened_from for s in inputs}
        if len(flats) > 1:
            raise SpecError(
                f"kind='{self.kind}' merges a vector flattened from a map with another "
                "vector: PyTorch orders its features C,H,W and Keras H,W,C, so the two "
                "frameworks would add different features"
            )
        out = Shape(channels, size, flats.pop())
        text = f" {self.symbol} ".join(_text(s) for s in inputs) + f" -> {_text(out)}"
        return LayerFormula(0, f"0 ({text})", inputs[0], out, inputs=inputs)

    def work(self, formula: LayerFormula) -> Work:
        """No MACs: one element-wise op per output element per input after the first
        (listed as other work).

        Example:
            >>> from compare.spec import Add
            >>> a = Add()
            >>> a.work(a.formula((Shape(4, (3, 3)), Shape(4, (3, 3))))).other
            36
        """
        return Work(0, "0", other=(len(formula.input_shapes) - 1) * elements(formula.output))

    def _check_count(self, inputs: tuple[Shape, ...]) -> None:
        n = len(inputs)
        low, high = self.min_inputs, self.max_inputs
        if n < low or (high is not None and n > high):
            want = f"exactly {low}" if high == low else f"at least {low}"
            raise SpecError(f"kind='{self.kind}' takes {want} inputs, got {n}")

    def _merged(self, inputs: tuple[Shape, ...], values: list[int], axis: str) -> int:
        wide = {v for v in values if v != 1}
        if len(wide) > 1:
            shapes = ", ".join(_text(s) for s in inputs)
            raise SpecError(
                f"kind='{self.kind}' needs inputs whose {axis} agree or are 1 "
                f"(broadcast), got {shapes}"
            )
        return wide.pop() if wide else 1


@register_kind
@dataclass(frozen=True)
class Add(_Merge):
    """The sum of its inputs (a residual connection).

    Example:
        >>> Add().kind
        'add'
    """

    kind: ClassVar[str] = "add"


@register_kind
@dataclass(frozen=True)
class Subtract(_Merge):
    """The first input minus the second.

    Example:
        >>> Subtract().formula((Shape(2), Shape(2))).expression
        '0 (2 - 2 -> 2)'
    """

    kind: ClassVar[str] = "subtract"
    commutative: ClassVar[bool] = False
    max_inputs: ClassVar[int | None] = 2
    symbol: ClassVar[str] = "-"


@register_kind
@dataclass(frozen=True)
class Multiply(_Merge):
    """The element-wise product (a squeeze-excitation gate).

    Example:
        >>> Multiply().kind
        'multiply'
    """

    kind: ClassVar[str] = "multiply"
    symbol: ClassVar[str] = "*"


@register_kind
@dataclass(frozen=True)
class Average(_Merge):
    """The element-wise mean of its inputs.

    Example:
        >>> Average().kind
        'average'
    """

    kind: ClassVar[str] = "average"
    symbol: ClassVar[str] = "avg"


@register_kind
@dataclass(frozen=True)
class Maximum(_Merge):
    """The element-wise maximum of its inputs.

    Example:
        >>> Maximum().kind
        'maximum'
    """

    kind: ClassVar[str] = "maximum"
    symbol: ClassVar[str] = "max"


@register_kind
@dataclass(frozen=True)
class Minimum(_Merge):
    """The element-wise minimum of its inputs.

    Example:
        >>> Minimum().kind
        'minimum'
    """

    kind: ClassVar[str] = "minimum"
    symbol: ClassVar[str] = "min"


@register_kind
@dataclass(frozen=True)
class Concatenate(Layer):
    """Its inputs joined on the channel axis (dim 1 in PyTorch, -1 in Keras).

    Example:
        >>> Concatenate().formula((Shape(3), Shape(5))).output.channels
        8
    """

    kind: ClassVar[str] = "concatenate"
    spellings: ClassVar[dict[str, int]] = {}

    def formula(self, inputs: tuple[Shape, ...]) -> LayerFormula:
        """Channels summed; every other axis must agree.

        Example:
            >>> Concatenate().formula((Shape(3, (4,)), Shape(5, (2,))))
            Traceback (most recent call last):
            ...
            compare.errors.SpecError: kind='concatenate' joins channels: every other axis ...
        """
        if len(inputs) < 2:
            raise SpecError(f"kind='{self.kind}' takes at least 2 inputs, got {len(inputs)}")
        _check_floats(self.kind, inputs)
        if len({s.size for s in inputs}) > 1:
            shapes = ", ".join(_text(s) for s in inputs)
            raise SpecError(
                f"kind='{self.kind}' joins channels: every other axis must agree, got {shapes}"
            )
        if any(s.flattened_from is not None for s in inputs):
            raise SpecError(
                f"kind='{self.kind}' of vectors flattened from maps is not supported yet: "
                "PyTorch and Keras order each segment's features differently"
            )
        out = Shape(sum(s.channels for s in inputs), inputs[0].size)
        text = " + ".join(str(s.channels) for s in inputs)
        return LayerFormula(
            0, f"0 (channels {text} = {out.channels})", inputs[0], out, inputs=inputs
        )

    def work(self, formula: LayerFormula) -> Work:
        """A copy: no arithmetic.

        Example:
            >>> c = Concatenate()
            >>> c.work(c.formula((Shape(4, (3, 3)), Shape(2, (3, 3))))).macs
            0
        """
        return Work(0, "0")
