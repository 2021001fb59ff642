"""Activations, PReLU, channel dropout, stochastic depth, rescaling and normalization:
each built by both frameworks, held against numpy definitions written here (from the
papers and the frameworks' documentation, never from the code under test), ported,
read back by both importers, and torchinfo's README example net compared end to end.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import torch

import compare
from compare.comparison import compare_model
from compare.errors import SpecError
from compare.kinds.activation.spec import Activation
from compare.kinds.dropout.spec import SpatialDropout, StochasticDepth
from compare.kinds.prelu.spec import PReLU
from compare.kinds.preprocess.spec import Normalization, Rescaling
from compare.parity import build
from compare.spec import Conv, Input, Model, model_from_dict

nn = torch.nn
F = torch.nn.functional
L = keras.layers

ROOT = Path(__file__).resolve().parents[1]

# -- numpy definitions, by hand ---------------------------------------------------------
SELU_ALPHA, SELU_SCALE = 1.6732632423543772, 1.0507009873554805  # Klambauer et al. 2017


def _erf(x):
    import math

    return np.vectorize(math.erf)(x)


def _softplus(x):
    return np.log1p(np.exp(-np.abs(x))) + np.maximum(x, 0)


def _log_softmax_channels(x):  # channels-first: axis 1
    m = x.max(axis=1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=1, keepdims=True))


NUMPY = {
    "hard_sigmoid": lambda x: np.clip(x + 3, 0, 6) / 6,
    "hard_swish": lambda x: x * np.clip(x + 3, 0, 6) / 6,
    "mish": lambda x: x * np.tanh(_softplus(x)),
    "silu": lambda x: x / (1 + np.exp(-x)),
    "elu": lambda x: np.where(x > 0, x, np.expm1(x)),
    "selu": lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(x)),
    "softplus": _softplus,
    "log_softmax": _log_softmax_channels,
    "gelu": lambda x: 0.5 * x * (1 + _erf(x / np.sqrt(2))),
    "gelu_tanh": lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3))),
}


def _x(shape, seed=0, scale=3.0):
    return (scale * np.random.default_rng(seed).standard_normal(shape)).astype("float32")


def _both(pair, x):
    """Both frameworks' outputs for a channels-first ``x``, channels-first."""
    with torch.no_grad():
        y_t = pair.torch(torch.from_numpy(x)).numpy()
    y_k = np.asarray(pair.keras(np.moveaxis(x, 1, -1)))
    return y_t, np.moveaxis(y_k, -1, 1)


@pytest.mark.parametrize("name", sorted(NUMPY))
def test_each_activation_computes_its_definition_in_both_frameworks(name):
    pair = build(Model(name, Input(4, (5,)), (Activation(activation=name),)))
    x = _x((3, 4, 5))
    want = NUMPY[name](x.astype(np.float64))
    for got in _both(pair, x):
        np.testing.assert_allclose(got, want, atol=2e-5, rtol=1e-5)


@pytest.mark.parametrize(
    ("name", "torch_cls"),
    [
        ("hard_sigmoid", "Hardsigmoid"),
        ("hard_swish", "Hardswish"),
        ("mish", "Mish"),
        ("log_softmax", "LogSoftmax"),
    ],
)
def test_new_activations_are_the_frameworks_own(name, torch_cls):
    result = compare_model(Model(name, Input(3, (4, 4)), (Activation(activation=name),)))
    assert result.status == "ok", result.parity
    layer = result.layers[0]
    assert layer.frameworks["torch"].classes == (torch_cls,)
    assert layer.frameworks["keras"].classes == ("Activation",)


def test_swish_and_hard_silu_are_spellings():
    assert Activation(activation="swish").activation == "silu"
    assert Activation(activation="hard_silu").activation == "hard_swish"
    with pytest.raises(SpecError, match="activation='hardish' is not a known activation"):
        Activation(activation="hardish")


@pytest.mark.parametrize("name", ["hard_sigmoid", "hard_swish"])
def test_keras2_hard_sigmoid_is_named_and_its_port_error_measured(name):
    result = compare_model(Model(name, Input(3, (6, 6)), (Activation(activation=name),)))
    diff = next(d for d in result.layers[0].differences if d.what == "hard_sigmoid_definition")
    # by hand: |clip(0.2x + 0.5) - clip(x/6 + 0.5)| is 0 at 0 and peaks at |x| = 2.5,
    # 1 - 5.5/6 = 1/12 (times |x| for the swish); the comparison's input is N(0, 1)
    assert diff.measured and diff.naive_max_abs_err > 0
    bound = 1 / 12 if name == "hard_sigmoid" else 1 / 12 * 5.0
    assert diff.naive_max_abs_err <= bound + 1e-6
    assert "clip(0.2 * x + 0.5, 0, 1)" in diff.detail


