"""Every SpecError rule: the message names the field, the value and the rule."""

from __future__ import annotations

import pytest

from compare import SpecError
from compare.spec import (
    Conv,
    ConvTranspose,
    Dense,
    DepthwiseConv,
    Input,
    Model,
    layer_from_dict,
    model_from_dict,
)


def model(layers, channels=4, size=(8, 8), name="m"):
    return model_from_dict(
        {"name": name, "input": {"channels": channels, "size": list(size)}, "layers": layers}
    )


@pytest.mark.parametrize(
    ("layers", "channels", "size", "match"),
    [
        (
            [{"kind": "conv", "filters": 6, "kernel_size": 3, "groups": 4}],
            4,
            (8, 8),
            r"groups=4 must divide filters=6",
        ),
        (
            [{"kind": "conv", "filters": 6, "kernel_size": 3, "groups": 3}],
            4,
            (8, 8),
            r"groups=3 must divide filters=6 and channels=4",
        ),
        (
            [{"kind": "conv", "filters": 0, "kernel_size": 3}],
            4,
            (8, 8),
            r"filters=0 must be an integer >= 1",
        ),
        (
            [{"kind": "conv", "filters": True, "kernel_size": 3}],
            4,
            (8, 8),
            r"filters=True must be an integer >= 1 \(got bool\)",
        ),
        (
            [{"kind": "conv", "filters": 2.0, "kernel_size": 3}],
            4,
            (8, 8),
            r"filters=2.0 must be an integer >= 1 \(got float\)",
        ),
        (
            [{"kind": "conv", "filters": 2, "kernel_size": [3, 3, 3]}],
            4,
            (8, 8),
            r"kernel_size=\[3, 3, 3\] has 3 values but the input has 2 spatial axes",
        ),
        (
            [{"kind": "conv", "filters": 2, "kernel_size": [3, 0]}],
            4,
            (8, 8),
            r"kernel_size=\[3, 0\] must hold integers >= 1 \(got 0\)",
        ),
        (
            [{"kind": "conv", "filters": 2, "kernel_size": 9}],
            4,
            (8, 8),
            r"kernel_size=9 on spatial axis 0 is larger than the padded input 8",
        ),
        (
            [{"kind": "conv", "filters": 2, "kernel_size": 3, "dilation": 4}],
            4,
            (8, 8),
            r"kernel_size=3 \(dilated to 9\) on spatial axis 0 is larger than the padded input 8",
        ),
        (
            [{"kind": "conv", "filters": 2, "kernel_size": 3, "padding": "full"}],
            4,
            (8, 8),
            r"padding='full' must be 'valid', 'same', an integer or one integer per spatial axis",
        ),
        (
            [{"kind": "conv", "filters": 2, "kernel_size": 3, "padding": -1}],
            4,
            (8, 8),
            r"padding=-1 must be an integer >= 0",
        ),
        (
            [{"kind": "conv", "filters": 2, "kernel_size": 3, "strides": 0}],
            4,
            (8, 8),
            r"strides=0 must be an integer >= 1",
        ),
        (
            [{"kind": "conv", "filters": 2, "kernel_size": 3, "use_bias": "yes"}],
            4,
            (8, 8),
            r"use_bias='yes' must be true or false",
        ),
        (
            [{"kind": "conv", "filters": 2, "kernel_size": 3, "colour": 1}],
            4,
            (8, 8),
            r"unknown field 'colour'; fields of conv: .*filters",
        ),
        (
            [{"kind": "conv", "filters": 2, "out_channels": 2, "kernel_size": 3}],
            4,
            (8, 8),
            r"field 'filters' given twice",
        ),
        (
            [{"kind": "conv3d", "filters": 2, "kernel_size": 3}],
            4,
            (8, 8),
            r"kind='conv3d' needs a 3-d input, but the input is 2-d",
        ),
        (
            [{"kind": "pool", "size": 2}],
            4,
            (8, 8),
            r"unknown kind='pool'; known kinds: activation, .*conv",
        ),
        ([{"filters": 2}], 4, (8, 8), r"layer 0: field 'kind' is missing"),
        ([{"kind": "conv", "kernel_size": 3}], 4, (8, 8), r"filters=0 must be an integer >= 1"),
        ([{"kind": "dense", "units": -3}], 4, (8, 8), r"units=-3 must be an integer >= 1"),
        (
            [{"kind": "flatten"}, {"kind": "conv", "filters": 2, "kernel_size": 1}],
            4,
            (8, 8),
            r"layer 1 \(conv\): kind='conv' needs spatial axes, but its input is a flat vector",
        ),
        (
            [{"kind": "conv", "filters": 2, "kernel_size": 3}],
            4,
            (),
            r"kind='conv' needs an input with at least 1 spatial axes",
        ),
        (
            [
                {
                    "kind": "conv_transpose",
                    "filters": 2,
                    "kernel_size": 3,
                    "strides": 2,
                    "output_padding": 2,
                }
            ],
            4,
            (8, 8),
            r"output_padding=2 on spatial axis 0 must be smaller than strides=2 or dilation=1",
        ),
        (
            [
                {
                    "kind": "conv_transpose",
                    "filters": 2,
                    "kernel_size": 3,
                    "padding": "same",
                    "output_padding": 1,
                }
            ],
            4,
            (8, 8),
            r"output_padding=1 needs integer or 'valid' padding",
        ),
        (
            [{"kind": "conv_transpose", "filters": 2, "kernel_size": 1, "padding": 1}],
            4,
            (2, 2),
            r"padding=1 on spatial axis 0 crops the whole output",
        ),
        (
            [{"kind": "depthwise_conv", "kernel_size": 3, "depth_multiplier": 0}],
            4,
            (8, 8),
            r"depth_multiplier=0 must be an integer >= 1",
        ),
    ],
)
def test_layer_rules(layers, channels, size, match):
    with pytest.raises(SpecError, match=match):
        model(layers, channels, size)


