"""Keras builders and defaults of the conv family: ``conv``, ``conv_transpose``,
``depthwise_conv`` and ``separable_conv``.

Class tables by rank. Keras has no integer padding, so explicit padding becomes
``ZeroPaddingND`` + ``'valid'`` (or ``'same'`` where that is exactly the same
padding); a transposed conv with integer padding is ``'valid'`` plus ``CroppingND``;
Keras has no 3-D depthwise or separable layer, so those are a grouped ``Conv3D``
(plus a 1x1x1 ``Conv3D``), which is what they compute.

Example:
    >>> from compare.formulas import infer
    >>> from compare.spec import Conv, Input, Model
    >>> m = Model("m", Input(1, (8, 8)), (Conv(filters=2, kernel_size=3),))
    >>> [type(p).__name__ for p in build_conv(m.layers[0], infer(m)[0], "c", "float32")[0]]
    ['Conv2D']
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from compare.adapters._keras_import import keras
from compare.adapters.base import Made, Notes, Unsupported
from compare.adapters.keras_defaults import as_int, linear_default
from compare.adapters.keras_modules import ZERO_PAD, Role, pad_arg
from compare.core.registry import register_part
from compare.core.validate import as_tuple
from compare.defaults import signature_default
from compare.formulas import LayerFormula, same_pads
from compare.kinds.conv.spec import Conv, ConvTranspose, DepthwiseConv, SeparableConv

#: Why a dilated transposed convolution is refused on the Keras side. TensorFlow's CPU
#: kernel for it (``Conv2DBackpropInput`` / ``Conv3DBackpropInputV2``) raises
#: "Current CPU implementations do not yet support dilation rates larger than 1"
#: when the layer runs; only CPUs on which TensorFlow enables oneDNN run it. The
#: refusal is made for every machine so that reports do not depend on the CPU
#: (``tests/test_keras_cpu.py`` checks the real kernel on the machine it runs on).
DILATED_TRANSPOSE = (
    "TensorFlow's CPU kernel for transposed convolutions refuses dilation_rate > 1 "
    "('Current CPU implementations do not yet support dilation rates larger than 1'; "
    "only CPUs on which TensorFlow enables oneDNN run it)"
)

__all__ = [
    "build_conv",
    "build_conv_transpose",
    "build_depthwise_conv",
    "build_separable_conv",
    "conv_defaults",
]

L = keras.layers
_CONV = {1: L.Conv1D, 2: L.Conv2D, 3: L.Conv3D}
_CONV_T = {1: L.Conv1DTranspose, 2: L.Conv2DTranspose, 3: L.Conv3DTranspose}
_DEPTHWISE = {1: L.DepthwiseConv1D, 2: L.DepthwiseConv2D}
_SEPARABLE = {1: L.SeparableConv1D, 2: L.SeparableConv2D}
_CROP = {1: L.Cropping1D, 2: L.Cropping2D, 3: L.Cropping3D}
#: the class whose signature holds a kind's defaults (3-D: the grouped Conv3D it is)
_DEPTHWISE_CLS = {**_DEPTHWISE, 3: L.Conv3D}
_SEPARABLE_CLS = {**_SEPARABLE, 3: L.Conv3D}

_sig = signature_default


def _conv_padding(
    layer: Conv | DepthwiseConv | SeparableConv,
    formula: LayerFormula,
    name: str,
    dtype: str,
) -> tuple[list[Any], str, Notes]:
    """Leading ZeroPadding layers (if any), the conv's padding, and notes."""
    assert formula.pads is not None
    if isinstance(layer.padding, str):
        return [], layer.padding, ()
    if all(a == 0 and b == 0 for a, b in formula.pads):
        return [], "valid", ()
    tf_same = tuple(
        same_pads(n, k, s, d)
        for n, k, s, d in zip(
            formula.input.size,
            layer.per_axis("kernel_size"),
            layer.per_axis("strides"),
            layer.per_axis("dilation"),
        )
    )
    if tf_same == formula.pads:
        note = f"padding={formula.pads} is exactly what padding='same' does here"
        return [], "same", (("padding", note),)
    rank = formula.input.rank
    pad = ZERO_PAD[rank](pad_arg(formula.pads), name=f"{name}_pad", dtype=dtype)
    note = (
        f"Keras has no integer padding: ZeroPadding{rank}D{pad_arg(formula.pads)} "
        "then padding='valid'"
    )
    return [pad], "valid", (("padding", note),)


