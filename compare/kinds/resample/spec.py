"""The resample kind, framework-free: nearest and bilinear resizing of the spatial axes.

A resample either multiplies every spatial size by an integer ``scale`` or sets the
output ``size``. ``mode`` names where an output element reads the input:

* ``nearest``: PyTorch's ``mode='nearest'``, input index ``floor(out * in / out_size)``
  (TensorFlow 1's legacy resize);
* ``nearest_exact``: half-pixel centres, ``floor((out + 0.5) * in / out_size)``
  (PyTorch's ``'nearest-exact'``, TensorFlow 2's and Keras' ``'nearest'``);
* ``bilinear`` (two spatial axes): linear in each axis, with half-pixel centres
  (``align_corners=False``: PyTorch's default and TensorFlow 2's only choice) or with
  the corner pixels of input and output aligned (``align_corners=True``).

For an integer ``scale`` the two nearest modes read the same elements.

Example:
    >>> from compare.core.shapes import Shape
    >>> Resample(scale=2).resolved(2).formula((Shape(8, (4, 5)),)).output.size
    (8, 10)
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

from compare.core.registry import register_kind
from compare.core.shapes import LayerFormula, Shape
from compare.core.validate import IntOrInts, broadcast, check_bool, check_ints, fmt
from compare.errors import SpecError
from compare.spec import Layer

__all__ = ["MODES", "Resample", "nearest_index"]

#: the spec's modes
MODES = ("nearest", "nearest_exact", "bilinear")
_MODE_ALIASES = {"nearest-exact": "nearest_exact", "linear": "bilinear"}


def nearest_index(out: int, size_in: int, size_out: int, *, half_pixel: bool) -> int:
    """The input index a nearest resize from ``size_in`` to ``size_out`` reads for output
    index ``out``: ``floor(out * in / out_size)``, or with half-pixel centres
    ``floor((out + 0.5) * in / out_size)`` (integer arithmetic, clamped to the input).

    Example:
        >>> [nearest_index(i, 5, 7, half_pixel=False) for i in range(7)]
        [0, 0, 1, 2, 2, 3, 4]
        >>> [nearest_index(i, 5, 7, half_pixel=True) for i in range(7)]
        [0, 1, 1, 2, 3, 3, 4]
    """
    if half_pixel:
        return min((2 * out + 1) * size_in // (2 * size_out), size_in - 1)
    return min(out * size_in // size_out, size_in - 1)


@register_kind
@dataclass(frozen=True)
class Resample(Layer):
    """Resize the spatial axes by an integer ``scale`` or to an output ``size`` (one of
    the two), reading the input by ``mode``; ``align_corners`` only with ``bilinear``.

    Example:
        >>> Resample(size=[7, 7], mode="bilinear", align_corners=True).size
        (7, 7)
    """

    scale: IntOrInts | None = None
    size: IntOrInts | None = None
    mode: str = "nearest"
    align_corners: bool = False
    kind: ClassVar[str] = "resample"
    min_rank: ClassVar[int] = 1
    field_aliases: ClassVar[dict[str, str]] = {
        "scale_factor": "scale",
        "interpolation": "mode",
    }

    def __post_init__(self) -> None:
        if (self.scale is None) == (self.size is None):
            raise SpecError(
                f"kind='resample' needs exactly one of scale and size (got scale="
                f"{fmt(self.scale)}, size={fmt(self.size)})"
            )
        if self.scale is not None:
            object.__setattr__(self, "scale", check_ints("scale", self.scale, 1))
        if self.size is not None:
            object.__setattr__(self, "size", check_ints("size", self.size, 1))
        mode = self.mode.lower() if isinstance(self.mode, str) else self.mode
        if isinstance(mode, str):
            mode = _MODE_ALIASES.get(mode, mode)
        if not isinstance(mode, str) or mode not in MODES:
            raise SpecError(f"mode={fmt(self.mode)} must be one of {', '.join(MODES)}")
        object.__setattr__(self, "mode", mode)
        check_bool("align_corners", self.align_corners)
        if self.align_corners and mode != "bilinear":
            raise SpecError(
                f"align_corners=true needs mode='bilinear' (got mode={fmt(mode)}): nearest "
                "modes have no corners to align"
            )

    def resolved(self, rank: int) -> Layer:
        """``scale`` or ``size`` as one int per spatial axis.

        Example:
            >>> Resample(scale=2).resolved(2).scale
            (2, 2)
        """
        base = super().resolved(rank)
        changes: dict[str, Any] = {
            name: broadcast(name, getattr(base, name), rank)
            for name in ("scale", "size")
            if getattr(base, name) is not None
        }
        return dataclasses.replace(base, **changes)

    def rule(self, shape: Shape) -> LayerFormula:
        """Each spatial size times ``scale``, or ``size``; no parameters.

        Example:
            >>> Resample(size=3).resolved(1).rule(Shape(2, (5,))).output == Shape(2, (3,))
            True
        """
        if shape.rank == 0:
            raise SpecError(
                f"kind='resample' needs spatial axes, but its input is a flat vector of "
                f"{shape.channels} features"
            )
        if self.mode == "bilinear" and shape.rank != 2:
            raise SpecError(
                f"mode='bilinear' interpolates two spatial axes, but the input has {shape.rank}"
            )
        if self.scale is not None:
            out = tuple(n * s for n, s in zip(shape.size, self.per_axis("scale")))
        else:
            out = self.per_axis("size")
        return LayerFormula(0, "0", shape, Shape(shape.channels, out))

    def exact_multiple(self, shape: Shape) -> bool:
        """Whether every output size is an integer multiple of the input's (where the two
        nearest modes read the same elements).

        Example:
            >>> Resample(size=(8, 9)).resolved(2).exact_multiple(Shape(1, (4, 3)))
            True
        """
        out = self.rule(shape).output.size
        return all(o % n == 0 for o, n in zip(out, shape.size))
