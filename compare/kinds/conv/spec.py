"""The convolution family, framework-free: ``conv``, ``conv_transpose``, ``depthwise_conv``
and ``separable_conv`` at ranks 1-3 (specs, formulas, weight layouts).

Conventions: ``padding`` is ``"valid"``, ``"same"`` (TensorFlow's meaning: output size
``ceil(n / stride)``, any odd pixel of padding at the end) or explicit symmetric
padding, an int or one int per spatial axis (PyTorch's meaning). ``conv_transpose``
with integer padding ``p`` crops ``p`` from both ends of the full transposed output,
after ``output_padding`` zero rows were added at the end (PyTorch's meaning); ``"same"``
gives ``n * stride`` (TensorFlow's meaning).

Example:
    >>> from compare.core.shapes import Shape
    >>> Conv(filters=8, kernel_size=3).resolved(2).formula((Shape(40, (26, 26)),)).expression
    '8*(3*3*40)+8 = 2888'
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import ClassVar

from compare.core.layouts import WeightLayout, kernel_axes
from compare.core.registry import register_kind
from compare.core.shapes import LayerFormula, Pads, Shape, conv_output_size, prod, same_pads
from compare.core.validate import (
    IntOrInts,
    Padding,
    as_tuple,
    check_activation,
    check_bool,
    check_int,
    check_ints,
    check_padding,
    fmt,
)
from compare.core.work import Work, elements, product_text
from compare.errors import SpecError
from compare.spec import Layer

__all__ = ["Conv", "ConvTranspose", "DepthwiseConv", "SeparableConv", "conv_weight_layout"]


@dataclass(frozen=True)
class _ConvBase(Layer):
    """Fields shared by the convolution families."""

    kernel_size: IntOrInts = 1
    strides: IntOrInts = 1
    padding: Padding = "valid"
    dilation: IntOrInts = 1
    use_bias: bool = True
    rank: int | None = field(default=None, repr=False)
    #: Activation applied after the layer (Keras layers carry one; torch appends a module).
    activation: str = "linear"

    spatial_fields: ClassVar[tuple[str, ...]] = ("kernel_size", "strides", "dilation")
    min_rank: ClassVar[int] = 1
    post_activation: ClassVar[bool] = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "kernel_size", check_ints("kernel_size", self.kernel_size, 1))
        object.__setattr__(self, "strides", check_ints("strides", self.strides, 1))
        object.__setattr__(self, "padding", check_padding(self.padding))
        object.__setattr__(self, "dilation", check_ints("dilation", self.dilation, 1))
        check_bool("use_bias", self.use_bias)
        object.__setattr__(self, "activation", check_activation("activation", self.activation))
        if self.rank is not None and self.rank not in (1, 2, 3):
            raise SpecError(f"rank={self.rank} must be 1, 2 or 3")

    # -- formula helpers ------------------------------------------------------------
    def _need_spatial(self, shape: Shape) -> None:
        if shape.rank == 0:
            raise SpecError(
                f"kind='{self.kind}' needs spatial axes, but its input is a flat vector of "
                f"{shape.channels} features"
            )

    def _pads(self, shape: Shape) -> Pads:
        if self.padding == "valid":
            return tuple((0, 0) for _ in shape.size)
        if self.padding == "same":
            return tuple(
                same_pads(n, k, s, d)
                for n, k, s, d in zip(
                    shape.size,
                    self.per_axis("kernel_size"),
                    self.per_axis("strides"),
                    self.per_axis("dilation"),
                )
            )
        assert isinstance(self.padding, tuple)
        return tuple((p, p) for p in self.padding)

    def _spatial_out(self, shape: Shape) -> tuple[Pads, tuple[int, ...]]:
        pads = self._pads(shape)
        out = []
        for axis, (n, k, s, d, p) in enumerate(
            zip(
                shape.size,
                self.per_axis("kernel_size"),
                self.per_axis("strides"),
                self.per_axis("dilation"),
                pads,
            )
        ):
            effective = d * (k - 1) + 1
            if effective > n + p[0] + p[1]:
                dilated = f" (dilated to {effective})" if d > 1 else ""
                raise SpecError(
                    f"kernel_size={k}{dilated} on spatial axis {axis} is larger than the "
                    f"padded input {n + p[0] + p[1]} (size {n}, padding {p[0]}+{p[1]})"
                )
            out.append(conv_output_size(n, k, s, d, p))
        return pads, tuple(out)

    @classmethod
    def weight_layout(
        cls, role: str, rank: int, *, groups: int = 1, flattened: int = 0
    ) -> WeightLayout:
        """The layout of ``role`` at spatial ``rank`` (``compare.layouts.weight_layout``).

        Example:
            >>> Conv.weight_layout("kernel", 1, groups=2).torch
            ('O', 'I/g', 'L')
        """
        return conv_weight_layout(cls.kind, role, rank, groups=groups)

    def _spatial_sizes(self, formula: LayerFormula) -> dict[str, int]:
        rank = formula.input.rank
        return dict(zip(kernel_axes(rank), tuple(self.kernel_size)))  # type: ignore[arg-type]


def _kernel_text(kernel: tuple[int, ...]) -> str:
    return "*".join(str(k) for k in kernel)


@functools.cache  # a pure function of a few small values, asked for on every weight
def conv_weight_layout(kind: str, role: str, rank: int, *, groups: int = 1) -> WeightLayout:
    """The layout of ``role`` of conv-family ``kind`` at spatial ``rank``.

    Example:
        >>> conv_weight_layout("conv", "kernel", 2).keras_shown
        ('H', 'W', 'I', 'O')
    """
    k = kernel_axes(rank)
    i = "I/g" if groups > 1 else "I"
    o = "O/g" if groups > 1 else "O"
    if role == "bias":
        return WeightLayout(("O",), ("O",), ("O",), ("O",))
    if kind == "conv" and role == "kernel":
        return WeightLayout(("O", i, *k), (*k, i, "O"), ("O", i, *k), (*k, i, "O"))
    if kind == "conv_transpose" and role == "kernel":
        return WeightLayout(("I", o, *k), (*k, o, "I"), ("I", o, *k), (*k, o, "I"))
    if role == "depthwise_kernel" and kind in ("depthwise_conv", "separable_conv"):
        return WeightLayout(("C", "M", *k), (*k, "C", "M"), ("C*M", "1", *k), (*k, "C", "M"))
    if role == "pointwise_kernel" and kind == "separable_conv":
        ones = ("1",) * rank
        return WeightLayout(("O", "C*M"), ("C*M", "O"), ("O", "C*M", *ones), (*ones, "C*M", "O"))
    raise KeyError(f"no layout for role {role!r} of kind {kind!r}")


class _Grouped(_ConvBase):
    """A (transposed) conv: ``filters`` in ``groups``."""

    filters: int
    groups: int

    def _check_filters(self) -> None:
        check_int("filters", self.filters, 1)
        check_int("groups", self.groups, 1)
        if self.filters % self.groups:
            raise SpecError(f"groups={self.groups} must divide filters={self.filters}")

    def _check_groups(self, shape: Shape) -> None:
        if shape.channels % self.groups:
            raise SpecError(
                f"groups={self.groups} must divide filters={self.filters} and "
                f"channels={shape.channels}"
            )

    def _grouped_params(self, shape: Shape) -> tuple[int, str]:
        """Parameter count and its expression without the total: each of ``filters``
        sees kernel * channels / groups inputs, plus one bias each."""
        per_filter = prod(self.per_axis("kernel_size")) * shape.channels // self.groups
        params = self.filters * per_filter + (self.filters if self.use_bias else 0)
        group = f"/{self.groups}" if self.groups > 1 else ""
        text = (
            f"{self.filters}*({_kernel_text(self.per_axis('kernel_size'))}*{shape.channels}{group})"
        )
        text += f"+{self.filters}" if self.use_bias else ""
        return params, text


@register_kind
@dataclass(frozen=True)
class Conv(_Grouped):
    """An N-d convolution (PyTorch ``nn.ConvNd``, Keras ``ConvND``).

    Example:
        >>> Conv(filters=8, kernel_size=3).filters
        8
    """

    filters: int = 0
    groups: int = 1
    kind: ClassVar[str] = "conv"
    spellings: ClassVar[dict[str, int]] = {f"conv{r}d": r for r in (1, 2, 3)}

    def __post_init__(self) -> None:
        super().__post_init__()
        self._check_filters()

    def rule(self, shape: Shape) -> LayerFormula:
        """Output size per axis after padding; ``filters*(kernel*channels/groups)+bias``.

        Example:
            >>> Conv(filters=40, kernel_size=3).resolved(2).rule(Shape(1, (28, 28))).params
            400
        """
        self._need_spatial(shape)
        self._check_groups(shape)
        pads, size = self._spatial_out(shape)
        params, text = self._grouped_params(shape)
        return LayerFormula(params, f"{text} = {params}", shape, Shape(self.filters, size), pads)

    def work(self, formula: LayerFormula) -> Work:
        """Every output element sums ``kernel*channels/groups`` products.

        Example:
            >>> c = Conv(filters=40, kernel_size=3).resolved(2)
            >>> c.work(c.rule(Shape(1, (28, 28)))).expression
            '40*26*26*(3*3*1) = 243360'
        """
        out, k = formula.output, self.per_axis("kernel_size")
        per = formula.input.channels // self.groups
        macs = elements(out) * prod(k) * per
        text = f"{product_text((out.channels, *out.size))}*({product_text((*k, per))})"
        bias = elements(out) if self.use_bias else 0
        return Work(macs, f"{text} = {macs}", bias_adds=bias)

    def layout(self, formula: LayerFormula, role: str) -> tuple[WeightLayout, dict[str, int]]:
        """Kernel (O, I/g, *K) in PyTorch and (*K, I/g, O) in Keras; bias (O,).

        Example:
            >>> c = Conv(filters=8, kernel_size=3).resolved(2)
            >>> c.layout(c.rule(Shape(40, (28, 28))), "kernel")[1]
            {'O': 8, 'I': 40, 'H': 3, 'W': 3}
        """
        layout = conv_weight_layout(self.kind, role, formula.input.rank, groups=self.groups)
        out_c, c = formula.output.channels, formula.input.channels
        if role == "bias":
            return layout, {"O": out_c}
        i = "I/g" if self.groups > 1 else "I"
        return layout, {"O": out_c, i: c // self.groups, **self._spatial_sizes(formula)}


@register_kind
@dataclass(frozen=True)
class ConvTranspose(_Grouped):
    """A transposed convolution (``nn.ConvTransposeNd``, ``ConvNDTranspose``).

    Example:
        >>> ConvTranspose(filters=4, kernel_size=3, strides=2, padding=1,
        ...               output_padding=1).output_padding
        1
    """

    filters: int = 0
    groups: int = 1
    output_padding: IntOrInts = 0
    kind: ClassVar[str] = "conv_transpose"
    spellings: ClassVar[dict[str, int]] = {
        **{f"conv_transpose{r}d": r for r in (1, 2, 3)},
        **{f"conv{r}d_transpose": r for r in (1, 2, 3)},
    }
    spatial_fields: ClassVar[tuple[str, ...]] = (
        "kernel_size",
        "strides",
        "dilation",
        "output_padding",
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        self._check_filters()
        object.__setattr__(
            self, "output_padding", check_ints("output_padding", self.output_padding, 0)
        )
        if self.padding == "same" and any(as_tuple(self.output_padding)):
            raise SpecError(
                f"output_padding={fmt(self.output_padding)} needs integer or 'valid' "
                "padding; with padding='same' the output size is input * strides"
            )

    def rule(self, shape: Shape) -> LayerFormula:
        """Full transposed size ``(n-1)*s + d*(k-1)+1``, then the crop (``pads``) and the
        rows added at the end (``extend``).

        Example:
            >>> t = ConvTranspose(filters=2, kernel_size=2, strides=2).resolved(1)
            >>> t.rule(Shape(3, (4,))).output.size
            (8,)
        """
        self._need_spatial(shape)
        self._check_groups(shape)
        crops, extend, size = [], [], []
        for axis, (n, k, s, d, op) in enumerate(
            zip(
                shape.size,
                self.per_axis("kernel_size"),
                self.per_axis("strides"),
                self.per_axis("dilation"),
                self.per_axis("output_padding"),
            )
        ):
            if op >= max(s, d):
                raise SpecError(
                    f"output_padding={op} on spatial axis {axis} must be smaller than "
                    f"strides={s} or dilation={d}"
                )
            effective = d * (k - 1) + 1
            full = (n - 1) * s + effective
            if self.padding == "same":
                total = effective - s
                crop = (total // 2, total - total // 2) if total >= 0 else (0, 0)
                ext = max(-total, 0)
            else:
                p = 0 if not isinstance(self.padding, tuple) else self.padding[axis]
                crop, ext = (p, p), op
            out = full + ext - crop[0] - crop[1]
            if out < 1:
                raise SpecError(
                    f"padding={crop[0]} on spatial axis {axis} crops the whole output "
                    f"(full transposed size {full + ext})"
                )
            crops.append(crop)
            extend.append(ext)
            size.append(out)
        params, text = self._grouped_params(shape)
        return LayerFormula(
            params,
            f"{text} = {params}",
            shape,
            Shape(self.filters, tuple(size)),
            tuple(crops),
            tuple(extend),
        )

    def work(self, formula: LayerFormula) -> Work:
        """Every input element is scattered through the kernel into ``filters/groups``
        channels: ``channels*size*(kernel*filters/groups)``, cropped rows included.

        Example:
            >>> t = ConvTranspose(filters=2, kernel_size=2, strides=2).resolved(1)
            >>> t.work(t.rule(Shape(3, (4,)))).expression
            '3*4*(2*2) = 48'
        """
        x, k = formula.input, self.per_axis("kernel_size")
        per = self.filters // self.groups
        macs = elements(x) * prod(k) * per
        text = f"{product_text((x.channels, *x.size))}*({product_text((*k, per))})"
        bias = elements(formula.output) if self.use_bias else 0
        return Work(macs, f"{text} = {macs}", bias_adds=bias)

    def layout(self, formula: LayerFormula, role: str) -> tuple[WeightLayout, dict[str, int]]:
        """Kernel (I, O/g, *K) in PyTorch and (*K, O/g, I) in Keras; bias (O,).

        Example:
            >>> t = ConvTranspose(filters=2, kernel_size=3).resolved(1)
            >>> t.layout(t.rule(Shape(4, (8,))), "kernel")[0].torch
            ('I', 'O', 'L')
        """
        layout = conv_weight_layout(self.kind, role, formula.input.rank, groups=self.groups)
        out_c, c = formula.output.channels, formula.input.channels
        if role == "bias":
            return layout, {"O": out_c}
        o = "O/g" if self.groups > 1 else "O"
        return layout, {"I": c, o: out_c // self.groups, **self._spatial_sizes(formula)}


class _Depthwise(_ConvBase):
    depth_multiplier: int

    def layout(self, formula: LayerFormula, role: str) -> tuple[WeightLayout, dict[str, int]]:
        """Depthwise kernel (C*M, 1, *K) in PyTorch, (*K, C, M) in Keras; a separable's
        pointwise kernel (O, C*M, 1...) and (1..., C*M, O); bias (O,).

        Example:
            >>> d = DepthwiseConv(kernel_size=3, depth_multiplier=2).resolved(2)
            >>> d.layout(d.rule(Shape(3, (8, 8))), "depthwise_kernel")[1]
            {'C': 3, 'M': 2, 'H': 3, 'W': 3}
        """
        layout = conv_weight_layout(self.kind, role, formula.input.rank)
        c, out_c, m = formula.input.channels, formula.output.channels, self.depth_multiplier
        if role == "bias":
            return layout, {"O": out_c}
        if role == "pointwise_kernel":
            return layout, {"O": out_c, "C*M": c * m}
        return layout, {"C": c, "M": m, **self._spatial_sizes(formula)}

    def weight_axes(
        self, formula: LayerFormula, role: str, framework: str, ndim: int
    ) -> tuple[str, ...]:
        """As ``Layer.weight_axes``; Keras has no 3-D depthwise layer: its grouped
        Conv3D holds the depthwise kernel as (*K, 1, C*M).

        Example:
            >>> d = DepthwiseConv(kernel_size=2).resolved(3)
            >>> d.weight_axes(d.rule(Shape(2, (4, 4, 4))), "depthwise_kernel", "keras", 5)
            ('D', 'H', 'W', '1', 'C*M')
        """
        shown = super().weight_axes(formula, role, framework, ndim)
        if framework == "keras" and role == "depthwise_kernel" and formula.input.rank == 3:
            layout = self.layout(formula, role)[0]
            return (*layout.keras_shown[:-2], "1", "C*M")
        return shown


@register_kind
@dataclass(frozen=True)
class DepthwiseConv(_Depthwise):
    """A depthwise convolution: each input channel gets ``depth_multiplier`` filters.

    Example:
        >>> DepthwiseConv(kernel_size=3, depth_multiplier=2).depth_multiplier
        2
    """

    depth_multiplier: int = 1
    kind: ClassVar[str] = "depthwise_conv"
    spellings: ClassVar[dict[str, int]] = {f"depthwise_conv{r}d": r for r in (1, 2, 3)}

    def __post_init__(self) -> None:
        super().__post_init__()
        check_int("depth_multiplier", self.depth_multiplier, 1)

    def rule(self, shape: Shape) -> LayerFormula:
        """``C*M`` output channels, ``C*M*kernel`` weights plus ``C*M`` biases.

        Example:
            >>> DepthwiseConv(kernel_size=3).resolved(2).rule(Shape(3, (8, 8))).params
            30
        """
        self._need_spatial(shape)
        pads, size = self._spatial_out(shape)
        c, m = shape.channels, self.depth_multiplier
        params = c * m * prod(self.per_axis("kernel_size")) + (c * m if self.use_bias else 0)
        text = f"{c}*{m}*({_kernel_text(self.per_axis('kernel_size'))})"
        text += f"+{c * m}" if self.use_bias else ""
        return LayerFormula(params, f"{text} = {params}", shape, Shape(c * m, size), pads)

    def work(self, formula: LayerFormula) -> Work:
        """Every output element sums ``kernel`` products of its one input channel.

        Example:
            >>> d = DepthwiseConv(kernel_size=3).resolved(2)
            >>> d.work(d.rule(Shape(3, (8, 8)))).expression
            '3*6*6*(3*3) = 972'
        """
        out, k = formula.output, self.per_axis("kernel_size")
        macs = elements(out) * prod(k)
        text = f"{product_text((out.channels, *out.size))}*({product_text(k)})"
        bias = elements(out) if self.use_bias else 0
        return Work(macs, f"{text} = {macs}", bias_adds=bias)


@register_kind
@dataclass(frozen=True)
class SeparableConv(_Depthwise):
    """A depthwise convolution followed by a 1x1 pointwise one (one bias, at the end).

    Example:
        >>> SeparableConv(filters=16, kernel_size=3).depth_multiplier
        1
    """

    filters: int = 0
    depth_multiplier: int = 1
    kind: ClassVar[str] = "separable_conv"
    spellings: ClassVar[dict[str, int]] = {f"separable_conv{r}d": r for r in (1, 2, 3)}

    def __post_init__(self) -> None:
        super().__post_init__()
        check_int("filters", self.filters, 1)
        check_int("depth_multiplier", self.depth_multiplier, 1)

    def rule(self, shape: Shape) -> LayerFormula:
        """Depthwise ``C*M*kernel``, pointwise ``filters*C*M``, ``filters`` biases.

        Example:
            >>> SeparableConv(filters=4, kernel_size=3).resolved(2).rule(Shape(3, (8, 8))).params
            43
        """
        self._need_spatial(shape)
        pads, size = self._spatial_out(shape)
        c, m, f = shape.channels, self.depth_multiplier, self.filters
        params = (
            c * m * prod(self.per_axis("kernel_size")) + c * m * f + (f if self.use_bias else 0)
        )
        text = f"{c}*{m}*({_kernel_text(self.per_axis('kernel_size'))})+{f}*({c}*{m})"
        text += f"+{f}" if self.use_bias else ""
        return LayerFormula(params, f"{text} = {params}", shape, Shape(f, size), pads)

    def work(self, formula: LayerFormula) -> Work:
        """The depthwise ``C*M*size*kernel`` plus the pointwise ``filters*size*C*M``.

        Example:
            >>> s = SeparableConv(filters=4, kernel_size=3).resolved(2)
            >>> s.work(s.rule(Shape(3, (8, 8)))).expression
            '3*1*6*6*(3*3)+4*6*6*(3*1) = 1404'
        """
        out, k = formula.output, self.per_axis("kernel_size")
        c, m, f = formula.input.channels, self.depth_multiplier, self.filters
        positions = prod(out.size)
        macs = c * m * positions * prod(k) + f * positions * c * m
        text = (
            f"{product_text((c, m, *out.size))}*({product_text(k)})"
            f"+{product_text((f, *out.size))}*({c}*{m})"
        )
        bias = elements(out) if self.use_bias else 0
        return Work(macs, f"{text} = {macs}", bias_adds=bias)
