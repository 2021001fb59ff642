"""A newcomer's kind, added from this file alone, compared end to end.

This is the README's worked example ("Adding a kind"): a per-channel PReLU registered
with the same decorators a family folder uses. Nothing outside this file knows it; the
engines find it through the registry. The oracle: parameter counts by hand and a numpy
PReLU on the ported slopes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras
import torch
from torch import nn

from compare.comparison import compare_model
from compare.core import registry
from compare.core.layouts import WeightLayout
from compare.core.shapes import LayerFormula, Shape
from compare.errors import SpecError
from compare.parity import build
from compare.spec import Layer, model_from_dict


@dataclass(frozen=True)
class ChannelPReLU(Layer):
    """max(0, x) + slope * min(0, x), one learned slope per channel."""

    kind: ClassVar[str] = "test_channel_prelu"
    min_rank: ClassVar[int] = 1

    def rule(self, shape: Shape) -> LayerFormula:
        c = shape.channels
        return LayerFormula(c, f"{c} = {c}", shape, shape)

    def layout(self, formula: LayerFormula, role: str) -> tuple[WeightLayout, dict[str, int]]:
        ones = ("1",) * formula.input.rank  # Keras keeps the shared axes as size 1
        layout = WeightLayout(("C",), ("C",), ("C",), (*ones, "C"))
        return layout, {"C": formula.input.channels}


def torch_prelu(layer: ChannelPReLU, formula: LayerFormula):  # type: ignore[no-untyped-def]
    module = nn.PReLU(num_parameters=formula.input.channels)
    return module, {"slope": (module, "weight")}, ()


def keras_prelu(layer: ChannelPReLU, formula: LayerFormula, name: str, dtype: str):  # type: ignore[no-untyped-def]
    shared = list(range(1, formula.input.rank + 1))  # one slope per channel
    prelu = keras.layers.PReLU(shared_axes=shared, name=name, dtype=dtype)
    return [prelu], {"slope": (prelu, "alpha", None)}, ()


@pytest.fixture
def registered():
    registry.register_kind(ChannelPReLU)
    registry.register_part("torch", "build", ChannelPReLU.kind)(torch_prelu)
    registry.register_part("keras", "build", ChannelPReLU.kind)(keras_prelu)
    yield
    registry.unregister_kind(ChannelPReLU.kind)


def test_a_kind_from_a_test_file_is_loaded_built_ported_and_compared(registered):
    raw = {
        "name": "newcomer",
        "input": {"channels": 3, "size": [5, 5]},
        "layers": [
            {"kind": "conv", "filters": 4, "kernel_size": 3},
            {"kind": "test_channel_prelu"},
            {"kind": "flatten"},
        ],
    }
    model = model_from_dict(raw)
    result = compare_model(model)
    assert result.status == "ok", result.parity
    prelu = result.layers[1]
    assert prelu.kind == "test_channel_prelu"
    assert prelu.frameworks["torch"].classes == ("PReLU",)
    assert prelu.frameworks["keras"].classes == ("PReLU",)
    # by hand: one slope per channel of the conv's 4 outputs
    assert prelu.frameworks["torch"].params == prelu.frameworks["keras"].params == 4
    shapes = {fw: w.shape for fw, f in prelu.frameworks.items() for w in f.weights}
    assert shapes == {"torch": (4,), "keras": (1, 1, 4)}


def test_the_ported_slopes_compute_numpys_prelu(registered):
    model = model_from_dict(
        {
            "name": "p",
            "input": {"channels": 2, "size": [4]},
            "layers": [{"kind": "test_channel_prelu"}],
        }
    )
    pair = build(model)
    with torch.no_grad():
        pair.sides["torch"].layers[0].obj.weight.copy_(torch.tensor([0.5, -2.0]))
    pair.port(src="torch")
    x = np.random.default_rng(0).standard_normal((2, 2, 4)).astype("float32")
    slope = np.array([0.5, -2.0], dtype="float32")[None, :, None]
    want = np.maximum(x, 0) + slope * np.minimum(x, 0)
    y_k = np.asarray(pair.keras(np.moveaxis(x, 1, -1)))
    np.testing.assert_allclose(np.moveaxis(y_k, -1, 1), want, atol=1e-6)


def test_after_unregistering_the_kind_is_unknown_again(registered):
    registry.unregister_kind(ChannelPReLU.kind)
    with pytest.raises(SpecError, match="unknown kind='test_channel_prelu'"):
        model_from_dict(
            {"name": "p", "input": {"channels": 2}, "layers": [{"kind": "test_channel_prelu"}]}
        )
    registry.register_kind(ChannelPReLU)  # the fixture unregisters it again
