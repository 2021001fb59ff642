"""Issue 16, class 2: per-feature weights after a Flatten are ported in the layout's order.

A Flatten gives C,H,W-ordered features in PyTorch and H,W,C-ordered ones in Keras; any
weight with one value per input feature (a dense kernel's rows, a norm's gamma, beta and
running statistics) must be permuted the same way, whatever the layer's kind.
"""

import pytest

from compare.comparison import compare_model
from compare.errors import SpecError
from compare.formulas import infer
from compare.layouts import layout_of, split_sizes
from compare.spec import model_from_dict

NORMS = {
    "batch_norm": {"kind": "batch_norm"},
    "layer_norm": {"kind": "layer_norm"},
    "group_norm_1": {"kind": "group_norm", "groups": 1},
}
MAPS = {"1d": [5], "2d": [3, 4], "3d": [2, 3, 2]}


def _model(norm: dict, size: list[int]) -> dict:
    return {
        "name": f"{norm['kind']}-after-flatten",
        "input": {"channels": 3, "size": size},
        "layers": [
            {"kind": "conv", "filters": 3, "kernel_size": 1},
            {"kind": "flatten"},
            norm,
            {"kind": "dense", "units": 4},
        ],
    }


@pytest.mark.parametrize("rank", sorted(MAPS))
@pytest.mark.parametrize("norm", sorted(NORMS))
def test_norm_after_flatten_has_parity(norm, rank):
    model = model_from_dict(_model(NORMS[norm], MAPS[rank]))
    result = compare_model(model)
    assert result.error is None, result.error
    assert result.status == "ok", [(layer.index, layer.parity) for layer in result.layers]
    assert all(layer.parity.status == "ok" for layer in result.layers)


def test_norm_weights_after_flatten_are_labelled_by_map_axes():
    model = model_from_dict(_model(NORMS["batch_norm"], [3, 4]))
    layer, formula = model.layers[2], infer(model)[2]
    lay = layout_of(layer, formula, "gamma")
    assert (lay.torch, lay.keras) == (("C", "H", "W"), ("H", "W", "C"))
    assert (lay.torch_shown, lay.keras_shown) == (("C*H*W",), ("H*W*C",))
    assert split_sizes(layer, formula, "moving_mean") == {"C": 3, "H": 3, "W": 4}
    named = {d.what for i, d in compare_model(model).differences if i == 2}
    assert "gamma_layout" in named


@pytest.mark.parametrize("groups", [1, 36])
def test_group_norm_after_flatten_with_one_or_every_feature_per_group_has_parity(groups):
    model = model_from_dict(_model({"kind": "group_norm", "groups": groups}, [3, 4]))
    assert compare_model(model).status == "ok"


def test_group_norm_after_flatten_grouping_different_features_is_refused():
    with pytest.raises(SpecError, match=r"layer 2 \(group_norm\): groups=4 on the 36 features"):
        model_from_dict(_model({"kind": "group_norm", "groups": 4}, [3, 4]))
