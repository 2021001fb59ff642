"""Porting both ways, a numpy oracle independent of both frameworks, and failing ports."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import compare
from compare.adapters.base import Unsupported
from compare.comparison import compare_model
from compare.layouts import activation_to_keras
from compare.parity import measure
from compare.spec import Conv, ConvTranspose, Dense, Flatten, Input, Model
from tests.cases import all_cases, keras_refuses

SUPPORTED = [(i, m) for i, m in all_cases() if not keras_refuses(m)]


def _run_both(pair, x_torch):
    with torch.no_grad():
        y_torch = pair.torch(torch.from_numpy(x_torch)).numpy()
    shape_in = pair.formulas[0].input
    y_keras = np.asarray(pair.keras(activation_to_keras(x_torch, shape_in)))
    return activation_to_keras(y_torch, pair.formulas[-1].output), y_keras


def _randomise_keras(pair, seed):
    rng = np.random.default_rng(seed)
    for variable in pair.keras.weights:
        variable.assign(rng.standard_normal(tuple(variable.shape)).astype("float32"))


@pytest.mark.parametrize("model", [m for _, m in SUPPORTED], ids=[i for i, _ in SUPPORTED])
def test_port_from_keras_makes_torch_agree(model):
    pair = compare.build(model)
    _randomise_keras(pair, seed=len(model.name))
    pair.port(src="keras")
    x = np.random.default_rng(0).standard_normal((2, *pair.formulas[0].input.torch()[1:]))
    y_torch, y_keras = _run_both(pair, x.astype("float32"))
    assert measure(y_keras, y_torch).status == "ok"
    # The biases were random too, so a dropped bias would have been caught.
    assert np.max(np.abs(y_keras)) > 0


def _conv1d_reference(x, w, b, stride, dilation, pads):
    """Plain numpy conv1d in PyTorch's layout: x (N, C, L), w (O, C, K)."""
    x = np.pad(x, ((0, 0), (0, 0), pads))
    n, _, length = x.shape
    o, _, k = w.shape
    out_len = (length - dilation * (k - 1) - 1) // stride + 1
    y = np.zeros((n, o, out_len))
    for t in range(out_len):
        window = x[:, :, t * stride : t * stride + dilation * (k - 1) + 1 : dilation]
        y[:, :, t] = np.einsum("nck,ock->no", window, w)
    return y + b[None, :, None]


@pytest.mark.parametrize(
    ("stride", "dilation", "padding", "pads"),
    [(1, 1, "valid", (0, 0)), (2, 1, "same", (0, 1)), (1, 2, 2, (2, 2)), (3, 1, "same", (1, 1))],
)
def test_conv1d_against_numpy(stride, dilation, padding, pads):
    model = Model(
        "c1",
        Input(3, (10,)),
        (Conv(filters=4, kernel_size=3, strides=stride, dilation=dilation, padding=padding),),
    )
    pair = compare.build(model, dtype="float64", seed=3)
    pair.port(src="torch")
    params = dict(pair.torch.named_parameters())
    weight = next(v for k, v in params.items() if k.endswith("weight")).detach().numpy()
    bias = next(v for k, v in params.items() if k.endswith("bias")).detach().numpy()
    x = np.random.default_rng(5).standard_normal((2, 3, 10))
    ref = _conv1d_reference(x, weight, bias, stride, dilation, pads)
    y_torch_k, y_keras = _run_both(pair, x)
    np.testing.assert_allclose(y_torch_k, np.moveaxis(ref, 1, -1), atol=1e-12)
    np.testing.assert_allclose(y_keras, np.moveaxis(ref, 1, -1), atol=1e-12)


def test_flatten_dense_against_numpy():
    model = Model("fd", Input(2, (3, 2)), (Flatten(), Dense(units=4)))
    pair = compare.build(model, dtype="float64", seed=4)
    pair.port(src="torch")
    state = pair.torch.state_dict()
    x = np.random.default_rng(6).standard_normal((2, 2, 3, 2))
    ref = x.reshape(2, -1) @ state["1.weight"].numpy().T + state["1.bias"].numpy()
    y_torch, y_keras = _run_both(pair, x)
    np.testing.assert_allclose(y_torch, ref, atol=1e-12)
    np.testing.assert_allclose(y_keras, ref, atol=1e-12)


