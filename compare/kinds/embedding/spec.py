"""The embedding kind, framework-free: a lookup table of ``input_dim`` vectors.

Integer token ids (``Input(dtype="int")``) have no channel axis in either framework:
(N, steps) in both. An embedding turns them into a (steps, output_dim) sequence.

Example:
    >>> from compare.core.shapes import Shape
    >>> Embedding(input_dim=1000, output_dim=16).formula((Shape(1, (12,), dtype="int"),)).output
    Shape(channels=16, size=(12,), flattened_from=None, dtype='float')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from compare.core.registry import register_kind
from compare.core.shapes import LayerFormula, Shape
from compare.core.validate import check_int
from compare.core.work import Work
from compare.spec import Layer

__all__ = ["Embedding"]


@register_kind
@dataclass(frozen=True)
class Embedding(Layer):
    """A lookup table of ``input_dim`` vectors of ``output_dim`` features; its input
    is a sequence of integer ids in [0, input_dim) (an ``Input`` with ``dtype="int"``).

    Example:
        >>> Embedding(input_dim=1000, output_dim=16).to_dict()
        {'kind': 'embedding', 'input_dim': 1000, 'output_dim': 16}
    """

    input_dim: int = 0
    output_dim: int = 0
    kind: ClassVar[str] = "embedding"
    input_dtype: ClassVar[str] = "int"
    #: Ported as a whole (one table), like the recurrent kinds.
    ported_by_role: ClassVar[bool] = False

    def __post_init__(self) -> None:
        check_int("input_dim", self.input_dim, 1)
        check_int("output_dim", self.output_dim, 1)

    def rule(self, shape: Shape) -> LayerFormula:
        """``input_dim*output_dim``; each id becomes a vector of ``output_dim`` features.

        Example:
            >>> Embedding(input_dim=1000, output_dim=16).rule(Shape(1, (12,), dtype="int")).params
            16000
        """
        params = self.input_dim * self.output_dim
        text = f"{self.input_dim}*{self.output_dim} = {params}"
        return LayerFormula(params, text, shape, Shape(self.output_dim, shape.size))

    def work(self, formula: LayerFormula) -> Work:
        """A table lookup: no arithmetic.

        Example:
            >>> e = Embedding(input_dim=50, output_dim=4).resolved(1)
            >>> e.work(e.rule(Shape(1, (12,), dtype="int"))).macs
            0
        """
        return Work(0, "0")

    def weight_axes(
        self, formula: LayerFormula, role: str, framework: str, ndim: int
    ) -> tuple[str, ...]:
        """The table is (V, D) in both frameworks: vocabulary by features.

        Example:
            >>> e = Embedding(input_dim=10, output_dim=4)
            >>> e.weight_axes(e.rule(Shape(1, (3,), dtype="int")), "embeddings", "torch", 2)
            ('V', 'D')
        """
        return ("V", "D") if ndim == 2 else ()

    def port(
        self,
        formula: LayerFormula,
        weights: Mapping[str, np.ndarray],
        dst_shapes: Mapping[str, tuple[int, ...]],
        *,
        to: str,
    ) -> dict[str, np.ndarray]:
        """The same (V, D) table on both sides: copied.

        Example:
            >>> e = Embedding(input_dim=2, output_dim=1)
            >>> e.port(e.rule(Shape(1, (3,), dtype="int")), {"embeddings": np.ones((2, 1))},
            ...        {}, to="keras")["embeddings"].shape
            (2, 1)
        """
        return {"embeddings": np.array(weights["embeddings"], copy=True)}

    def input_high(self) -> int:
        """Exclusive upper bound of the token ids fed to it (its vocabulary).

        Example:
            >>> Embedding(input_dim=50, output_dim=4).input_high()
            50
        """
        return int(self.input_dim)
