"""from_torch / from_keras for the normalisation, pooling, dropout and activation kinds:
round trips of the catalogue and a case table, state carried with the import, a
hand-written network in both frameworks, and named refusals."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import torch

import compare
from compare.adapters import get_adapter
from compare.adapters.base import Unsupported
from compare.catalog import EXPECTED_UNSUPPORTED, catalog_files
from compare.importers import UnmappableError, spec_differences
from compare.kinds.activation.spec import Activation
from compare.kinds.dropout.spec import Dropout
from compare.kinds.norm.spec import BatchNorm, GroupNorm, LayerNorm
from compare.kinds.pool.spec import AvgPool, GlobalAvgPool, GlobalMaxPool, MaxPool
from compare.spec import (
    Conv,
    ConvTranspose,
    Dense,
    DepthwiseConv,
    Flatten,
    Input,
    Model,
    SeparableConv,
)
from compare.specfile import load
from compare.testing import assert_equivalent

nn = torch.nn
F = torch.nn.functional
L = keras.layers

LAYERS_TOML = next(p for p in catalog_files() if p.name == "layers.toml")
CATALOG = load(LAYERS_TOML)
SIZES = {0: (), 1: (9,), 2: (7, 6), 3: (5, 4, 5)}


def _m(name, channels, rank, *layers):
    return Model(name, Input(channels, SIZES[rank]), layers)


def _input(model):
    return (model.input.channels, *model.input.size)


def _sources(model):
    """The frameworks that can build ``model`` (the catalogue names the others)."""
    refused = EXPECTED_UNSUPPORTED.get(model.name)
    return [s for s in ("torch", "keras") if s != refused]


def _read(pair, source, model):
    if source == "torch":
        return compare.from_torch(pair.torch, input=_input(model))
    return compare.from_keras(pair.keras)


def _assert_round_trip(model, pair, source):
    imported = _read(pair, source, model)
    assert [layer.kind for layer in imported.model.layers] == [layer.kind for layer in model.layers]
    assert spec_differences(model, imported.model) == []
    adapter = get_adapter(source)
    for index, built in enumerate(pair.sides[source].layers):
        want = adapter.get_weights(built)
        got = imported.weights[index]
        assert sorted(got) == sorted(want), index
        for role in want:
            np.testing.assert_array_equal(got[role], want[role])
    return imported


def _randomise(pair, source, seed=5):
    """Non-trivial state (gamma, beta, running statistics) in ``source``'s layers."""
    rng = np.random.default_rng(seed)
    adapter = get_adapter(source)
    for built in pair.sides[source].layers:
        shapes = adapter.weight_shapes(built)
        new = {role: rng.uniform(0.5, 1.5, s).astype("float32") for role, s in shapes.items()}
        if new:
            adapter.set_weights(built, new)


# -- the catalogue ---------------------------------------------------------------------


@pytest.fixture(scope="module", params=CATALOG, ids=[m.name for m in CATALOG])
def catalog_case(request):
    model = request.param
    pair = compare.build(model, seed=3)
    for source in _sources(model):
        _randomise(pair, source)
    return model, pair


@pytest.mark.parametrize("source", ["torch", "keras"])
def test_catalogue_layers_round_trip_with_their_state(catalog_case, source):
    model, pair = catalog_case
    if source not in _sources(model):
        with pytest.raises(Unsupported, match="cannot be built"):
            _read(pair, source, model)
        return
    _assert_round_trip(model, pair, source)


@pytest.mark.parametrize("source", ["torch", "keras"])
def test_compare_of_a_catalogue_import_keeps_its_state(catalog_case, source):
    model, pair = catalog_case
    if source not in _sources(model):
        return  # nothing to read: the test above checks the framework's refusal
    imported = _read(pair, source, model)
    result = compare.compare(imported)[0]
    want = "ok" if len(_sources(model)) == 2 else "unsupported"
    assert result.status == want, result.layers
    rebuilt = compare.build(imported)
    adapter = get_adapter(source)
    for index, built in enumerate(rebuilt.sides[source].layers):
        for role, array in adapter.get_weights(built).items():
            np.testing.assert_array_equal(array, imported.weights[index][role])


# -- every kind, by rank -------------------------------------------------------------