def test_log_softmax_axis_difference_is_measured():
    result = compare_model(Model("ls", Input(5, (4,)), (Activation(activation="log_softmax"),)))
    diff = next(d for d in result.layers[0].differences if d.what == "softmax_axis")
    assert (diff.torch, diff.keras) == ("dim=1", "axis=-1")
    assert diff.naive_max_abs_err > 0.1


class _Functions(nn.Module):
    def forward(self, x):
        x = F.hardsigmoid(F.mish(x))
        x = F.hardswish(x)
        x = torch.log_softmax(F.log_softmax(x, dim=1), 1)
        x = x.log_softmax(dim=1)
        return F.selu(F.silu(F.elu(x)))


def test_torch_functions_and_tensor_methods_are_read():
    imported = compare.from_torch(_Functions(), input="3x5")
    names = [layer.activation for layer in imported.model.layers]
    assert names == [
        "mish",
        "hard_sigmoid",
        "hard_swish",
        "log_softmax",
        "log_softmax",
        "log_softmax",
        "elu",
        "silu",
        "selu",
    ]
    assert compare.compare(imported).ok


def test_torch_modules_and_keras_layers_round_trip():
    torch_net = nn.Sequential(
        nn.Conv2d(3, 4, 3), nn.Hardsigmoid(), nn.Hardswish(), nn.Mish(), nn.LogSoftmax(dim=1)
    )
    from_torch = compare.from_torch(torch_net, input="3x6x6")
    keras_net = keras.Sequential(
        [
            keras.Input((6, 6, 3)),
            L.Conv2D(4, 3),
            L.Activation("hard_sigmoid"),
            L.Activation("hard_swish"),
            L.Activation(keras.activations.mish),
            L.Activation("log_softmax"),
        ]
    )
    from_keras = compare.from_keras(keras_net)
    assert from_torch.model.layers[1:] == from_keras.model.layers[1:]
    assert compare.compare(from_torch).ok and compare.compare(from_keras).ok


def test_softmax_over_space_is_refused_naming_it():
    with pytest.raises(compare.importers.UnmappableError, match="log_softmax over dim=2"):
        compare.from_torch(nn.Sequential(nn.LogSoftmax(dim=2)), input="3x5")


# -- PReLU --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("slopes", "size", "torch_shape", "keras_shape"),
    [
        ("one", (5, 5), (1,), (1, 1, 1)),
        ("channel", (5, 5), (4,), (1, 1, 4)),
        ("channel", (7,), (4,), (1, 4)),
        ("channel", (), (4,), (4,)),
        ("element", (), (4,), (4,)),
    ],
)
def test_prelu_counts_and_shapes_read_back(slopes, size, torch_shape, keras_shape):
    result = compare_model(Model("p", Input(4, size), (PReLU(slopes=slopes),)))
    assert result.status == "ok", result.parity
    fw = result.layers[0].frameworks
    n = int(np.prod(torch_shape))  # by hand: one slope, or one per channel
    assert fw["torch"].params == fw["keras"].params == n
    assert [w.shape for w in fw["torch"].weights] == [torch_shape]
    assert [w.shape for w in fw["keras"].weights] == [keras_shape]


def test_prelu_per_element_is_keras_only_with_the_reason():
    result = compare_model(Model("p", Input(3, (4, 5)), (PReLU(slopes="element"),)))
    assert result.status == "unsupported"
    assert "nn.PReLU holds one slope or one per channel" in result.parity.detail
    assert result.layers[0].frameworks["keras"].params == 3 * 4 * 5


def test_prelu_ported_slopes_compute_numpys_prelu():
    pair = build(Model("p", Input(3, (4,)), (PReLU(),)))
    slopes = np.array([0.5, -2.0, 0.1], dtype="float32")
    with torch.no_grad():
        pair.sides["torch"].layers[0].obj.weight.copy_(torch.from_numpy(slopes))
    pair.port(src="torch")
    x = _x((2, 3, 4))
    want = np.maximum(x, 0) + slopes[None, :, None] * np.minimum(x, 0)
    for got in _both(pair, x):
        np.testing.assert_allclose(got, want, atol=1e-6)