def test_a_wrong_port_is_caught_with_a_large_error():
    pair = compare.build(compare.seed_model(), seed=1)
    pair.port(src="torch")
    x = np.random.default_rng(2).standard_normal((2, 1, 28, 28)).astype("float32")
    good = measure(*_run_both(pair, x))
    assert good.status == "ok"
    dense = pair.keras.layers[-1]
    kernel = pair.torch.state_dict()["3.weight"].numpy()
    dense.kernel.assign(kernel.T)  # transposed but rows not permuted C,H,W -> H,W,C
    bad = measure(*_run_both(pair, x))
    assert bad.status == "mismatch"
    assert bad.max_abs_err > 1000 * bad.tolerance


def test_measure_verdicts():
    ref = np.linspace(-3, 3, 50)
    assert measure(ref, ref + 1e-6).status == "ok"
    assert measure(ref, ref + 1e-2).status == "mismatch"
    assert measure(ref, ref[:-1]).detail.startswith("shapes differ")
    assert measure(ref, np.full_like(ref, np.nan)).status == "mismatch"
    assert measure(ref, ref, "float64").tolerance == pytest.approx(3e-10)


def test_measure_in_float32_is_exact_where_outputs_agree_and_finite_where_they_do_not():
    rng = np.random.default_rng(0)
    ref = rng.standard_normal(1000).astype(np.float32)
    other = ref * np.float32(1 + 1e-6) + rng.standard_normal(1000).astype(np.float32) * 1e-6
    exact = float(np.max(np.abs(ref.astype(np.float64) - other.astype(np.float64))))
    assert measure(ref, other).max_abs_err == exact  # Sterbenz: no rounding at all
    huge = measure(np.float32([3e38, 1.0]), np.float32([-3e38, 1.0]))
    assert huge.status == "mismatch" and huge.detail is None  # not "non-finite values"
    assert huge.max_abs_err == pytest.approx(6e38, rel=1e-6)
    assert measure(np.float32([1.0]), np.float32([np.inf])).detail.startswith("non-finite")


def test_float64_mode_tightens_parity():
    r32 = compare_model(compare.seed_model())
    r64 = compare_model(compare.seed_model(), dtype="float64")
    assert r64.parity.status == "ok" and r32.parity.status == "ok"
    assert r64.parity.tolerance < r32.parity.tolerance / 1e5
    assert r64.parity.max_abs_err < 1e-9


def test_unsupported_layer_is_a_status_not_an_exception():
    model = Model(
        "refused",
        Input(2, (9, 9)),
        (Conv(filters=2, kernel_size=3, strides=2, dilation=2), Flatten(), Dense(units=2)),
    )
    result = compare_model(model)
    assert result.layers[0].parity.status == "unsupported"
    assert "strides > 1" in result.layers[0].frameworks["keras"].reason
    assert result.parity.status == "unsupported"
    # the layers after it are still compared, on a fresh shared input
    assert [layer.parity.status for layer in result.layers[1:]] == ["ok", "ok"]
    pair = compare.build(model)
    with pytest.raises(Unsupported, match=r"^layer 0 cannot be built in keras: Keras refuses it"):
        _ = pair.keras
    assert isinstance(pair.torch, torch.nn.Module)


def test_naive_padding_port_is_measured():
    model = Model(
        "s2", Input(3, (28, 28)), (Conv(filters=4, kernel_size=3, strides=2, padding="same"),)
    )
    result = compare_model(model)
    padding = [d for d in result.layers[0].differences if d.what == "padding"]
    assert len(padding) == 1
    assert "ZeroPad2d((0, 1, 0, 1))" in padding[0].torch
    assert "instead of TF's (0, 1), (0, 1)" in padding[0].naive_detail
    assert padding[0].naive_max_abs_err > 100 * result.layers[0].parity.tolerance
    assert result.parity.status == "ok"


def test_a_naive_port_that_cannot_run_is_null_with_the_reason():
    # kernel 4 'same' pads (1, 2): the symmetric port (2, 2) gives 9 pixels, not 8
    model = Model("even", Input(2, (8, 8)), (Conv(filters=2, kernel_size=4, padding="same"),))
    result = compare_model(model)
    assert result.parity.status == "ok"
    (padding,) = [d for d in result.layers[0].differences if d.what == "padding"]
    doc = padding.to_dict()
    assert doc["naive_max_abs_err"] is None
    assert "cannot even run" in doc["detail"]
    assert "(2, 2, 9, 9)" in doc["naive_detail"] or "9, 9" in doc["naive_detail"]


