"""Framework-free output shapes and parameter counts: the oracle the frameworks are held to.

Nothing here imports torch, tensorflow or keras. ``infer(model)`` walks a model's
layers, checks every rule that needs the incoming shape, and returns one
``LayerFormula`` per layer with the parameter count as a number and as a readable
expression (``"8*(3*3*40)+8 = 2888"``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from compare.errors import SpecError
from compare.spec import (
    Conv,
    ConvTranspose,
    Dense,
    DepthwiseConv,
    Flatten,
    Layer,
    Model,
    SeparableConv,
    ceil_div,
    prod,
)

__all__ = ["LayerFormula", "Shape", "conv_output_size", "infer", "layer_formula", "same_pads"]

Pads = tuple[tuple[int, int], ...]


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
        >>> from compare.spec import Input
        >>> f = infer(Model("m", Input(1, (28, 28)), (Conv(filters=40, kernel_size=3),)))[0]
        >>> f.params, f.expression, f.output.torch()
        (400, '40*(3*3*1)+40 = 400', (None, 40, 26, 26))
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


def _conv_pads(layer: Conv | DepthwiseConv | SeparableConv | ConvTranspose, shape: Shape) -> Pads:
    assert isinstance(layer.kernel_size, tuple)
    assert isinstance(layer.strides, tuple) and isinstance(layer.dilation, tuple)
    if layer.padding == "valid":
        return tuple((0, 0) for _ in shape.size)
    if layer.padding == "same":
        return tuple(
            same_pads(n, k, s, d)
            for n, k, s, d in zip(shape.size, layer.kernel_size, layer.strides, layer.dilation)
        )
    assert isinstance(layer.padding, tuple)
    return tuple((p, p) for p in layer.padding)


def _spatial_out(
    layer: Conv | DepthwiseConv | SeparableConv, shape: Shape
) -> tuple[Pads, tuple[int, ...]]:
    assert isinstance(layer.kernel_size, tuple)
    assert isinstance(layer.strides, tuple) and isinstance(layer.dilation, tuple)
    pads = _conv_pads(layer, shape)
    out = []
    for axis, (n, k, s, d, p) in enumerate(
        zip(shape.size, layer.kernel_size, layer.strides, layer.dilation, pads)
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


def _need_spatial(layer: Layer, shape: Shape) -> None:
    if shape.rank == 0:
        raise SpecError(
            f"kind='{layer.kind}' needs spatial axes, but its input is a flat vector of "
            f"{shape.channels} features"
        )


def _kernel_text(kernel: tuple[int, ...]) -> str:
    return "*".join(str(k) for k in kernel)


def _check_groups(layer: Conv | ConvTranspose, shape: Shape) -> None:
    if shape.channels % layer.groups:
        raise SpecError(
            f"groups={layer.groups} must divide filters={layer.filters} and "
            f"channels={shape.channels}"
        )


def _grouped_params(layer: Conv | ConvTranspose, shape: Shape) -> tuple[int, str]:
    """A (transposed) conv's parameter count and its expression, without the total:
    each of ``filters`` sees kernel * channels / groups inputs, plus one bias each."""
    assert isinstance(layer.kernel_size, tuple)
    per_filter = prod(layer.kernel_size) * shape.channels // layer.groups
    params = layer.filters * per_filter + (layer.filters if layer.use_bias else 0)
    group = f"/{layer.groups}" if layer.groups > 1 else ""
    text = f"{layer.filters}*({_kernel_text(layer.kernel_size)}*{shape.channels}{group})"
    text += f"+{layer.filters}" if layer.use_bias else ""
    return params, text


def _conv(layer: Conv, shape: Shape) -> LayerFormula:
    _need_spatial(layer, shape)
    assert isinstance(layer.kernel_size, tuple)
    _check_groups(layer, shape)
    pads, size = _spatial_out(layer, shape)
    params, text = _grouped_params(layer, shape)
    return LayerFormula(params, f"{text} = {params}", shape, Shape(layer.filters, size), pads)


def _conv_transpose(layer: ConvTranspose, shape: Shape) -> LayerFormula:
    _need_spatial(layer, shape)
    assert isinstance(layer.kernel_size, tuple) and isinstance(layer.output_padding, tuple)
    assert isinstance(layer.strides, tuple) and isinstance(layer.dilation, tuple)
    _check_groups(layer, shape)
    crops, extend, size = [], [], []
    for axis, (n, k, s, d, op) in enumerate(
        zip(shape.size, layer.kernel_size, layer.strides, layer.dilation, layer.output_padding)
    ):
        if op >= max(s, d):
            raise SpecError(
                f"output_padding={op} on spatial axis {axis} must be smaller than "
                f"strides={s} or dilation={d}"
            )
        effective = d * (k - 1) + 1
        full = (n - 1) * s + effective
        if layer.padding == "same":
            total = effective - s
            crop = (total // 2, total - total // 2) if total >= 0 else (0, 0)
            ext = max(-total, 0)
        else:
            p = 0 if not isinstance(layer.padding, tuple) else layer.padding[axis]
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
    params, text = _grouped_params(layer, shape)
    return LayerFormula(
        params,
        f"{text} = {params}",
        shape,
        Shape(layer.filters, tuple(size)),
        tuple(crops),
        tuple(extend),
    )


def _depthwise(layer: DepthwiseConv, shape: Shape) -> LayerFormula:
    _need_spatial(layer, shape)
    assert isinstance(layer.kernel_size, tuple)
    pads, size = _spatial_out(layer, shape)
    c, m = shape.channels, layer.depth_multiplier
    params = c * m * prod(layer.kernel_size) + (c * m if layer.use_bias else 0)
    text = f"{c}*{m}*({_kernel_text(layer.kernel_size)})"
    text += f"+{c * m}" if layer.use_bias else ""
    return LayerFormula(params, f"{text} = {params}", shape, Shape(c * m, size), pads)


def _separable(layer: SeparableConv, shape: Shape) -> LayerFormula:
    _need_spatial(layer, shape)
    assert isinstance(layer.kernel_size, tuple)
    pads, size = _spatial_out(layer, shape)
    c, m, f = shape.channels, layer.depth_multiplier, layer.filters
    params = c * m * prod(layer.kernel_size) + c * m * f + (f if layer.use_bias else 0)
    text = f"{c}*{m}*({_kernel_text(layer.kernel_size)})+{f}*({c}*{m})"
    text += f"+{f}" if layer.use_bias else ""
    return LayerFormula(params, f"{text} = {params}", shape, Shape(f, size), pads)


def _dense(layer: Dense, shape: Shape) -> LayerFormula:
    n = shape.channels
    params = layer.units * n + (layer.units if layer.use_bias else 0)
    text = f"{layer.units}*{n}" + (f"+{layer.units}" if layer.use_bias else "")
    return LayerFormula(params, f"{text} = {params}", shape, Shape(layer.units, shape.size))


def _flatten(layer: Flatten, shape: Shape) -> LayerFormula:
    if shape.rank == 0:
        return LayerFormula(0, "0", shape, shape)
    features = shape.channels * prod(shape.size)
    out = Shape(features, (), (shape.channels, shape.size))
    return LayerFormula(0, "0", shape, out)


RULES: dict[type[Layer], Callable[..., LayerFormula]] = {
    Conv: _conv,
    ConvTranspose: _conv_transpose,
    DepthwiseConv: _depthwise,
    SeparableConv: _separable,
    Dense: _dense,
    Flatten: _flatten,
}


def _check_dtype(layer: Layer, shape: Shape) -> None:
    if shape.dtype == layer.input_dtype:
        return
    if shape.dtype == "int":
        raise SpecError(
            f"kind='{layer.kind}' needs float activations, but its input is a sequence of "
            "integer token ids; put an embedding first"
        )
    raise SpecError(
        f"kind='{layer.kind}' needs integer token ids (an input with dtype='int'), but "
        f"its input is float activations of shape {shape.torch()[1:]}"
    )


# Normalisation, pooling, dropout and activation kinds live in their own module.
from compare.formulas_layers import LAYER_RULES  # noqa: E402

RULES.update(LAYER_RULES)


def layer_formula(layer: Layer, shape: Shape) -> LayerFormula:
    """The formula of one resolved layer on an input of ``shape`` (raises SpecError).

    Example:
        >>> layer_formula(Dense(units=10).resolved(0), Shape(8)).params
        90
    """
    _check_dtype(layer, shape)
    return RULES[type(layer)](layer, shape)


def infer(model: Model) -> tuple[LayerFormula, ...]:
    """Walk the model, check shape rules and return one formula per layer.

    Example:
        >>> from compare.spec import Input, Model, Conv, Flatten, Dense
        >>> m = Model("seed", Input(1, (28, 28)), (Conv(filters=40, kernel_size=3),
        ...     Conv(filters=8, kernel_size=3), Flatten(), Dense(units=10)))
        >>> [f.params for f in infer(m)]
        [400, 2888, 0, 46090]
    """
    known = model.__dict__.get("_formulas")  # a Model infers once, when it is made
    if known is not None:
        return known
    shape = Shape(model.input.channels, model.input.size, dtype=model.input.dtype)
    out = []
    for index, layer in enumerate(model.layers):
        rule = RULES[type(layer)]
        try:
            _check_dtype(layer, shape)
            formula = rule(layer, shape)
        except SpecError as exc:
            raise SpecError(f"model '{model.name}', layer {index} ({layer.kind}): {exc}") from exc
        out.append(formula)
        shape = formula.output
    return tuple(out)


# Families kept in their own modules register their rules in RULES when imported.
import compare.sequence  # noqa: E402, F401  (lstm, gru, simple_rnn, embedding)
