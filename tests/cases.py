"""The parametrised case table shared by the shape, parity and round-trip tests.

Ranks 1-3 x strides x padding (valid, same, int) x dilation x groups / depth
multiplier x bias, for every convolution family, plus dense on a map and Flatten ->
Dense stacks. Sizes are small and mix odd and even lengths so TF's asymmetric 'same'
padding is exercised.
"""

from __future__ import annotations

import itertools

from compare.spec import (
    Conv,
    ConvTranspose,
    Dense,
    DepthwiseConv,
    Flatten,
    Input,
    Layer,
    Model,
    SeparableConv,
)

SIZES = {1: (10,), 2: (8, 7), 3: (6, 5, 7)}
CHANNELS = 4


def _conv_like(kind: str) -> list[tuple[str, Model]]:
    out = []
    grid = itertools.product((1, 2, 3), (1, 2), ("valid", "same", 1), (1, 2), (1, 2), (True, False))
    for rank, stride, padding, dilation, variant, bias in grid:
        common = dict(
            kernel_size=3, strides=stride, padding=padding, dilation=dilation, use_bias=bias
        )
        layer: Layer
        if kind == "conv":
            layer = Conv(filters=6, groups=variant, **common)
        elif kind == "conv_transpose":
            if padding == "same" or stride == 1:
                layer = ConvTranspose(filters=6, groups=variant, **common)
            else:  # integer/valid padding with stride 2: add output_padding
                layer = ConvTranspose(filters=6, groups=variant, output_padding=1, **common)
        elif kind == "depthwise_conv":
            layer = DepthwiseConv(depth_multiplier=variant, **common)
        else:
            layer = SeparableConv(filters=5, depth_multiplier=variant, **common)
        case_id = (
            f"{kind}{rank}d-s{stride}-p{padding}-d{dilation}-"
            f"{'g' if kind in ('conv', 'conv_transpose') else 'm'}{variant}-{'b' if bias else 'nb'}"
        )
        out.append((case_id, Model(case_id, Input(CHANNELS, SIZES[rank]), (layer,))))
    return out


def _dense_cases() -> list[tuple[str, Model]]:
    out = []
    for rank, bias in itertools.product((0, 1, 2, 3), (True, False)):
        size = SIZES.get(rank, ())
        name = f"dense-on-map{rank}d-{'b' if bias else 'nb'}"
        out.append((name, Model(name, Input(CHANNELS, size), (Dense(units=3, use_bias=bias),))))
        if rank:
            name = f"flatten-dense{rank}d-{'b' if bias else 'nb'}"
            layers = (Flatten(), Dense(units=3, use_bias=bias))
            out.append((name, Model(name, Input(CHANNELS, size), layers)))
    return out


def all_cases() -> list[tuple[str, Model]]:
    """Every case of the table as (id, model)."""
    cases = []
    for kind in ("conv", "conv_transpose", "depthwise_conv", "separable_conv"):
        cases += _conv_like(kind)
    return cases + _dense_cases()


def keras_refuses(model: Model) -> str | None:
    """The Keras refusal a case is expected to meet (a regex), or None."""
    layer = model.layers[-1]
    strides = getattr(layer, "strides", (1,))
    dilation = getattr(layer, "dilation", (1,))
    reasons = []
    # Keras' ConvND / ConvNDTranspose refuse strides > 1 with dilation > 1; its
    # DepthwiseConv1D/2D and SeparableConv1D/2D accept it (3-D ones are a Conv3D here).
    uses_base_conv = isinstance(layer, Conv | ConvTranspose) or len(strides) == 3
    if uses_base_conv and max(strides) > 1 and max(dilation) > 1:
        reasons.append("strides > 1.*dilation_rate > 1")
    if isinstance(layer, ConvTranspose) and layer.groups > 1:
        reasons.append("keyword arguments.*'groups'")
    if isinstance(layer, ConvTranspose) and max(dilation) > 1 and not reasons:
        # TensorFlow's CPU kernel refuses it (compare.kinds.conv.keras.DILATED_TRANSPOSE)
        reasons.append("CPU kernel for transposed convolutions refuses dilation_rate > 1")
    return "|".join(reasons) or None