def test_prelu_defaults_are_read_from_both_frameworks():
    result = compare_model(Model("p", Input(3, (4,)), (PReLU(),)))
    rows = {row.name: row for row in result.layers[0].defaults}
    # nn.PReLU(num_parameters=1, init=0.25); keras PReLU(alpha_initializer="Zeros",
    # shared_axes=None): their documented signatures
    assert (rows["init"].torch, rows["init"].keras) == (0.25, 0.0)
    assert (rows["slopes"].torch, rows["slopes"].keras) == ("one", "element")
    inits = {(i.framework, i.role): i.name for i in result.layers[0].initialisers}
    assert inits[("torch", "alpha")] == "constant(0.25)"
    assert "Constant" in inits[("keras", "alpha")]


def test_prelu_is_read_by_both_importers():
    t = compare.from_torch(nn.Sequential(nn.Conv2d(2, 3, 3), nn.PReLU(3), nn.PReLU()), "2x6x6")
    assert t.model.layers[1:] == (PReLU(slopes="channel"), PReLU(slopes="one"))
    k = compare.from_keras(
        keras.Sequential(
            [
                keras.Input((6, 6, 2)),
                L.Conv2D(3, 3),
                L.PReLU(shared_axes=[1, 2]),
                L.PReLU(shared_axes=[1, 2, 3]),
                L.PReLU(),
            ]
        )
    )
    assert [p.slopes for p in k.model.layers[1:]] == ["channel", "one", "element"]
    assert {p.init for p in k.model.layers[1:]} == {0.0}
    assert compare.compare(t).ok


def test_prelu_bad_input_names_the_field():
    with pytest.raises(SpecError, match="slopes='all' must be one of 'one', 'channel', 'element'"):
        PReLU(slopes="all")
    with pytest.raises(compare.importers.UnmappableError, match=r"shared_axes=\[1\]"):
        compare.from_keras(keras.Sequential([keras.Input((4, 5, 2)), L.PReLU(shared_axes=[1])]))


# -- channel dropout and stochastic depth ------------------------------------------------


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_channel_dropout_classes_by_rank(rank):
    size = (4,) * rank
    result = compare_model(Model("d", Input(3, size), (SpatialDropout(rate=0.3),)))
    assert result.status == "ok"
    fw = result.layers[0].frameworks
    assert fw["torch"].classes == (f"Dropout{rank}d",)
    assert fw["keras"].classes == (f"SpatialDropout{rank}D",)


def _kept_whole(y, x, rate, axes):
    """Every slice over ``axes`` is all zero or all x / (1 - rate)."""
    scaled = x / (1 - rate)
    zero = np.all(y == 0, axis=axes)
    kept = np.all(np.isclose(y, scaled, atol=1e-6), axis=axes)
    return bool(np.all(zero | kept)) and zero.any() and kept.any()


def test_channel_dropout_in_training_drops_whole_channels_in_both():
    rate = 0.5
    pair = build(Model("d", Input(16, (5, 5)), (SpatialDropout(rate=rate),)))
    x = np.abs(_x((8, 16, 5, 5))) + 0.1
    torch_layer = pair.sides["torch"].layers[0].obj.train()
    with torch.no_grad():
        y_t = torch_layer(torch.from_numpy(x)).numpy()
    keras_layer = pair.sides["keras"].layers[0].obj[0]
    y_k = np.moveaxis(np.asarray(keras_layer(np.moveaxis(x, 1, -1), training=True)), -1, 1)
    assert _kept_whole(y_t, x, rate, (2, 3)) and _kept_whole(y_k, x, rate, (2, 3))


