"""The pooling family, framework-free: ``max_pool``, ``avg_pool``, ``global_avg_pool``,
``global_max_pool`` at ranks 1-3.

``padding`` of a pooling layer has the convolutions' meaning (``"valid"``, TensorFlow's
``"same"`` or explicit symmetric integers). ``count_include_pad`` says whether padded
positions count in an average's divisor (TensorFlow's ``"same"`` never counts them;
PyTorch counts them by default).

Example:
    >>> from compare.core.shapes import Shape
    >>> MaxPool(pool_size=3, strides=2, padding=1).resolved(2).formula(
    ...     (Shape(64, (112, 112)),)).output.size
    (56, 56)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from compare.core.registry import register_kind
from compare.core.shapes import LayerFormula, Pads, Shape, pool_output_size, same_pads
from compare.core.validate import IntOrInts, Padding, check_bool, check_ints, check_padding
from compare.errors import SpecError
from compare.spec import Layer

__all__ = ["AvgPool", "GlobalAvgPool", "GlobalMaxPool", "MaxPool"]


@dataclass(frozen=True)
class _Pool(Layer):
    """Fields shared by max and average pooling (``strides`` defaults to ``pool_size``)."""

    pool_size: IntOrInts = 2
    strides: IntOrInts | None = None
    padding: Padding = "valid"
    ceil_mode: bool = False

    spatial_fields: ClassVar[tuple[str, ...]] = ("pool_size", "strides")
    min_rank: ClassVar[int] = 1
    field_aliases: ClassVar[dict[str, str]] = {"kernel_size": "pool_size"}

    def __post_init__(self) -> None:
        object.__setattr__(self, "pool_size", check_ints("pool_size", self.pool_size, 1))
        strides = self.pool_size if self.strides is None else self.strides
        object.__setattr__(self, "strides", check_ints("strides", strides, 1))
        object.__setattr__(self, "padding", check_padding(self.padding))
        check_bool("ceil_mode", self.ceil_mode)
        if self.ceil_mode and self.padding == "same":
            raise SpecError("ceil_mode=true needs integer or 'valid' padding, not 'same'")

    def rule(self, shape: Shape) -> LayerFormula:
        """Window arithmetic of the convolutions (``pool_size`` for the kernel); PyTorch's
        ``ceil_mode`` lets the last window hang over the end.

        Example:
            >>> MaxPool(pool_size=2).resolved(2).rule(Shape(3, (5, 5))).output.size
            (2, 2)
        """
        layer = self
        if shape.rank == 0:
            raise SpecError(
                f"kind='{layer.kind}' needs spatial axes, but its input is a flat vector of "
                f"{shape.channels} features"
            )
        pads: Pads
        if layer.padding == "valid":
            pads = tuple((0, 0) for _ in shape.size)
        elif layer.padding == "same":
            pads = tuple(
                same_pads(n, k, s, 1)
                for n, k, s in zip(
                    shape.size, layer.per_axis("pool_size"), layer.per_axis("strides")
                )
            )
        else:
            assert isinstance(layer.padding, tuple)
            pads = tuple((p, p) for p in layer.padding)
            for axis, (p, k) in enumerate(zip(layer.padding, layer.per_axis("pool_size"))):
                if 2 * p > k:
                    raise SpecError(
                        f"padding={p} on spatial axis {axis} must be at most half of "
                        f"pool_size={k} (a window would hold padding only)"
                    )
        size = []
        for axis, (n, k, s, pad) in enumerate(
            zip(shape.size, layer.per_axis("pool_size"), layer.per_axis("strides"), pads)
        ):
            if k > n + pad[0] + pad[1]:
                raise SpecError(
                    f"pool_size={k} on spatial axis {axis} is larger than the padded input "
                    f"{n + pad[0] + pad[1]}"
                )
            size.append(pool_output_size(n, k, s, pad, layer.ceil_mode))
        return LayerFormula(0, "0", shape, Shape(shape.channels, tuple(size)), pads)


@register_kind
@dataclass(frozen=True)
class MaxPool(_Pool):
    """Max pooling; padded positions never win (they count as -inf), unless
    ``pad_zeros``: the padding then holds zeros (an explicit zero pad before the pool,
    Keras' ``ZeroPadding2D`` in ResNet50V2's stem), which win every window whose real
    elements are all negative.

    Example:
        >>> MaxPool(pool_size=3, strides=2).resolved(2).strides
        (2, 2)
    """

    pad_zeros: bool = False
    kind: ClassVar[str] = "max_pool"

    def __post_init__(self) -> None:
        super().__post_init__()
        check_bool("pad_zeros", self.pad_zeros)
        if self.pad_zeros and self.ceil_mode:
            raise SpecError(
                "pad_zeros=true with ceil_mode=true: the spec's zero padding is an explicit "
                "pad before an unpadded pool, whose ceil_mode windows would start in the "
                "padding"
            )


@register_kind
@dataclass(frozen=True)
class AvgPool(_Pool):
    """Average pooling; ``count_include_pad`` says whether padded zeros count in the
    divisor (false: TensorFlow's 'same'; PyTorch's default is true).

    Example:
        >>> AvgPool(pool_size=2).count_include_pad
        False
    """

    count_include_pad: bool = False
    kind: ClassVar[str] = "avg_pool"

    def __post_init__(self) -> None:
        super().__post_init__()
        check_bool("count_include_pad", self.count_include_pad)


@dataclass(frozen=True)
class _GlobalPool(Layer):
    keepdims: bool = False
    min_rank: ClassVar[int] = 1

    def __post_init__(self) -> None:
        check_bool("keepdims", self.keepdims)

    def rule(self, shape: Shape) -> LayerFormula:
        """Size 1 on every spatial axis (dropped unless ``keepdims``).

        Example:
            >>> GlobalAvgPool().rule(Shape(3, (5, 5))).output == Shape(3)
            True
        """
        layer = self
        if shape.rank == 0:
            raise SpecError(
                f"kind='{layer.kind}' needs spatial axes, but its input is a flat vector of "
                f"{shape.channels} features"
            )
        out = Shape(shape.channels, (1,) * shape.rank) if layer.keepdims else Shape(shape.channels)
        return LayerFormula(0, "0", shape, out)


@register_kind
@dataclass(frozen=True)
class GlobalAvgPool(_GlobalPool):
    """Mean over all spatial axes (kept as size-1 axes when ``keepdims``).

    Example:
        >>> GlobalAvgPool().keepdims
        False
    """

    kind: ClassVar[str] = "global_avg_pool"


@register_kind
@dataclass(frozen=True)
class GlobalMaxPool(_GlobalPool):
    """Maximum over all spatial axes (kept as size-1 axes when ``keepdims``).

    Example:
        >>> GlobalMaxPool(keepdims=True).keepdims
        True
    """

    kind: ClassVar[str] = "global_max_pool"