def _conv_transpose1d_reference(x, w, b, stride, pads, extend):
    """Plain numpy transposed conv1d by its definition, in PyTorch's layout: every input
    position t scatters x[:, c, t] * w[c, o, j] to output position t * stride + j; then
    ``extend`` zero rows are added at the end and ``pads`` cropped from both ends."""
    n, _, length = x.shape
    _, o, k = w.shape
    y = np.zeros((n, o, (length - 1) * stride + k + extend))
    for t in range(length):
        for j in range(k):
            y[:, :, t * stride + j] += np.einsum("nc,co->no", x[:, :, t], w[:, :, j])
    y = y[:, :, pads[0] : y.shape[2] - pads[1]]
    return y + b[None, :, None]


@pytest.mark.parametrize(
    ("kernel", "stride", "padding", "output_padding", "pads", "extend"),
    [
        (3, 1, "valid", 0, (0, 0), 0),
        (3, 2, 1, 1, (1, 1), 1),  # PyTorch's meaning: crop 1 from both ends of full + 1
        (3, 2, "same", 0, (0, 1), 0),  # TF's 'same': n * stride, odd pixel cropped last
        (4, 2, "same", 0, (1, 1), 0),
        (1, 3, "same", 0, (0, 0), 2),  # kernel shorter than the stride: zeros at the end
    ],
)
def test_conv_transpose1d_against_numpy(kernel, stride, padding, output_padding, pads, extend):
    layer = ConvTranspose(
        filters=2,
        kernel_size=kernel,
        strides=stride,
        padding=padding,
        output_padding=output_padding,
    )
    pair = compare.build(Model("ct1", Input(3, (5,)), (layer,)), dtype="float64", seed=3)
    pair.port(src="torch")
    params = dict(pair.torch.named_parameters())
    weight = next(v for k, v in params.items() if k.endswith("weight")).detach().numpy()
    bias = next(v for k, v in params.items() if k.endswith("bias")).detach().numpy()
    x = np.random.default_rng(7).standard_normal((2, 3, 5))
    ref = _conv_transpose1d_reference(x, weight, bias, stride, pads, extend)
    if padding == "same":
        assert ref.shape[2] == 5 * stride
    y_torch_k, y_keras = _run_both(pair, x)
    np.testing.assert_allclose(y_torch_k, np.moveaxis(ref, 1, -1), atol=1e-12)
    np.testing.assert_allclose(y_keras, np.moveaxis(ref, 1, -1), atol=1e-12)


def _max_pool1d_reference(x, pool, stride, pads):
    """Plain numpy max pooling over the last axis with -inf padding (it never wins)."""
    x = np.pad(x, ((0, 0), (0, 0), pads), constant_values=-np.inf)
    out = (x.shape[2] - pool) // stride + 1
    return np.stack([x[:, :, t * stride : t * stride + pool].max(axis=2) for t in range(out)], 2)


@pytest.mark.parametrize(
    ("size", "padding", "pads", "frameworks"),
    [
        (8, "same", (0, 1), ("torch", "keras")),  # TF's 'same': the odd pixel at the end
        (7, 1, (1, 1), ("torch",)),  # Keras pads max pooling only through 'same'
    ],
)
def test_max_pool1d_against_numpy(size, padding, pads, frameworks):
    from compare.adapters import get_adapter
    from compare.kinds.pool.spec import MaxPool

    model = Model("mp", Input(2, (size,)), (MaxPool(pool_size=3, strides=2, padding=padding),))
    pair = compare.build(model, dtype="float64")
    # all negative: a zero-padded position would win every window it reaches
    x = -np.abs(np.random.default_rng(8).standard_normal((2, 2, size))) - 1
    ref = _max_pool1d_reference(x, 3, 2, pads)
    formula = pair.formulas[0]
    for name in frameworks:
        built = pair.sides[name].layers[0]
        x_in = x if name == "torch" else activation_to_keras(x, formula.input)
        got = np.asarray(get_adapter(name).run(built, x_in))
        if name == "keras":
            got = np.moveaxis(got, -1, 1)
        np.testing.assert_array_equal(got, ref)