@pytest.mark.parametrize("mode", ["row", "batch"])
def test_stochastic_depth_in_training_drops_whole_samples_in_both(mode):
    rate = 0.5
    pair = build(Model("s", Input(3, (4, 4)), (StochasticDepth(rate=rate, mode=mode),)))
    assert compare_model(pair.model).status == "ok"
    x = np.abs(_x((32, 3, 4, 4))) + 0.1
    torch_layer = pair.sides["torch"].layers[0].obj.train()
    keras_layer = pair.sides["keras"].layers[0].obj[0]
    for seed in range(20):  # a "batch" draw keeps or drops everything: try until both occur
        torch.manual_seed(seed)
        with torch.no_grad():
            y_t = torch_layer(torch.from_numpy(x)).numpy()
        y_k = np.asarray(keras_layer(np.moveaxis(x, 1, -1), training=True))
        y_k = np.moveaxis(y_k, -1, 1)
        axes = (1, 2, 3) if mode == "row" else (0, 1, 2, 3)
        for y in (y_t, y_k):
            zero = np.all(y == 0, axis=axes)
            kept = np.all(np.isclose(y, x / (1 - rate), atol=1e-6), axis=axes)
            assert np.all(zero | kept)
        if mode == "row":
            assert np.all(np.any(y_t == 0, axis=(1, 2, 3)) != np.all(y_t != 0, axis=(1, 2, 3)))
            break


def test_channel_dropout_and_stochastic_depth_are_read_by_both_importers():
    t = compare.from_torch(nn.Sequential(nn.Conv2d(2, 3, 3), nn.Dropout2d(0.25)), "2x6x6")
    assert t.model.layers[1] == SpatialDropout(rate=0.25)
    k = compare.from_keras(
        keras.Sequential(
            [
                keras.Input((6, 6, 2)),
                L.SpatialDropout2D(0.3),
                L.Dropout(0.2, noise_shape=(None, 1, 1, 1)),
                L.Dropout(0.1, noise_shape=(1, 1, 1, 1)),
            ]
        )
    )
    assert k.model.layers == (
        SpatialDropout(rate=0.3),
        StochasticDepth(rate=0.2, mode="row"),
        StochasticDepth(rate=0.1, mode="batch"),
    )
    with pytest.raises(compare.importers.UnmappableError, match="Dropout3d on an input with 2"):
        compare.from_torch(nn.Sequential(nn.Dropout3d()), "2x6x6")


_TORCHVISION_SCRIPT = """
import sys
sys.path.insert(0, "tests")
from zoo import torchvision
tv = torchvision()
import torch
import compare
net = torch.nn.Sequential(torch.nn.Conv2d(2, 3, 3), tv.ops.StochasticDepth(0.2, "row"))
print(compare.from_torch(net, "2x6x6").model.layers[1])
"""