@register_part("keras", "build", "conv")
def build_conv(layer: Conv, formula: LayerFormula, name: str, dtype: str) -> Made:
    """``ConvND`` (after a ``ZeroPaddingND`` when Keras' own padding differs).

    Example:
        >>> from compare.formulas import infer
        >>> from compare.spec import Input, Model
        >>> m = Model("m", Input(1, (8, 8)), (Conv(filters=2, kernel_size=3, padding=2),))
        >>> [type(p).__name__ for p in build_conv(m.layers[0], infer(m)[0], "c", "float32")[0]]
        ['ZeroPadding2D', 'Conv2D']
    """
    rank = formula.input.rank
    pre, padding, notes = _conv_padding(layer, formula, name, dtype)
    extra = {"groups": layer.groups} if layer.groups > 1 else {}
    conv = _CONV[rank](
        layer.filters,
        layer.kernel_size,
        strides=layer.strides,
        padding=padding,
        dilation_rate=layer.dilation,
        use_bias=layer.use_bias,
        name=name,
        dtype=dtype,
        **extra,
    )
    return [*pre, conv], {"kernel": (conv, "kernel", None), "bias": (conv, "bias", None)}, notes


@register_part("keras", "build", "conv_transpose")
def build_conv_transpose(
    layer: ConvTranspose, formula: LayerFormula, name: str, dtype: str
) -> Made:
    """``ConvNDTranspose`` (then a ``CroppingND`` for integer padding).

    Example:
        >>> from compare.formulas import infer
        >>> from compare.spec import Input, Model
        >>> m = Model("m", Input(1, (4,)), (ConvTranspose(filters=2, kernel_size=3, padding=1),))
        >>> build_conv_transpose(m.layers[0], infer(m)[0], "t", "float32")[2][0][0]
        'padding'
    """
    rank = formula.input.rank
    extra = {"groups": layer.groups} if layer.groups > 1 else {}
    if layer.padding == "same":
        padding, output_padding, crop = "same", None, None
    else:
        padding, output_padding = "valid", layer.output_padding
        crop = None if layer.padding == "valid" else formula.pads
        if crop is not None and not any(a or b for a, b in crop):
            crop = None
    conv = _CONV_T[rank](
        layer.filters,
        layer.kernel_size,
        strides=layer.strides,
        padding=padding,
        output_padding=output_padding,
        dilation_rate=layer.dilation,
        use_bias=layer.use_bias,
        name=name,
        dtype=dtype,
        **extra,
    )
    if max(as_tuple(layer.dilation)) > 1:  # after Keras' own refusals, which come first
        raise Unsupported(DILATED_TRANSPOSE)
    parts: list[Any] = [conv]
    notes: Notes = ()
    if crop is not None:
        parts.append(_CROP[rank](pad_arg(crop), name=f"{name}_crop", dtype=dtype))
        text = (
            "Keras has no integer padding for transposed convs: padding='valid', "
            f"output_padding={output_padding}, then "
            f"Cropping{rank}D{pad_arg(crop)}"
        )
        notes = (("padding", text),)
    roles = {"kernel": (conv, "kernel", None), "bias": (conv, "bias", None)}
    return parts, roles, notes


@register_part("keras", "build", "depthwise_conv")
def build_depthwise_conv(
    layer: DepthwiseConv, formula: LayerFormula, name: str, dtype: str
) -> Made:
    """``DepthwiseConvND``, or a grouped ``Conv3D`` (Keras has no ``DepthwiseConv3D``).

    Example:
        >>> from compare.formulas import infer
        >>> from compare.spec import Input, Model
        >>> m = Model("m", Input(2, (4, 4, 4)), (DepthwiseConv(kernel_size=3),))
        >>> build_depthwise_conv(m.layers[0], infer(m)[0], "d", "float32")[1]["depthwise_kernel"][2]
        (3, 3, 3, 2, 1)
    """
    rank, c, m = formula.input.rank, formula.input.channels, layer.depth_multiplier
    pre, padding, notes = _conv_padding(layer, formula, name, dtype)
    common = dict(
        strides=layer.strides,
        padding=padding,
        dilation_rate=layer.dilation,
        use_bias=layer.use_bias,
        name=name,
        dtype=dtype,
    )
    if rank in _DEPTHWISE:
        conv = _DEPTHWISE[rank](layer.per_axis("kernel_size"), depth_multiplier=m, **common)
        role_shape = None
    else:
        conv = _CONV[rank](c * m, layer.per_axis("kernel_size"), groups=c, **common)
        role_shape = (*layer.per_axis("kernel_size"), c, m)
        text = f"Keras has no DepthwiseConv{rank}D: Conv{rank}D(groups={c}) computes the same"
        notes += (("realisation", text),)
    roles = {"depthwise_kernel": (conv, "kernel", role_shape), "bias": (conv, "bias", None)}
    return [*pre, conv], roles, notes