def test_error_names_the_model_and_layer():
    with pytest.raises(SpecError, match=r"^model 'net', layer 1 \(conv\): groups=3"):
        model(
            [
                {"kind": "conv", "filters": 4, "kernel_size": 1},
                {"kind": "conv", "filters": 6, "kernel_size": 1, "groups": 3},
            ],
            name="net",
        )


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        ({"name": "m", "layers": []}, r"input=None must be a table"),
        (
            {"name": "m", "input": {"channels": 1, "size": [4]}, "layers": []},
            r"layers must hold at least one layer",
        ),
        (
            {"name": "m", "input": {"channels": 0, "size": [4]}, "layers": [{"kind": "flatten"}]},
            r"input.channels=0 must be an integer >= 1",
        ),
        (
            {
                "name": "m",
                "input": {"channels": 1, "size": [4, 0]},
                "layers": [{"kind": "flatten"}],
            },
            r"input.size=\[4, 0\] must hold positive integers",
        ),
        (
            {
                "name": "m",
                "input": {"channels": 1, "size": [2, 2, 2, 2]},
                "layers": [{"kind": "flatten"}],
            },
            r"input.size=\[2, 2, 2, 2\] must have at most 3 axes",
        ),
        (
            {
                "name": "m",
                "input": {"channels": 1, "size": [4], "layout": "nchw"},
                "layers": [{"kind": "flatten"}],
            },
            r"unknown input field\(s\) layout",
        ),
        (
            {"name": "m", "input": {"channels": 1}, "layers": "conv"},
            r"layers must be a list of layer tables",
        ),
        ({"name": "m", "inputs": {}, "layers": []}, r"unknown field\(s\) inputs"),
        (
            {"name": "", "input": {"channels": 1}, "layers": [{"kind": "flatten"}]},
            r"model name='' must be a non-empty string",
        ),
    ],
)
def test_model_rules(raw, match):
    with pytest.raises(SpecError, match=match):
        model_from_dict(raw)


def test_aliases_report_canonical_names():
    layer = layer_from_dict(
        {"kind": "conv2d", "out_channels": 8, "kernel_size": 3, "stride": 2, "bias": False}
    )
    assert list(layer.to_dict().items()) == [
        ("kind", "conv"),
        ("filters", 8),
        ("kernel_size", 3),
        ("strides", 2),
        ("padding", "valid"),
        ("dilation", 1),
        ("groups", 1),
        ("use_bias", False),
    ]
    assert layer_from_dict({"kind": "dense", "out_features": 3}).units == 3


def test_direct_construction_validates_too():
    with pytest.raises(SpecError, match="groups=4 must divide filters=6"):
        Conv(filters=6, kernel_size=3, groups=4)
    with pytest.raises(SpecError, match=r"units=1.5 must be an integer"):
        Dense(units=1.5)  # type: ignore[arg-type]
    with pytest.raises(SpecError, match=r"model 'x', layer 0 \(depthwise_conv\)"):
        Model("x", Input(2, (2,)), (DepthwiseConv(kernel_size=3),))
    with pytest.raises(SpecError, match=r"^filters=-1 must be an integer >= 1$"):
        ConvTranspose(filters=-1, kernel_size=1)


def test_spec_error_is_a_value_error():
    assert issubclass(SpecError, ValueError)
