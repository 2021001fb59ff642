"""PyTorch builders, defaults and initialisers of the conv family: ``conv``,
``conv_transpose``, ``depthwise_conv`` and ``separable_conv``.

One ``nn.ConvNd`` class table by rank serves every kind. Where ``nn.ConvNd`` cannot
express the spec's padding (TF's asymmetric 'same' with strides), an explicit
``ZeroPadNd`` precedes an unpadded conv; a transposed conv whose crop is asymmetric
is followed by a ``Crop``. PyTorch has no depthwise or separable class: they are
grouped convs (plus a 1x1 conv).

Example:
    >>> from compare.formulas import infer
    >>> from compare.spec import Conv, Input, Model
    >>> m = Model("m", Input(1, (8, 8)), (Conv(filters=2, kernel_size=3, padding=(0, 1)),))
    >>> module, roles, notes = build_conv(m.layers[0], infer(m)[0])
    >>> sorted(roles), notes
    (['bias', 'kernel'], ())
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch import nn

from compare.adapters.base import Made, Notes
from compare.adapters.torch_defaults import fan_in_uniform, padding_default
from compare.adapters.torch_modules import ZERO_PAD, Crop, zero_pad_arg
from compare.core.registry import register_part
from compare.defaults import signature_default
from compare.formulas import LayerFormula
from compare.kinds.conv.spec import Conv, ConvTranspose, DepthwiseConv, SeparableConv

__all__ = [
    "build_conv",
    "build_conv_transpose",
    "build_depthwise_conv",
    "build_separable_conv",
    "conv_defaults",
]

_CONV: dict[int, Any] = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}
_CONV_T: dict[int, Any] = {
    1: nn.ConvTranspose1d,
    2: nn.ConvTranspose2d,
    3: nn.ConvTranspose3d,
}

_sig = signature_default

_KINDS = ("conv", "conv_transpose", "depthwise_conv", "separable_conv")
register_part("torch", "initialisers", *_KINDS)(fan_in_uniform)


def _padded_conv(
    layer: Conv | DepthwiseConv | SeparableConv,
    formula: LayerFormula,
    make: Callable[[Any], nn.Module],
) -> tuple[nn.Module, nn.Module, Notes]:
    """The conv made by ``make(padding)``, preceded by a ZeroPad when asymmetric.

    Returns (whole module, the conv inside it, notes).
    """
    assert formula.pads is not None
    rank = len(formula.pads)
    symmetric = all(before == after for before, after in formula.pads)
    if symmetric:
        conv = make(tuple(before for before, _ in formula.pads))
        return conv, conv, ()
    conv = make(0)
    pad = ZERO_PAD[rank](zero_pad_arg(formula.pads))
    per_axis = ", ".join(f"({a}, {b})" for a, b in formula.pads)
    note = (
        f"padding (before, after) per axis {per_axis} is asymmetric; nn.Conv{rank}d pads "
        "symmetrically and refuses padding='same' with strides > 1, so "
        f"ZeroPad{rank}d({zero_pad_arg(formula.pads)}) precedes a Conv{rank}d(padding=0)"
    )
    return nn.Sequential(pad, conv), conv, (("padding", note),)


@register_part("torch", "build", "conv")
def build_conv(layer: Conv, formula: LayerFormula) -> Made:
    """``nn.ConvNd`` (behind a ``ZeroPadNd`` when the padding is asymmetric).

    Example:
        >>> from compare.formulas import infer
        >>> from compare.spec import Input, Model
        >>> m = Model("m", Input(1, (8, 8)), (Conv(filters=2, kernel_size=2, padding="same"),))
        >>> type(build_conv(m.layers[0], infer(m)[0])[0]).__name__
        'Sequential'
    """
    rank = formula.input.rank

    def make(padding: Any) -> nn.Module:
        return _CONV[rank](
            formula.input.channels,
            layer.filters,
            layer.kernel_size,
            stride=layer.strides,
            padding=padding,
            dilation=layer.dilation,
            groups=layer.groups,
            bias=layer.use_bias,
        )

    module, conv, notes = _padded_conv(layer, formula, make)
    return module, {"kernel": (conv, "weight"), "bias": (conv, "bias")}, notes


@register_part("torch", "build", "conv_transpose")
def build_conv_transpose(layer: ConvTranspose, formula: LayerFormula) -> Made:
    """``nn.ConvTransposeNd`` (followed by a ``Crop`` when the crop is asymmetric).

    Example:
        >>> from compare.formulas import infer
        >>> from compare.spec import Input, Model
        >>> m = Model("m", Input(1, (4,)), (ConvTranspose(filters=2, kernel_size=3),))
        >>> build_conv_transpose(m.layers[0], infer(m)[0])[0]
        ConvTranspose1d(1, 2, kernel_size=(3,), stride=(1,))
    """
    assert formula.pads is not None and formula.extend is not None
    rank = formula.input.rank
    symmetric = all(a == b for a, b in formula.pads)
    padding = tuple(a for a, _ in formula.pads) if symmetric else 0
    conv = _CONV_T[rank](
        formula.input.channels,
        layer.filters,
        layer.kernel_size,
        stride=layer.strides,
        padding=padding,
        output_padding=formula.extend,
        groups=layer.groups,
        bias=layer.use_bias,
        dilation=layer.dilation,
    )
    roles = {"kernel": (conv, "weight"), "bias": (conv, "bias")}
    if symmetric:
        return conv, roles, ()
    note = (
        f"the crop {formula.pads} of the full transposed output is asymmetric; "
        f"nn.ConvTranspose{rank}d crops symmetrically, so it runs with padding=0 "
        "and a Crop follows"
    )
    return nn.Sequential(conv, Crop(formula.pads)), roles, (("padding", note),)


@register_part("torch", "build", "depthwise_conv")
def build_depthwise_conv(layer: DepthwiseConv, formula: LayerFormula) -> Made:
    """``nn.ConvNd(groups=channels)``: PyTorch has no depthwise class.

    Example:
        >>> from compare.formulas import infer
        >>> from compare.spec import Input, Model
        >>> m = Model("m", Input(3, (8, 8)), (DepthwiseConv(kernel_size=3),))
        >>> build_depthwise_conv(m.layers[0], infer(m)[0])[0].groups
        3
    """
    rank, c = formula.input.rank, formula.input.channels

    def make(padding: Any) -> nn.Module:
        return _CONV[rank](
            c,
            c * layer.depth_multiplier,
            layer.kernel_size,
            stride=layer.strides,
            padding=padding,
            dilation=layer.dilation,
            groups=c,
            bias=layer.use_bias,
        )

    module, conv, notes = _padded_conv(layer, formula, make)
    roles = {"depthwise_kernel": (conv, "weight"), "bias": (conv, "bias")}
    text = (
        f"PyTorch has no depthwise class: Conv{rank}d(groups={c}, "
        f"out_channels={c}*{layer.depth_multiplier})"
    )
    return module, roles, (*notes, ("realisation", text))


@register_part("torch", "build", "separable_conv")
def build_separable_conv(layer: SeparableConv, formula: LayerFormula) -> Made:
    """A grouped ``nn.ConvNd`` without bias, then a 1x1 ``nn.ConvNd`` with the only bias.

    Example:
        >>> from compare.formulas import infer
        >>> from compare.spec import Input, Model
        >>> m = Model("m", Input(3, (8, 8)), (SeparableConv(filters=4, kernel_size=3),))
        >>> [type(p).__name__ for p in build_separable_conv(m.layers[0], infer(m)[0])[0]]
        ['Conv2d', 'Conv2d']
    """
    rank, c = formula.input.rank, formula.input.channels
    cm = c * layer.depth_multiplier

    def make(padding: Any) -> nn.Module:
        return _CONV[rank](
            c,
            cm,
            layer.kernel_size,
            stride=layer.strides,
            padding=padding,
            dilation=layer.dilation,
            groups=c,
            bias=False,
        )

    module, depthwise, notes = _padded_conv(layer, formula, make)
    pointwise = _CONV[rank](cm, layer.filters, 1, bias=layer.use_bias)
    parts = list(module) if isinstance(module, nn.Sequential) else [module]
    roles = {
        "depthwise_kernel": (depthwise, "weight"),
        "pointwise_kernel": (pointwise, "weight"),
        "bias": (pointwise, "bias"),
    }
    text = (
        f"PyTorch has no separable class: Conv{rank}d(groups={c}, bias=False) then a "
        f"{'x'.join('1' * rank)} Conv{rank}d with the only bias"
    )
    return nn.Sequential(*parts, pointwise), roles, (*notes, ("realisation", text))


def conv_defaults(cls: Any) -> dict[str, Any]:
    """A conv class's defaults in the spec's terms (PyTorch has no activation argument:
    the layer is linear unless a module follows).

    Example:
        >>> conv_defaults(nn.Conv2d)["padding"]
        'valid'
    """
    return {
        "strides": _sig(cls, "stride"),
        "padding": padding_default(_sig(cls, "padding")),
        "dilation": _sig(cls, "dilation"),
        "use_bias": _sig(cls, "bias"),
        "activation": "linear",
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
        "output_padding": _sig(_CONV_T[f.input.rank], "output_padding"),
    },
    # PyTorch has no depthwise or separable class: they are grouped nn.ConvNd.
    "depthwise_conv": lambda layer, f: conv_defaults(_CONV[f.input.rank]),
    "separable_conv": lambda layer, f: conv_defaults(_CONV[f.input.rank]),
}
for _kind, _read in _DEFAULTS.items():
    register_part("torch", "defaults", _kind)(_read)