@register_part("keras", "build", "separable_conv")
def build_separable_conv(
    layer: SeparableConv, formula: LayerFormula, name: str, dtype: str
) -> Made:
    """``SeparableConvND``, or a grouped ``Conv3D`` then a 1x1x1 ``Conv3D``.

    Example:
        >>> from compare.formulas import infer
        >>> from compare.spec import Input, Model
        >>> m = Model("m", Input(2, (4, 4, 4)), (SeparableConv(filters=3, kernel_size=3),))
        >>> built = build_separable_conv(m.layers[0], infer(m)[0], "s", "float32")
        >>> [type(p).__name__ for p in built[0]]
        ['Conv3D', 'Conv3D']
    """
    rank, c, m = formula.input.rank, formula.input.channels, layer.depth_multiplier
    pre, padding, notes = _conv_padding(layer, formula, name, dtype)
    common = dict(strides=layer.strides, padding=padding, dilation_rate=layer.dilation)
    if rank in _SEPARABLE:
        conv = _SEPARABLE[rank](
            layer.filters,
            layer.per_axis("kernel_size"),
            depth_multiplier=m,
            use_bias=layer.use_bias,
            name=name,
            dtype=dtype,
            **common,
        )
        roles: dict[str, Role] = {
            "depthwise_kernel": (conv, "depthwise_kernel", None),
            "pointwise_kernel": (conv, "pointwise_kernel", None),
            "bias": (conv, "bias", None),
        }
        return [*pre, conv], roles, notes
    depthwise = _CONV[rank](
        c * m,
        layer.per_axis("kernel_size"),
        groups=c,
        use_bias=False,
        name=f"{name}_depthwise",
        dtype=dtype,
        **common,
    )
    pointwise = _CONV[rank](layer.filters, 1, use_bias=layer.use_bias, name=name, dtype=dtype)
    text = (
        f"Keras has no SeparableConv{rank}D: Conv{rank}D(groups={c}) then a 1x1x1 "
        f"Conv{rank}D compute the same"
    )
    notes += (("realisation", text),)
    roles = {
        "depthwise_kernel": (depthwise, "kernel", (*layer.per_axis("kernel_size"), c, m)),
        "pointwise_kernel": (pointwise, "kernel", None),
        "bias": (pointwise, "bias", None),
    }
    return [*pre, depthwise, pointwise], roles, notes


def conv_defaults(cls: Any) -> dict[str, Any]:
    """A conv class's defaults in the spec's terms.

    Example:
        >>> conv_defaults(L.Conv2D)["activation"]
        'linear'
    """
    return {
        "strides": as_int(_sig(cls, "strides")),
        "padding": _sig(cls, "padding"),
        "dilation": as_int(_sig(cls, "dilation_rate")),
        "use_bias": _sig(cls, "use_bias"),
        "activation": linear_default(_sig(cls, "activation")),
    }


#: kind -> the framework's own defaults, in the spec's convention, read from signatures
_DEFAULTS: dict[str, Callable[[Any, LayerFormula], dict[str, Any]]] = {
    "conv": lambda layer, f: {
        **conv_defaults(_CONV[f.input.rank]),
        "groups": _sig(_CONV[f.input.rank], "groups"),
    },
    "conv_transpose": lambda layer, f: {
        **conv_defaults(_CONV_T[f.input.rank]),
        "groups": _sig(_CONV_T[f.input.rank], "groups"),
        # None here means "inferred from kernel and stride", not "no such parameter"
        "output_padding": _sig(_CONV_T[f.input.rank], "output_padding") or "inferred",
    },
    "depthwise_conv": lambda layer, f: conv_defaults(_DEPTHWISE_CLS[f.input.rank]),
    "separable_conv": lambda layer, f: conv_defaults(_SEPARABLE_CLS[f.input.rank]),
}
for _kind, _read in _DEFAULTS.items():
    register_part("keras", "defaults", _kind)(_read)