KINDS = [
    _m("bn_vector", 4, 0, BatchNorm()),
    _m("bn_1d_conventions", 3, 1, BatchNorm(momentum=0.01, epsilon=1e-3)),
    _m("bn_2d", 3, 2, BatchNorm()),
    _m("bn_3d_no_affine", 2, 3, BatchNorm(center=False, scale=False)),
    _m("ln_vector", 5, 0, LayerNorm(epsilon=1e-3)),
    _m("ln_1d_channels", 3, 1, LayerNorm()),
    _m("ln_2d_channels", 3, 2, LayerNorm()),
    _m("ln_2d_all", 3, 2, LayerNorm(axes="all")),
    _m("ln_2d_plain", 3, 2, LayerNorm(center=False, scale=False)),
    _m("gn_1d", 4, 1, GroupNorm(groups=2)),
    _m("gn_2d", 6, 2, GroupNorm(groups=3, epsilon=1e-4)),
    _m("max_1d", 2, 1, MaxPool(pool_size=3, strides=2)),
    _m("max_2d_same", 2, 2, MaxPool(pool_size=3, strides=2, padding="same")),
    _m("max_2d_pad", 2, 2, MaxPool(pool_size=3, strides=1, padding=1)),
    _m("max_3d", 2, 3, MaxPool(pool_size=2)),
    _m("avg_1d_same", 2, 1, AvgPool(pool_size=2, padding="same")),
    _m("avg_2d", 2, 2, AvgPool(pool_size=2)),
    _m("avg_2d_counted", 2, 2, AvgPool(pool_size=3, strides=2, padding=1, count_include_pad=True)),
    _m("avg_3d_same", 2, 3, AvgPool(pool_size=3, strides=2, padding="same")),
    _m("gap_1d", 3, 1, GlobalAvgPool()),
    _m("gap_2d_keepdims", 3, 2, GlobalAvgPool(keepdims=True)),
    _m("gmp_3d", 3, 3, GlobalMaxPool()),
    _m("gmp_2d_keepdims", 3, 2, GlobalMaxPool(keepdims=True)),
    _m("dropout", 3, 2, Dropout(rate=0.25)),
    *[
        _m(f"act_{name}", 3, 1, Activation(activation=name))
        for name in (
            "relu",
            "relu6",
            "sigmoid",
            "tanh",
            "gelu",
            "gelu_tanh",
            "softmax",
            "elu",
            "selu",
            "leaky_relu",
            "silu",
            "softplus",
        )
    ],
    _m("act_leaky_0.2", 3, 2, Activation(activation="leaky_relu", negative_slope=0.2)),
    _m("act_elu_0.5", 3, 0, Activation(activation="elu", alpha=0.5)),
    _m("conv_relu", 2, 2, Conv(filters=3, kernel_size=3, activation="relu")),
    _m("conv_t_tanh", 2, 1, ConvTranspose(filters=3, kernel_size=3, strides=2, activation="tanh")),
    _m("depthwise_gelu", 2, 2, DepthwiseConv(kernel_size=3, padding="same", activation="gelu")),
    _m("separable_silu", 2, 1, SeparableConv(filters=4, kernel_size=3, activation="silu")),
    _m("dense_softmax", 6, 0, Dense(units=4, activation="softmax")),
    _m("dense_on_map_elu", 3, 2, Dense(units=4, activation="elu")),
    _m(
        "block",
        3,
        2,
        Conv(filters=4, kernel_size=3, padding="same", use_bias=False),
        BatchNorm(),
        Activation(activation="relu"),
        MaxPool(pool_size=2),
        Conv(filters=4, kernel_size=3, activation="leaky_relu"),
        GlobalAvgPool(),
        Dropout(rate=0.5),
        Dense(units=3, activation="sigmoid"),
    ),
]


@pytest.fixture(scope="module", params=KINDS, ids=[m.name for m in KINDS])
def kind_case(request):
    model = request.param
    pair = compare.build(model, seed=4)
    _randomise(pair, "torch")
    pair.port(src="torch")
    return model, pair


@pytest.mark.parametrize("source", ["torch", "keras"])
def test_each_kind_round_trips_with_its_weights(kind_case, source):
    model, pair = kind_case
    _assert_round_trip(model, pair, source)


