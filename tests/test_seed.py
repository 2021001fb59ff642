"""The seed model's exact numbers, read back from both frameworks."""

import pytest

import compare
from compare.formulas import infer


@pytest.fixture(scope="module")
def seed_result():
    return compare.compare(compare.seed_model())[0]


def test_formula_params_and_expressions():
    formulas = infer(compare.seed_model())
    assert [f.params for f in formulas] == [400, 2888, 0, 46090]
    assert formulas[1].expression == "8*(3*3*40)+8 = 2888"
    assert formulas[0].expression == "40*(3*3*1)+40 = 400"


@pytest.mark.parametrize("framework", ["torch", "keras"])
def test_params_per_layer(seed_result, framework):
    counts = [layer.frameworks[framework].params for layer in seed_result.layers]
    assert counts == [400, 2888, 0, 46090]
    assert seed_result.totals()[framework]["params"] == 49378


def test_second_conv_kernel_shapes(seed_result):
    conv = seed_result.layers[1]
    torch_w = conv.frameworks["torch"].weights[0]
    keras_w = conv.frameworks["keras"].weights[0]
    assert (torch_w.shape, torch_w.axes) == ((8, 40, 3, 3), ("O", "I", "H", "W"))
    assert (keras_w.shape, keras_w.axes) == ((3, 3, 40, 8), ("H", "W", "I", "O"))


def test_output_shapes_in_each_layout(seed_result):
    first = seed_result.layers[0]
    assert first.frameworks["torch"].output_shape == (None, 40, 26, 26)
    assert first.frameworks["keras"].output_shape == (None, 26, 26, 40)


def test_parity_and_flatten_dense_consequence(seed_result):
    assert seed_result.parity.status == "ok"
    dense = seed_result.layers[3]
    flatten_dense = [d for d in dense.differences if d.what == "flatten_dense"]
    assert len(flatten_dense) == 1
    assert flatten_dense[0].naive_max_abs_err > 10 * dense.parity.tolerance
