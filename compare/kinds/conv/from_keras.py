"""What the Keras importer maps to the conv kinds: ``Conv*D``, ``Conv*DTranspose``,
``DepthwiseConv*D``, ``SeparableConv*D``, and the ``ZeroPadding*D`` / ``Cropping*D``
that fold into them (``compare.kinds.conv.folds``).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import keras

from compare.core.registry import register_part
from compare.importers.base import Pads, Piece, Refuse
from compare.importers.keras import channels_last, roles
from compare.kinds.conv.spec import Conv, ConvTranspose, DepthwiseConv, SeparableConv

__all__: list[str] = []

L = keras.layers


def _padding(layer: Any) -> str:
    if layer.padding not in ("valid", "same"):
        raise Refuse(f"padding={layer.padding!r}; the spec has 'valid', 'same' or explicit pads")
    return str(layer.padding)


@register_part("keras", "layer", L.Conv1D, L.Conv2D, L.Conv3D)
def _conv(layer: Any, piece: Piece) -> Piece:
    channels_last(layer)
    spec = Conv(
        filters=layer.filters,
        kernel_size=tuple(layer.kernel_size),
        strides=tuple(layer.strides),
        padding=_padding(layer),
        dilation=tuple(layer.dilation_rate),
        groups=layer.groups,
        use_bias=bool(layer.use_bias),
    )
    return replace(piece, layer=spec, roles=roles(layer, kernel="kernel", bias="bias"))


@register_part("keras", "layer", L.Conv1DTranspose, L.Conv2DTranspose, L.Conv3DTranspose)
def _conv_transpose(layer: Any, piece: Piece) -> Piece:
    channels_last(layer)
    padding = _padding(layer)
    kernel, strides = tuple(layer.kernel_size), tuple(layer.strides)
    dilation = tuple(layer.dilation_rate)
    if layer.output_padding is None:
        # Keras' own rule: 'valid' gives (n-1)*s + max(k_eff, s), 'same' gives n*s.
        effective = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
        extend = (
            tuple(max(s - e, 0) for s, e in zip(strides, effective))
            if padding == "valid"
            else (0,) * len(kernel)
        )
    elif padding == "same":
        raise Refuse(
            f"padding='same' with output_padding={layer.output_padding}; the spec's 'same' "
            "transposed conv has no output_padding"
        )
    else:
        extend = tuple(layer.output_padding)
    spec = ConvTranspose(
        filters=layer.filters,
        kernel_size=kernel,
        strides=strides,
        padding=padding,
        output_padding=extend,
        dilation=dilation,
        use_bias=bool(layer.use_bias),
        groups=getattr(layer, "groups", 1) or 1,
    )
    return replace(piece, layer=spec, roles=roles(layer, kernel="kernel", bias="bias"))


@register_part("keras", "layer", L.DepthwiseConv1D, L.DepthwiseConv2D)
def _depthwise(layer: Any, piece: Piece) -> Piece:
    channels_last(layer)
    spec = DepthwiseConv(
        kernel_size=tuple(layer.kernel_size),
        strides=tuple(layer.strides),
        padding=_padding(layer),
        dilation=tuple(layer.dilation_rate),
        use_bias=bool(layer.use_bias),
        depth_multiplier=layer.depth_multiplier,
    )
    found = roles(layer, depthwise_kernel="kernel", bias="bias")
    return replace(piece, layer=spec, roles=found)


@register_part("keras", "layer", "keras.src.applications.convnext.LayerScale")
def _layer_scale(layer: Any, piece: Piece) -> Piece:
    """keras.applications ConvNeXt's ``LayerScale``, ``x * gamma`` with one gamma per
    channel: a 1x1 depthwise conv without bias computes exactly that."""
    gamma = getattr(layer, "gamma", None)
    rank = piece.in_shape.rank
    if gamma is None or tuple(gamma.shape) != (piece.in_shape.channels,) or rank == 0:
        raise Refuse(
            f"a LayerScale over {piece.in_shape.keras()[1:]}; read is one gamma per channel "
            "of a map"
        )
    spec = DepthwiseConv(kernel_size=(1,) * rank, use_bias=False)
    kernel = (layer, "gamma", (*(1,) * rank, piece.in_shape.channels, 1))
    return replace(piece, layer=spec, roles={"depthwise_kernel": kernel})


@register_part("keras", "layer", L.SeparableConv1D, L.SeparableConv2D)
def _separable(layer: Any, piece: Piece) -> Piece:
    channels_last(layer)
    spec = SeparableConv(
        filters=layer.filters,
        kernel_size=tuple(layer.kernel_size),
        strides=tuple(layer.strides),
        padding=_padding(layer),
        dilation=tuple(layer.dilation_rate),
        use_bias=bool(layer.use_bias),
        depth_multiplier=layer.depth_multiplier,
    )
    found = roles(
        layer,
        depthwise_kernel="depthwise_kernel",
        pointwise_kernel="pointwise_kernel",
        bias="bias",
    )
    return replace(piece, layer=spec, roles=found)


@register_part("keras", "depthwise_roles", "depthwise_conv")
def _depthwise_roles(
    found: dict[str, Any], kernel: tuple[int, ...], channels: int, multiplier: int
) -> dict[str, Any]:
    """A grouped conv's (*k, 1, C*M) kernel, read as the depthwise (*k, C, M) one."""
    layer, attr, _ = found["kernel"]
    return {"depthwise_kernel": (layer, attr, (*kernel, channels, multiplier))}


def _pairs(value: Any) -> Pads:
    if isinstance(value[0], int):  # 1-d layers hold one (before, after) pair
        return ((int(value[0]), int(value[1])),)
    return tuple((int(a), int(b)) for a, b in value)


@register_part("keras", "layer", L.ZeroPadding1D, L.ZeroPadding2D, L.ZeroPadding3D)
def _zero_padding(layer: Any, piece: Piece) -> Piece:
    channels_last(layer)
    return replace(piece, pad=_pairs(layer.padding))


@register_part("keras", "layer", L.Cropping1D, L.Cropping2D, L.Cropping3D)
def _cropping(layer: Any, piece: Piece) -> Piece:
    channels_last(layer)
    return replace(piece, crop=_pairs(layer.cropping))