def test_keras_only_ceil_mode_and_a_torch_only_scale_read_from_their_side():
    ceil = _m("ceil", 2, 2, MaxPool(pool_size=2, ceil_mode=True))
    scale = _m("scale", 2, 1, BatchNorm(center=False))
    from compare.formulas import infer

    built = get_adapter("torch").build(ceil.layers[0], infer(ceil)[0], 0, "float32")
    imported = compare.from_torch(built.obj, input=_input(ceil))
    assert imported.model.layers == ceil.layers
    _assert_round_trip(scale, compare.build(scale), "keras")


# -- one network, two spellings ---------------------------------------------------------


@pytest.fixture(scope="module")
def two_spellings():
    """``Conv`` + ``Activation`` and a keepdims global pool + flatten, built in both."""
    model = _m(
        "spellings",
        2,
        2,
        Conv(filters=3, kernel_size=3),
        Activation(activation="relu"),
        Conv(filters=3, kernel_size=1),
        Activation(activation="leaky_relu", negative_slope=0.2),
        GlobalAvgPool(keepdims=True),
        Flatten(),
    )
    pair = compare.build(model, seed=1)
    pair.port(src="torch")
    return model, pair


@pytest.mark.parametrize("source", ["torch", "keras"])
def test_an_activation_after_a_conv_reads_as_its_field(two_spellings, source):
    model, pair = two_spellings
    imported = _read(pair, source, model)
    want = (
        Conv(filters=3, kernel_size=3, activation="relu"),
        Conv(filters=3, kernel_size=1),
        Activation(activation="leaky_relu", negative_slope=0.2),  # the field has no slope
        GlobalAvgPool(),
    )
    assert spec_differences(Model("want", model.input, want), imported.model) == []
    assert imported.model.layers[0].activation == "relu"
    assert len(imported.paths[0]) == 2  # the conv and its activation
    assert compare.compare(imported)[0].status == "ok"


# -- hand-written networks ------------------------------------------------------------


def _torch_net():
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1, bias=False),
        nn.BatchNorm2d(8, momentum=0.05, eps=1e-3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(8, 6, 3),
        nn.GELU(approximate="tanh"),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Dropout(0.2),
        nn.Linear(6, 4),
        nn.Softmax(dim=1),
    )
    bn = net[1]
    with torch.no_grad():  # trained-looking state, not the fresh ones and zeros
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(-0.5, 0.5)
        bn.running_mean.uniform_(-1, 1)
        bn.running_var.uniform_(0.5, 2)
    return net.eval()


def _keras_net():
    return keras.Sequential(
        [
            keras.Input((12, 12, 3)),
            L.Conv2D(8, 3, padding="same", use_bias=False, name="conv"),
            L.BatchNormalization(momentum=0.95, epsilon=1e-3, name="bn"),
            L.ReLU(name="relu"),
            L.MaxPooling2D(2, name="pool"),
            L.Conv2D(6, 3, activation=keras.activations.gelu, name="conv2"),
            L.GlobalAveragePooling2D(name="gap"),
            L.Dropout(0.2, name="drop"),
            L.Dense(4, activation="softmax", name="out"),
        ]
    )


@pytest.fixture(scope="module")
def nets():
    return _torch_net(), _keras_net()


def test_hand_written_conv_bn_relu_pool_nets_are_equivalent(nets):
    t, k = nets
    # the torch GELU is the tanh form, the keras one the exact form: one differs
    t2 = _torch_net()
    t2[5] = nn.GELU()
    assert_equivalent(t2, k, input="3x12x12")
    with pytest.raises(AssertionError, match=r"activation: torch 'gelu_tanh', keras 'gelu'"):
        assert_equivalent(t, k, input="3x12x12")


