"""Layout-neutral shapes, the formula record, and the padding and window arithmetic.

Framework-free. ``Shape`` is an activation without its batch axis, in no framework's
layout; ``LayerFormula`` is what a layer must do according to the spec alone (the
oracle the frameworks are held to). ``same_pads``, ``conv_output_size`` and
``pool_output_size`` are the window arithmetic, written once for every kind.

Example:
    >>> Shape(40, (26, 26)).keras()
    (None, 26, 26, 40)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "LayerFormula",
    "Pads",
    "Shape",
    "ceil_div",
    "conv_output_size",
    "pool_output_size",
    "prod",
    "same_pads",
]

Pads = tuple[tuple[int, int], ...]


def ceil_div(a: int, b: int) -> int:
    """Integer ceiling of ``a / b``.

    Example:
        >>> ceil_div(7, 2)
        4
    """
    return -(-a // b)


def prod(values: Sequence[int]) -> int:
    """Product of integers (1 for none).

    Example:
        >>> prod((3, 3, 40))
        360
    """
    return math.prod(values)


@dataclass(frozen=True)
class Shape:
    """A layout-neutral activation shape (batch axis left out).

    ``flattened_from`` remembers ``(channels, size)`` when a Flatten produced this
    vector: PyTorch then orders its features C,H,W and Keras H,W,C.

    Example:
        >>> Shape(40, (26, 26)).torch(), Shape(40, (26, 26)).keras()
        ((None, 40, 26, 26), (None, 26, 26, 40))
    """

    channels: int
    size: tuple[int, ...] = ()
    flattened_from: tuple[int, tuple[int, ...]] | None = None
    #: "float" activations, or "int" token ids (N, steps) with no channel axis.
    dtype: str = "float"

    def torch(self) -> tuple[int | None, ...]:
        """Channels-first shape with the batch axis as None."""
        if self.dtype == "int":
            return (None, *self.size)
        return (None, self.channels, *self.size)

    def keras(self) -> tuple[int | None, ...]:
        """Channels-last shape with the batch axis as None."""
        if self.dtype == "int":
            return (None, *self.size)
        return (None, *self.size, self.channels)

    @property
    def rank(self) -> int:
        """Number of spatial axes."""
        return len(self.size)


@dataclass(frozen=True)
class LayerFormula:
    """What a layer must do according to the spec alone.

    ``pads`` holds the explicit (before, after) padding per spatial axis a conv
    family applies (TF's asymmetric split for 'same'); for a transposed conv it is
    the (start, end) crop of the full output and ``extend`` the zero rows added at
    the end first.

    Example:
        >>> f = LayerFormula(400, "40*(3*3*1)+40 = 400", Shape(1, (28, 28)), Shape(40, (26, 26)))
        >>> f.params, f.output.torch()
        (400, (None, 40, 26, 26))
    """

    params: int
    expression: str
    input: Shape
    output: Shape
    pads: Pads | None = None
    extend: tuple[int, ...] | None = None
    #: (framework, params) where a framework holds more parameters than ``params``
    #: for the same function (PyTorch's second RNN bias); empty when all agree.
    framework_params: tuple[tuple[str, int], ...] = ()

    def params_in(self, framework: str) -> int:
        """The parameter count ``framework`` should report for this layer.

        Example:
            >>> LayerFormula(6272, "", Shape(16, (5,)), Shape(32),
            ...              framework_params=(("torch", 6400),)).params_in("torch")
            6400
        """
        return dict(self.framework_params).get(framework, self.params)

    #: Elements of running statistics a layer keeps (batch norm's moving mean and
    #: variance): not parameters in the spec's sense, counted apart from ``params``.
    state: int = 0
    #: Every input's shape when the layer reads more than one (a merge); else empty.
    inputs: tuple[Shape, ...] = ()

    @property
    def input_shapes(self) -> tuple[Shape, ...]:
        """The shape of every input, in order (``(input,)`` for a one-input layer).

        Example:
            >>> LayerFormula(0, "0", Shape(3), Shape(3)).input_shapes
            (Shape(channels=3, size=(), flattened_from=None, dtype='float'),)
        """
        return self.inputs or (self.input,)


def same_pads(size: int, kernel: int, stride: int, dilation: int) -> tuple[int, int]:
    """TensorFlow's 'same' padding for one axis: (before, after), odd pixel at the end.

    Example:
        >>> same_pads(28, 3, 2, 1)
        (0, 1)
    """
    effective = dilation * (kernel - 1) + 1
    total = max((ceil_div(size, stride) - 1) * stride + effective - size, 0)
    return total // 2, total - total // 2


def conv_output_size(
    size: int, kernel: int, stride: int, dilation: int, pads: tuple[int, int]
) -> int:
    """Output length of a convolution on one axis after explicit padding.

    Example:
        >>> conv_output_size(28, 3, 1, 1, (0, 0))
        26
    """
    return (size + pads[0] + pads[1] - dilation * (kernel - 1) - 1) // stride + 1


def pool_output_size(size: int, pool: int, stride: int, pads: tuple[int, int], ceil: bool) -> int:
    """Output length of pooling on one axis (``ceil``: PyTorch's ``ceil_mode``, where the
    last window must start inside the input or its left padding).

    Example:
        >>> pool_output_size(5, 2, 2, (0, 0), False), pool_output_size(5, 2, 2, (0, 0), True)
        (2, 3)
    """
    if not ceil:
        return conv_output_size(size, pool, stride, 1, pads)
    out = ceil_div(size + pads[0] + pads[1] - pool, stride) + 1
    if (out - 1) * stride >= size + pads[0]:
        out -= 1
    return out
