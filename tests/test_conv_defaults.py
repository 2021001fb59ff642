"""The conv and dense families' defaults rows, held against the installed frameworks'
own signatures (a release that changes a default fails here)."""

from __future__ import annotations

import inspect

import keras
import pytest
from torch import nn

from compare.comparison import compare_model
from compare.spec import model_from_dict


def _default(cls, name):
    return inspect.signature(cls).parameters[name].default


def _rows(layer, size=(6, 6)):
    model = model_from_dict(
        {"name": "d", "input": {"channels": 2, "size": list(size)}, "layers": [layer]}
    )
    return {row.name: row for row in compare_model(model).layers[0].defaults}


def _one(value):
    return value[0] if isinstance(value, tuple) else value


def test_conv_defaults_are_read_from_both_signatures():
    rows = _rows({"kind": "conv", "filters": 2, "kernel_size": 3})
    assert rows["strides"].torch == _default(nn.Conv2d, "stride") == 1
    assert rows["strides"].keras == _one(_default(keras.layers.Conv2D, "strides")) == 1
    assert rows["dilation"].torch == _default(nn.Conv2d, "dilation")
    assert rows["dilation"].keras == _one(_default(keras.layers.Conv2D, "dilation_rate"))
    assert rows["padding"].torch == "valid" and _default(nn.Conv2d, "padding") == 0
    assert rows["padding"].keras == _default(keras.layers.Conv2D, "padding") == "valid"
    assert rows["use_bias"].torch is _default(nn.Conv2d, "bias") is True
    assert rows["use_bias"].keras is _default(keras.layers.Conv2D, "use_bias") is True
    assert _default(keras.layers.Conv2D, "activation") is None
    assert rows["activation"].keras == rows["activation"].torch == "linear"
    assert not any(row.differs for row in rows.values())


def test_transposed_output_padding_default_differs_and_is_named():
    layer = {"kind": "conv_transpose", "filters": 2, "kernel_size": 1, "strides": 2}
    rows = _rows(layer)
    assert _default(nn.ConvTranspose2d, "output_padding") == 0
    assert _default(keras.layers.Conv2DTranspose, "output_padding") is None
    assert rows["output_padding"].differs
    assert (rows["output_padding"].torch, rows["output_padding"].keras) == (0, "inferred")
    assert "groups" not in inspect.signature(keras.layers.Conv2DTranspose).parameters
    assert rows["groups"].keras is None and rows["groups"].differs


@pytest.mark.parametrize("kind", ["depthwise_conv", "separable_conv"])
def test_depthwise_and_separable_defaults(kind):
    layer = {"kind": kind, "kernel_size": 3}
    if kind == "separable_conv":
        layer["filters"] = 4
    rows = _rows(layer)
    assert rows["strides"].torch == rows["strides"].keras == 1
    assert rows["use_bias"].torch is rows["use_bias"].keras is True


def test_dense_defaults():
    rows = _rows({"kind": "dense", "units": 3}, size=())
    assert rows["use_bias"].torch is _default(nn.Linear, "bias") is True
    assert rows["use_bias"].keras is _default(keras.layers.Dense, "use_bias") is True
    assert rows["activation"].keras == "linear"