def test_the_users_statistics_travel_with_a_torch_import(nets):
    t = nets[0]
    imported = compare.from_torch(t, input="3x12x12")
    kinds = [layer.kind for layer in imported.model.layers]
    assert kinds == [
        "conv",
        "batch_norm",
        "activation",
        "max_pool",
        "conv",
        "global_avg_pool",
        "dropout",
        "dense",
    ]
    bn = imported.model.layers[1]
    assert (bn.momentum, bn.epsilon) == (0.05, 1e-3)
    assert imported.model.layers[4].activation == "gelu_tanh"
    assert imported.model.layers[7].activation == "softmax"
    for role, attr in [
        ("gamma", "weight"),
        ("beta", "bias"),
        ("moving_mean", "running_mean"),
        ("moving_variance", "running_var"),
    ]:
        np.testing.assert_array_equal(
            imported.weights[1][role], getattr(t[1], attr).detach().numpy()
        )
    assert compare.compare(imported)[0].status == "ok"
    x = np.random.default_rng(2).standard_normal((2, 3, 12, 12)).astype("float32")
    with torch.no_grad():
        want = t(torch.from_numpy(x)).numpy()
    got = keras.ops.convert_to_numpy(compare.build(imported).keras(np.moveaxis(x, 1, -1)))
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_the_users_statistics_travel_with_a_keras_import(nets):
    k = nets[1]
    bn = k.get_layer("bn")
    rng = np.random.default_rng(3)
    bn.set_weights([rng.uniform(0.5, 1.5, 8).astype("float32") for _ in range(4)])
    imported = compare.from_keras(k)
    assert imported.model.layers[1].momentum == 0.05
    np.testing.assert_array_equal(
        imported.weights[1]["moving_variance"], bn.moving_variance.numpy()
    )
    assert compare.compare(imported)[0].status == "ok"


