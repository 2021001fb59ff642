"""The dropout family, framework-free: inverted dropout of elements (``dropout``), of
whole channels (``spatial_dropout``: PyTorch's ``Dropout1d/2d/3d``, Keras'
``SpatialDropout1D/2D/3D``) and of whole samples or the whole batch (``stochastic_depth``:
torchvision's ``StochasticDepth``, Keras' ``Dropout`` with a ``noise_shape`` of ones);
each is the identity in inference.

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
from compare.core.validate import check_float, fmt
from compare.core.work import Work
from compare.errors import SpecError
from compare.spec import Layer

__all__ = ["STOCHASTIC_DEPTH_MODES", "Dropout", "SpatialDropout", "StochasticDepth"]


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


@register_kind
@dataclass(frozen=True)
class SpatialDropout(Dropout):
    """Channel dropout: in training a random fraction ``rate`` of the channels of each
    sample is zeroed whole (the rest scaled by 1/(1-rate)); the identity in inference.

    Example:
        >>> from compare.core.shapes import Shape
        >>> SpatialDropout(rate=0.2).formula((Shape(4, (5, 5)),)).params
        0
    """

    kind: ClassVar[str] = "spatial_dropout"
    min_rank: ClassVar[int] = 1


#: ``mode`` of a stochastic depth: one draw per sample, or one for the whole batch.
STOCHASTIC_DEPTH_MODES = ("row", "batch")


@register_kind
@dataclass(frozen=True)
class StochasticDepth(Dropout):
    """Stochastic depth (Huang et al., 2016): in training each sample (``mode="row"``)
    or the whole batch (``"batch"``) is zeroed with probability ``rate``, the rest
    scaled by 1/(1-rate); the identity in inference.

    Example:
        >>> StochasticDepth(rate=0.1).mode
        'row'
    """

    mode: str = "row"
    kind: ClassVar[str] = "stochastic_depth"

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.mode, str) or self.mode not in STOCHASTIC_DEPTH_MODES:
            raise SpecError(
                f"mode={fmt(self.mode)} must be 'row' (one draw per sample) or 'batch' "
                "(one draw for the whole batch)"
            )
