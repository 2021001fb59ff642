"""compare's facts against layers built straight in both frameworks by the test itself."""

from __future__ import annotations

import keras
import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from compare.comparison import compare_model
from compare.spec import Conv, Input, Model

TORCH_CONV = {1: torch.nn.Conv1d, 2: torch.nn.Conv2d, 3: torch.nn.Conv3d}
KERAS_CONV = {1: keras.layers.Conv1D, 2: keras.layers.Conv2D, 3: keras.layers.Conv3D}


@st.composite
def conv_specs(draw):
    rank = draw(st.integers(1, 3))
    size = tuple(draw(st.integers(6, 10)) for _ in range(rank))
    groups = draw(st.sampled_from([1, 2]))
    channels = groups * draw(st.integers(1, 3))
    filters = groups * draw(st.integers(1, 3))
    kernel = draw(st.integers(1, 3))
    stride = draw(st.integers(1, 2))
    dilation = 1 if stride > 1 else draw(st.integers(1, 2))
    # Both frameworks take these paddings natively: valid always, same at stride 1.
    padding = draw(st.sampled_from(["valid", "same"] if stride == 1 else ["valid"]))
    bias = draw(st.booleans())
    return rank, size, channels, filters, kernel, stride, dilation, padding, groups, bias


@settings(max_examples=20, deadline=None)
@given(conv_specs())
def test_random_conv_matches_layers_built_straight(params):
    rank, size, channels, filters, kernel, stride, dilation, padding, groups, bias = params
    layer = Conv(
        filters=filters,
        kernel_size=kernel,
        strides=stride,
        padding=padding,
        dilation=dilation,
        groups=groups,
        use_bias=bias,
    )
    result = compare_model(Model("straight", Input(channels, size), (layer,)))
    mine = result.layers[0].frameworks

    straight_torch = TORCH_CONV[rank](
        channels,
        filters,
        kernel,
        stride=stride,
        padding=padding,
        dilation=dilation,
        groups=groups,
        bias=bias,
    )
    y = straight_torch(torch.zeros(1, channels, *size))
    assert mine["torch"].output_shape == (None, *y.shape[1:])
    assert mine["torch"].params == sum(p.numel() for p in straight_torch.parameters())
    assert [w.shape for w in mine["torch"].weights] == [
        tuple(p.shape) for p in straight_torch.parameters()
    ]

    straight_keras = KERAS_CONV[rank](
        filters,
        kernel,
        strides=stride,
        padding=padding,
        dilation_rate=dilation,
        groups=groups,
        use_bias=bias,
    )
    y = straight_keras(np.zeros((1, *size, channels), dtype="float32"))
    assert mine["keras"].output_shape == (None, *y.shape[1:])
    assert mine["keras"].params == straight_keras.count_params()
    assert [w.shape for w in mine["keras"].weights] == [
        tuple(w.shape) for w in straight_keras.weights
    ]
    assert result.layers[0].parity.status == "ok"