def test_torchvisions_stochastic_depth_is_read_without_the_package_importing_it():
    env = {**os.environ, "KERAS_BACKEND": "tensorflow", "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", _TORCHVISION_SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert out.stdout.strip().splitlines()[-1] == "StochasticDepth(rate=0.2, mode='row')"
    probe = "import compare, sys; compare.from_torch; print('torchvision' in sys.modules)"
    clean = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert clean.stdout.strip() == "False"


def test_stochastic_depth_mode_is_checked():
    with pytest.raises(SpecError, match="mode='rows' must be 'row'"):
        StochasticDepth(rate=0.1, mode="rows")


# -- rescaling and normalization ---------------------------------------------------------


def test_rescaling_and_normalization_compute_their_definitions_after_a_port():
    model = Model("pre", Input(3, (4, 4)), (Rescaling(scale=1 / 255, offset=-0.5), Normalization()))
    pair = build(model)
    mean = np.array([0.1, -0.2, 0.3], dtype="float32")
    var = np.array([0.25, 4.0, 1e-20], dtype="float32")  # the last std is floored at 1e-7
    norm = pair.sides["torch"].layers[1].obj
    with torch.no_grad():
        norm.mean.copy_(torch.from_numpy(mean))
        norm.variance.copy_(torch.from_numpy(var))
    pair.port(src="torch")
    x = 255 * np.random.default_rng(1).random((2, 3, 4, 4)).astype("float32")
    r = x / 255 - 0.5
    std = np.maximum(np.sqrt(var.astype(np.float64)), 1e-7)[None, :, None, None]
    want = (r - mean[None, :, None, None]) / std
    # The floored channel divides by 1e-7: compare relative to its scale
    for got in _both(pair, x):
        np.testing.assert_allclose(got, want, rtol=2e-4, atol=1e-4)


def test_normalization_counts_non_trainable_weights_against_buffers():
    result = compare_model(Model("n", Input(3, (4, 4)), (Normalization(),)))
    assert result.status == "ok", result.parity
    fw = result.layers[0].frameworks
    # Keras: mean (3,), variance (3,), count () non-trainable; PyTorch: two buffers of 3
    assert (fw["keras"].trainable_params, fw["keras"].non_trainable_params) == (0, 7)
    assert (fw["torch"].params, fw["torch"].buffers) == (0, 6)
    whats = {d.what: d for d in result.layers[0].differences}
    assert "statistics_storage" in whats
    assert whats["variance_not_std"].naive_max_abs_err > 0


def test_an_adapted_keras_normalization_is_read_with_its_statistics():
    data = np.random.default_rng(2).random((16, 5, 5, 3)).astype("float32") * 4 + 1
    norm = L.Normalization()
    norm.adapt(data)
    net = keras.Sequential([keras.Input((5, 5, 3)), L.Rescaling(0.5), norm])
    imported = compare.from_keras(net)
    assert imported.model.layers == (Rescaling(scale=0.5), Normalization())
    pair = compare.build(imported)
    with torch.no_grad():
        y_t = pair.torch(torch.from_numpy(np.moveaxis(data, -1, 1))).numpy()
    np.testing.assert_allclose(np.moveaxis(y_t, 1, -1), np.asarray(net(data)), atol=1e-5)
    # by hand: adapt standardised ``data`` itself, and the net sees data * 0.5, so the
    # output's per-channel mean is (0.5 m - m) / s = -0.5 m / s, m and s from numpy
    m, s = data.mean(axis=(0, 1, 2)), data.std(axis=(0, 1, 2))
    np.testing.assert_allclose(y_t.mean(axis=(0, 2, 3)), -0.5 * m / s, rtol=1e-4)
    assert compare.compare(imported).ok


def test_normalization_over_another_axis_is_refused():
    net = keras.Sequential([keras.Input((5, 3)), L.Normalization(axis=1)])
    with pytest.raises(compare.importers.UnmappableError, match="axis="):
        compare.from_keras(net)


# -- torchinfo's README example ------------------------------------------------------------


class TorchinfoNet(nn.Module):
    """torchinfo's README example (the PyTorch MNIST example net), verbatim."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
        self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
        self.conv2_drop = nn.Dropout2d()
        self.fc1 = nn.Linear(320, 50)
        self.fc2 = nn.Linear(50, 10)

    def forward(self, x):
        x = F.relu(F.max_pool2d(self.conv1(x), 2))
        x = F.relu(F.max_pool2d(self.conv2_drop(self.conv2(x)), 2))
        x = x.view(-1, 320)
        x = F.relu(self.fc1(x))
        x = F.dropout(x, training=self.training)
        x = self.fc2(x)
        return F.log_softmax(x, dim=1)


def test_torchinfos_readme_net_is_read_and_compared():
    net = TorchinfoNet()
    imported = compare.from_torch(net, input="1x28x28")
    kinds = [layer.kind for layer in imported.model.layers]
    assert "spatial_dropout" in kinds and "dropout" in kinds
    assert imported.model.layers[-1].activation == "log_softmax"
    result = compare.compare(imported).models[0]
    assert result.status == "ok", result.parity
    # torchinfo's README: "Total params: 21,840"; by hand 260 + 5020 + 16050 + 510
    assert sum(p.numel() for p in net.parameters()) == 21_840
    for fw in ("torch", "keras"):
        assert sum(layer.frameworks[fw].params or 0 for layer in result.layers) == 21_840
    pair = compare.build(imported)
    x = np.random.default_rng(3).standard_normal((2, 1, 28, 28)).astype("float32")
    with torch.no_grad():
        want = net.eval()(torch.from_numpy(x)).numpy()
    got = np.asarray(pair.keras(np.moveaxis(x, 1, -1)))
    np.testing.assert_allclose(got, want, atol=1e-4)


def test_spec_file_spellings_of_the_new_kinds():
    model = model_from_dict(
        {
            "name": "f",
            "input": {"channels": 3, "size": [6, 6]},
            "layers": [
                {"kind": "rescaling", "scale": 0.5},
                {"kind": "normalization"},
                {"kind": "conv", "filters": 4, "kernel_size": 3, "activation": "hard_swish"},
                {"kind": "prelu", "slopes": "one"},
                {"kind": "spatial_dropout", "p": 0.1},
                {"kind": "stochastic_depth", "rate": 0.1},
            ],
        }
    )
    assert isinstance(model.layers[2], Conv) and model.layers[2].activation == "hard_swish"
    assert compare.compare(model).ok