class Functional(nn.Module):
    """Activations and dropout written as functions in ``forward``."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 4, 3)
        self.bn = nn.BatchNorm2d(4)
        self.fc = nn.Linear(4 * 4 * 4, 3)

    def forward(self, x):
        x = F.leaky_relu(self.bn(self.conv(x)), 0.1)
        x = torch.sigmoid(F.dropout(x, 0.3, self.training))
        return self.fc(torch.flatten(x, 1)).softmax(dim=-1)


def test_functional_activations_and_dropout_are_read():
    imported = compare.from_torch(Functional(), input="2x6x6")
    layers = imported.model.layers
    assert [layer.kind for layer in layers] == [
        "conv",
        "batch_norm",
        "activation",
        "dropout",
        "activation",
        "flatten",
        "dense",
    ]
    assert layers[2] == Activation(activation="leaky_relu", negative_slope=0.1)
    assert layers[3] == Dropout(rate=0.3)
    assert layers[6].activation == "softmax"  # dim=-1 of (N, 3) is the channel axis
    assert imported.paths[6] == ("fc", "softmax")


class FunctionalPools(nn.Module):
    """The classic hand-written forward: pools as functions."""

    def __init__(self, avg_padding=0):
        super().__init__()
        self.avg_padding = avg_padding
        self.c1, self.c2, self.fc = nn.Conv2d(1, 4, 5), nn.Conv2d(4, 6, 3), nn.Linear(6, 3)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.c1(x)), 2)
        x = F.avg_pool2d(self.c2(x), 2, padding=self.avg_padding, count_include_pad=False)
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def test_functional_pools_are_read():
    imported = compare.from_torch(FunctionalPools(), input="1x20x20")
    kinds = [layer.kind for layer in imported.model.layers]
    assert kinds == ["conv", "max_pool", "conv", "avg_pool", "global_avg_pool", "dense"]
    assert imported.model.layers[0].activation == "relu"
    assert imported.paths[4] == ("adaptive_avg_pool2d", "flatten")
    assert compare.compare(imported)[0].status == "ok"
    padded = compare.from_torch(FunctionalPools(avg_padding=1), input="1x20x20")
    assert padded.model.layers[3].padding == (1, 1)
    assert not padded.model.layers[3].count_include_pad


# -- what has no faithful spec is named ----------------------------------------------

TORCH_REFUSED = [
    (nn.BatchNorm2d(2, track_running_stats=False), "track_running_stats=False"),
    (nn.BatchNorm2d(2, momentum=None), "momentum=None"),
    (nn.MaxPool2d(2, return_indices=True), "not one tensor that keeps the batch axis"),
    (nn.MaxPool2d(2, dilation=2), "dilation=2"),
    (nn.AvgPool2d(2, divisor_override=3), "divisor_override=3"),
    (nn.Softmax(dim=2), "softmax over dim=2"),
    (nn.Softmax(), "softmax over dim=None"),
    (nn.Softplus(beta=2.0), "beta=2.0"),
    (nn.LayerNorm(6), "it acts on the last axis of a"),
    (nn.LayerNorm([5, 6]), r"normalized_shape=\(5, 6\)"),
    (nn.AdaptiveAvgPool2d(2), "output_size=2"),
    (nn.GroupNorm(2, 4), r"it fails on an input"),
    (nn.LeakyReLU(-0.1), r"negative_slope=-0.1 must lie in \[0.0, 1000000.0\]"),
]


@pytest.mark.filterwarnings("ignore:Implicit dimension choice for softmax")
@pytest.mark.parametrize("module, reason", TORCH_REFUSED, ids=[r for _, r in TORCH_REFUSED])
def test_unmappable_torch_layers_are_named(module, reason):
    net = nn.Sequential(nn.Identity(), module)
    with pytest.raises(UnmappableError, match=rf"1 \(torch.nn.{type(module).__name__}\): "):
        compare.from_torch(net, input="2x5x6")
    with pytest.raises(UnmappableError, match=reason):
        compare.from_torch(net, input="2x5x6")


def test_padding_that_is_not_the_pools_own_is_named():
    zero_then_max = nn.Sequential(nn.ZeroPad2d(1), nn.MaxPool2d(3))
    [pool] = compare.from_torch(zero_then_max, input="2x6x6").model.layers
    assert pool == MaxPool(pool_size=(3, 3), strides=(3, 3), padding=(1, 1), pad_zeros=True)
    inf_then_avg = nn.Sequential(nn.ConstantPad2d(1, float("-inf")), nn.AvgPool2d(3))
    with pytest.raises(UnmappableError, match=r"0 \+ 1 .*padding with -inf before a avg_pool"):
        compare.from_torch(inf_then_avg, input="2x6x6")
    inf_then_conv = nn.Sequential(nn.ConstantPad2d(1, float("-inf")), nn.Conv2d(2, 2, 3))
    with pytest.raises(UnmappableError, match=r"pads with -inf; a convolution pads with zeros"):
        compare.from_torch(inf_then_conv, input="2x6x6")


def _keras(*layers, shape=(6, 6, 2)):
    return keras.Sequential([keras.Input(shape), *layers])


KERAS_REFUSED = [
    (lambda: L.BatchNormalization(axis=1, name="x"), r"axis=1"),
    (lambda: L.LayerNormalization(rms_scaling=True, name="x"), "rms_scaling=True"),
    (lambda: L.LayerNormalization(axis=1, name="x"), r"axis=\[1\]"),
    (lambda: L.Softmax(axis=1, name="x"), "softmax over axis=1"),
    (lambda: L.Dropout(0.5, noise_shape=(None, 1, 1, 2), name="x"), "noise_shape"),
    (lambda: L.ReLU(max_value=3.0, name="x"), "max_value=3.0"),
    (lambda: L.Conv2D(2, 3, activation="leaky_relu", name="x"), "fused with negative_slope=0.2"),
    (lambda: L.Conv2D(2, 3, activation="hard_sigmoid", name="x"), "'hard_sigmoid' is not"),
    (lambda: L.Dense(2, activation=lambda v: v * 2, name="x"), "'<lambda>' is not"),
    (lambda: L.MaxPooling2D(2, data_format="channels_first", name="x"), "data_format"),
    (lambda: L.ELU(alpha=-1.0, name="x"), r"alpha=-1.0 must lie in"),
]


@pytest.mark.filterwarnings("ignore:You passed `rms_scaling=True`")
@pytest.mark.parametrize("make, reason", KERAS_REFUSED, ids=[r for _, r in KERAS_REFUSED])
def test_unmappable_keras_layers_are_named(make, reason):
    layer = make()
    with pytest.raises(UnmappableError, match=rf"x \(keras.layers.{type(layer).__name__}\): "):
        compare.from_keras(_keras(layer))
    with pytest.raises(UnmappableError, match=reason):
        compare.from_keras(_keras(make()))


def test_keras_zero_padding_before_an_average_pool_counts_the_zeros():
    model = _keras(L.ZeroPadding2D(1), L.AveragePooling2D(3, strides=2))
    [pool] = compare.from_keras(model).model.layers
    want = AvgPool(pool_size=3, strides=2, padding=1, count_include_pad=True)
    assert pool.resolved(2) == want.resolved(2)
    # before a max pool on a signed input the zeros can win: the pool pads zeros
    [pool] = compare.from_keras(_keras(L.ZeroPadding2D(1), L.MaxPooling2D(3))).model.layers
    assert pool == MaxPool(pool_size=(3, 3), strides=(3, 3), padding=(1, 1), pad_zeros=True)
