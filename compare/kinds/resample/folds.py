"""How the importers read a resample canonically (framework-free, registered for
``compare.importers.base.assemble``): a resize to a size that is a whole multiple of
its input's is the same resample as the integer ``scale`` (every mode reads the same
elements for the two; PyTorch's ``scale_factor`` and ``size`` agree then), so it reads
as that scale whichever of the two the source model spelt.
"""

from __future__ import annotations

import dataclasses

from compare.core.registry import register_part
from compare.formulas import Shape
from compare.importers.base import Fold, Part
from compare.kinds.resample.spec import Resample
from compare.spec import Layer

__all__ = ["canonical_resample", "canonical_resamples"]


def canonical_resample(layer: Layer, shape: Shape) -> Layer:
    """A resample to a size that is a multiple of ``shape``'s as its integer scale.

    Example:
        >>> canonical_resample(Resample(size=(10, 21)), Shape(3, (5, 7)))
        Resample(scale=(2, 3), size=None, mode='nearest', align_corners=False)
    """
    if not isinstance(layer, Resample) or layer.size is None or not shape.rank:
        return layer
    size = layer.size if isinstance(layer.size, tuple) else (layer.size,) * shape.rank
    if len(size) != shape.rank or any(o % n for o, n in zip(size, shape.size)):
        return layer
    scale = tuple(o // n for o, n in zip(size, shape.size))
    return dataclasses.replace(layer, scale=scale, size=None)


def canonical_resamples(parts: list[Part], source: str) -> list[Part]:
    """``canonical_resample`` on every part.

    Example:
        >>> canonical_resamples([], "keras")
        []
    """
    for one in parts:
        one.layer = canonical_resample(one.layer, one.in_shape)
    return parts


register_part("any", "fold", "resample")(Fold(30, canonical_resamples))
