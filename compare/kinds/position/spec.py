"""The position kind, framework-free: ``position_embedding``, a learned table of one
vector per step added to a sequence, ``y[n, l, e] = x[n, l, e] + P[l, e]`` (BERT's and
ViT's learned positions).

Neither framework has such a layer (Keras' is in keras_hub, not Keras): in a real
PyTorch model it is an ``nn.Parameter`` of shape (1, steps, features) or (steps,
features) added in ``forward``. Both sides here hold ``P`` as (steps, features): in
PyTorch a small module of ours adds it to the channels-first (N, features, steps)
activation transposed, in Keras a small layer of ours adds it to (N, steps, features).

Example:
    >>> PositionEmbedding().formula((Shape(32, (16,)),)).params
    512
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from compare.core.registry import register_kind
from compare.core.shapes import LayerFormula, Shape
from compare.core.work import Work, elements
from compare.errors import SpecError
from compare.spec import Layer

__all__ = ["PositionEmbedding"]


@register_kind
@dataclass(frozen=True)
class PositionEmbedding(Layer):
    """A learned (steps, features) table added to a float sequence (role ``embeddings``).

    Example:
        >>> PositionEmbedding().to_dict()
        {'kind': 'position_embedding'}
    """

    kind: ClassVar[str] = "position_embedding"
    min_rank: ClassVar[int] = 1
    ported_by_role: ClassVar[bool] = False

    def rule(self, shape: Shape) -> LayerFormula:
        """``steps*features`` parameters; the shape passes through.

        Example:
            >>> PositionEmbedding().rule(Shape(8, (5,))).expression
            '5*8 = 40'
            >>> PositionEmbedding().rule(Shape(8, (5, 5)))
            Traceback (most recent call last):
            ...
            compare.errors.SpecError: position_embedding needs a sequence ...
        """
        if shape.rank != 1 or shape.dtype != "float":
            raise SpecError(
                "position_embedding needs a sequence (channels = features, size = [steps]) "
                f"of floats, got rank {shape.rank} ({shape.dtype}); it adds one learned "
                "vector per step"
            )
        steps, features = shape.size[0], shape.channels
        n = steps * features
        return LayerFormula(n, f"{steps}*{features} = {n}", shape, shape)

    def work(self, formula: LayerFormula) -> Work:
        """No MACs: one add per element (other work).

        Example:
            >>> p = PositionEmbedding().resolved(1)
            >>> p.work(p.rule(Shape(4, (3,)))).other
            12
        """
        return Work(0, "0", other=elements(formula.output))

    def weight_axes(
        self, formula: LayerFormula, role: str, framework: str, ndim: int
    ) -> tuple[str, ...]:
        """The table is (L, E) in both frameworks: steps by features.

        Example:
            >>> p = PositionEmbedding()
            >>> p.weight_axes(p.rule(Shape(4, (3,))), "embeddings", "keras", 2)
            ('L', 'E')
        """
        return ("L", "E") if ndim == 2 else ()

    def port(
        self,
        formula: LayerFormula,
        weights: Mapping[str, np.ndarray],
        dst_shapes: Mapping[str, tuple[int, ...]],
        *,
        to: str,
    ) -> dict[str, np.ndarray]:
        """The same (L, E) table on both sides: copied.

        Example:
            >>> p = PositionEmbedding()
            >>> p.port(p.rule(Shape(2, (3,))), {"embeddings": np.ones((3, 2))}, {},
            ...        to="torch")["embeddings"].shape
            (3, 2)
        """
        steps, features = formula.input.size[0], formula.input.channels
        table = np.asarray(weights["embeddings"])
        return {"embeddings": np.array(table.reshape(steps, features), copy=True)}
