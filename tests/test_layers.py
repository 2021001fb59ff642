"""Normalisation, pooling, dropout and activation kinds against both real frameworks."""

from __future__ import annotations

import inspect
import math

import numpy as np
import pytest

from compare import SpecError
from compare.catalog import catalog_files
from compare.comparison import compare_model
from compare.formulas import infer
from compare.kinds.activation.spec import Activation
from compare.kinds.dropout.spec import Dropout
from compare.kinds.norm.spec import BatchNorm, GroupNorm, LayerNorm
from compare.kinds.pool.spec import AvgPool, GlobalAvgPool, GlobalMaxPool, MaxPool
from compare.layouts import activation_to_keras, activation_to_torch
from compare.parity import build, measure
from compare.spec import Conv, Dense, Input, Model, layer_from_dict
from compare.specfile import load

# (id, input channels, input size, layer)
CASES = [
    ("bn0d", 4, (), BatchNorm()),
    ("bn1d", 4, (9,), BatchNorm(momentum=0.3)),
    ("bn2d", 4, (5, 6), BatchNorm(epsilon=1e-3)),
    ("bn3d", 3, (3, 4, 5), BatchNorm()),
    ("bn2d_no_affine", 4, (5, 5), BatchNorm(center=False, scale=False)),
    ("ln_channels_2d", 6, (4, 5), LayerNorm()),
    ("ln_all_2d", 3, (4, 5), LayerNorm(axes="all")),
    ("ln_flat", 7, (), LayerNorm(epsilon=1e-3)),
    ("ln_scale_only", 5, (6,), LayerNorm(center=False)),
    ("gn_2d", 8, (4, 4), GroupNorm(groups=4)),
    ("gn_1d", 6, (7,), GroupNorm(groups=3)),
    ("max_valid_2d", 3, (8, 8), MaxPool(pool_size=2)),
    ("max_same_odd_2d", 2, (7, 7), MaxPool(pool_size=3, strides=2, padding="same")),
    ("max_int_pad_1d", 2, (9,), MaxPool(pool_size=3, strides=2, padding=1)),
    ("max_3d", 2, (4, 5, 6), MaxPool(pool_size=2, padding="same")),
    ("avg_same_asym_2d", 2, (7, 7), AvgPool(pool_size=2, strides=2, padding="same")),
    ("avg_same_sym_2d", 2, (6, 6), AvgPool(pool_size=3, strides=1, padding="same")),
    (
        "avg_int_incl_2d",
        2,
        (8, 8),
        AvgPool(pool_size=3, strides=2, padding=1, count_include_pad=True),
    ),
    ("avg_same_incl_1d", 2, (7,), AvgPool(pool_size=2, padding="same", count_include_pad=True)),
    ("gap_2d", 5, (4, 6), GlobalAvgPool()),
    ("gap_keep_3d", 2, (3, 3, 3), GlobalAvgPool(keepdims=True)),
    ("gmp_1d", 4, (10,), GlobalMaxPool()),
    ("dropout_map", 3, (4, 4), Dropout(rate=0.4)),
    ("leaky_relu", 3, (5,), Activation(activation="leaky_relu")),
    ("gelu", 3, (5,), Activation(activation="gelu")),
    ("gelu_tanh", 3, (), Activation(activation="gelu_tanh")),
    ("softmax_map", 4, (3, 3), Activation(activation="softmax")),
    ("elu", 3, (4,), Activation(activation="elu", alpha=0.7)),
    ("conv_relu", 3, (6, 6), Conv(filters=4, kernel_size=3, activation="relu")),
    ("dense_softmax", 6, (), Dense(units=5, activation="softmax")),
    ("dense_on_map_softmax", 3, (4,), Dense(units=5, activation="softmax")),
    (
        "conv_t_leaky",
        2,
        (5, 5),
        layer_from_dict(
            {
                "kind": "conv_transpose",
                "filters": 3,
                "kernel_size": 3,
                "strides": 2,
                "padding": 1,
                "activation": "leaky_relu",
            }
        ),
    ),
    (
        "depthwise_tanh",
        2,
        (6,),
        layer_from_dict({"kind": "depthwise_conv", "kernel_size": 3, "activation": "tanh"}),
    ),
    (
        "separable3d_gelu",
        2,
        (4, 4, 4),
        layer_from_dict(
            {"kind": "separable_conv", "filters": 3, "kernel_size": 2, "activation": "gelu"}
        ),
    ),
    (
        "conv_silu_same",
        2,
        (7, 7),
        Conv(filters=3, kernel_size=3, strides=2, padding="same", activation="swish"),
    ),
]


def _model(case):
    name, channels, size, layer = case
    return Model(name, Input(channels, size), (layer,))


@pytest.fixture(scope="module", params=CASES, ids=[c[0] for c in CASES])
def case_result(request):
    model = _model(request.param)
    return model, compare_model(model)


@pytest.mark.parametrize("framework", ["torch", "keras"])
def test_counts_and_shapes_match_formulas(case_result, framework):
    model, result = case_result
    formula = infer(model)[0]
    fw = result.layers[0].frameworks[framework]
    assert fw.supported, fw.reason
    assert fw.trainable_params == formula.params
    is_bn = model.layers[0].kind == "batch_norm"
    if framework == "torch":
        # running statistics are buffers, plus num_batches_tracked (one element)
        assert fw.non_trainable_params == 0
        assert fw.buffers == formula.state + (1 if is_bn else 0)
        assert fw.output_shape == formula.output.torch()
    else:
        assert fw.non_trainable_params == formula.state
        assert fw.output_shape == formula.output.keras()


def test_parity_after_port(case_result):
    _, result = case_result
    assert result.parity.status == "ok", result.parity


def _random_weights(adapter, built, rng):
    weights = adapter.get_weights(built)
    out = {}
    for role, array in weights.items():
        low, high = (0.5, 2.0) if role == "moving_variance" else (-1.5, 1.5)
        out[role] = rng.uniform(low, high, size=array.shape).astype(array.dtype)
    return out


@pytest.mark.parametrize("src", ["torch", "keras"])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_parity_in_both_directions_with_random_state(case, src):
    from compare.adapters import get_adapter
    from compare.adapters.base import Built

    model = _model(case)
    pair = build(model)
    rng = np.random.default_rng(1)
    built = pair.sides[src].layers[0]
    assert isinstance(built, Built)
    adapter = get_adapter(src)
    adapter.set_weights(built, _random_weights(adapter, built, rng))
    pair.port(src=src)
    formula = pair.formulas[0]
    x = rng.standard_normal((3, *formula.input.torch()[1:])).astype("float32")
    y_torch = pair.torch(__import__("torch").from_numpy(x)).detach().numpy()
    y_keras = np.asarray(pair.keras(activation_to_keras(x, formula.input), training=False))
    parity = measure(activation_to_keras(y_torch, formula.output), y_keras)
    assert parity.status == "ok", parity
    if adapter.get_weights(built):
        # the weights really moved: a fresh layer would give a different output
        fresh = build(model, seed=7)
        y_fresh = fresh.torch(__import__("torch").from_numpy(x)).detach().numpy()
        assert np.max(np.abs(y_fresh - y_torch)) > 1e-2


def test_batch_norm_against_numpy():
    result_pair = build(Model("bn", Input(3, (4, 4)), (BatchNorm(epsilon=1e-3),)))
    from compare.adapters import get_adapter

    torch_adapter = get_adapter("torch")
    built = result_pair.sides["torch"].layers[0]
    rng = np.random.default_rng(2)
    w = _random_weights(torch_adapter, built, rng)
    torch_adapter.set_weights(built, w)
    x = rng.standard_normal((2, 3, 4, 4)).astype("float32")
    got = torch_adapter.run(built, x)
    c = (1, 3, 1, 1)
    want = (x - w["moving_mean"].reshape(c)) / np.sqrt(w["moving_variance"].reshape(c) + 1e-3)
    want = want * w["gamma"].reshape(c) + w["beta"].reshape(c)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_avg_pool_same_excludes_padding_against_numpy():
    pair = build(Model("p", Input(1, (3,)), (AvgPool(pool_size=2, padding="same"),)))
    from compare.adapters import get_adapter

    x = np.array([[[1.0, 3.0, 8.0]]], dtype="float32")
    got = get_adapter("torch").run(pair.sides["torch"].layers[0], x)
    np.testing.assert_allclose(got, [[[2.0, 8.0]]])
    kx = activation_to_keras(x, infer(pair.model)[0].input)
    got_k = get_adapter("keras").run(pair.sides["keras"].layers[0], kx)
    np.testing.assert_allclose(
        activation_to_torch(got_k, infer(pair.model)[0].output), [[[2.0, 8.0]]]
    )


# -- defaults: the installed frameworks' own values ---------------------------------------


def _sig(obj, name):
    return inspect.signature(obj).parameters[name].default


def _differences(case_id):
    case = next(c for c in CASES if c[0] == case_id)
    result = compare_model(_model(case))
    layer = result.layers[0]
    return {d.what: d for d in layer.differences}, {r.name: r for r in layer.defaults}


def test_batch_norm_momentum_and_epsilon_defaults_are_named():
    import keras
    from torch import nn

    t_momentum, k_momentum = (
        _sig(nn.BatchNorm2d, "momentum"),
        _sig(keras.layers.BatchNormalization, "momentum"),
    )
    t_eps, k_eps = _sig(nn.BatchNorm2d, "eps"), _sig(keras.layers.BatchNormalization, "epsilon")
    # the known differences still hold in the installed versions
    assert not math.isclose(t_momentum, 1 - k_momentum)
    assert t_eps != k_eps
    diffs, rows = _differences("bn2d")
    assert rows["momentum"].torch == t_momentum
    assert math.isclose(rows["momentum"].keras, 1 - k_momentum)
    assert (rows["epsilon"].torch, rows["epsilon"].keras) == (t_eps, k_eps)
    assert rows["epsilon"].user_set and not rows["momentum"].user_set
    assert {"default_momentum", "default_epsilon", "running_statistics"} <= set(diffs)
    # epsilon matters in inference: the naive port's error is measured and non-zero
    eps = diffs["default_epsilon"]
    assert eps.measured and eps.naive_max_abs_err > 1e-5
    assert "no effect in inference" in diffs["default_momentum"].naive_detail
    assert "num_batches_tracked" in diffs["running_statistics"].detail


def test_layer_and_group_norm_epsilon_defaults_are_named():
    import keras
    from torch import nn

    for case_id, t_cls, k_cls in (
        ("ln_channels_2d", nn.LayerNorm, keras.layers.LayerNormalization),
        ("gn_2d", nn.GroupNorm, keras.layers.GroupNormalization),
    ):
        assert _sig(t_cls, "eps") != _sig(k_cls, "epsilon")
        diffs, rows = _differences(case_id)
        assert rows["epsilon"].torch == _sig(t_cls, "eps")
        assert rows["epsilon"].keras == _sig(k_cls, "epsilon")
        assert diffs["default_epsilon"].naive_max_abs_err > 1e-5


def test_leaky_relu_slope_default_is_named_and_measured():
    import keras
    from torch import nn

    t, k = _sig(nn.LeakyReLU, "negative_slope"), _sig(keras.layers.LeakyReLU, "negative_slope")
    assert t != k
    diffs, rows = _differences("leaky_relu")
    assert (rows["negative_slope"].torch, rows["negative_slope"].keras) == (t, k)
    assert diffs["default_negative_slope"].naive_max_abs_err > 0.05


def test_avg_pool_count_include_pad_default_is_named_and_measured():
    from torch import nn

    assert _sig(nn.AvgPool2d, "count_include_pad") is True
    diffs, rows = _differences("avg_same_asym_2d")
    assert rows["count_include_pad"].torch is True and rows["count_include_pad"].keras is None
    assert diffs["default_count_include_pad"].naive_max_abs_err > 0.05
    assert "padding" in diffs


def test_gelu_defaults_agree_and_softmax_axis_is_measured():
    import keras
    from torch import nn

    assert _sig(nn.GELU, "approximate") == "none"
    assert _sig(keras.activations.gelu, "approximate") is False
    _, rows = _differences("gelu")
    assert not rows["approximate"].differs
    diffs, _ = _differences("softmax_map")
    assert diffs["softmax_axis"].naive_max_abs_err > 0.01


def test_initialisers_theory_and_measurement():
    model = Model("init", Input(16, (8, 8)), (Conv(filters=32, kernel_size=3),))
    result = compare_model(model)
    inits = {(i.framework, i.role): i for i in result.layers[0].initialisers}
    torch_kernel, keras_kernel = inits["torch", "kernel"], inits["keras", "kernel"]
    assert math.isclose(torch_kernel.std, 1 / math.sqrt(3 * 16 * 9))
    assert math.isclose(keras_kernel.std, math.sqrt(2 / (16 * 9 + 32 * 9)))
    assert keras_kernel.name == "GlorotUniform"
    for init in (torch_kernel, keras_kernel, inits["torch", "bias"]):
        assert init.measured_std == pytest.approx(init.std, rel=0.15)
    assert inits["keras", "bias"].measured_std == 0.0


# -- unsupported, JSON, catalogue --------------------------------------------------------


@pytest.mark.parametrize(
    "layer, framework, match",
    [
        (LayerNorm(scale=False), "torch", "elementwise_affine"),
    ],
    ids=["ln_center_only"],
)
def test_unsupported_is_a_record_with_reason(layer, framework, match):
    result = compare_model(Model("u", Input(2, (8, 8)), (layer,)))
    record = result.layers[0].to_dict()["frameworks"][framework]
    assert record["supported"] is False
    assert match in record["reason"]
    assert result.parity.status == "unsupported"


def test_json_layer_record_carries_defaults_and_counts():
    result = compare_model(_model(CASES[2])).to_dict()
    layer = result["layers"][0]
    assert layer["frameworks"]["keras"]["params"] == 16
    assert layer["frameworks"]["torch"]["params"] == 8
    assert layer["frameworks"]["torch"]["buffers"] == 9
    names = {row["name"] for row in layer["defaults"]}
    assert {"momentum", "epsilon", "center", "scale"} <= names


# -- spec errors -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, match",
    [
        ({"kind": "batch_norm", "momentum": 1.5}, r"momentum=1.5 must lie in \[0.0, 1.0\]"),
        ({"kind": "batch_norm", "epsilon": 0}, "epsilon=0 must be > 0"),
        ({"kind": "batch_norm", "momentum": True}, "momentum=True must be a number"),
        ({"kind": "layer_norm", "axes": "spatial"}, "axes='spatial' must be 'channels' or 'all'"),
        ({"kind": "group_norm"}, "groups=0 must be an integer >= 1"),
        ({"kind": "max_pool", "pool_size": 0}, "pool_size=0 must be an integer >= 1"),
        ({"kind": "avg_pool", "padding": "full"}, "padding='full' must be 'valid', 'same'"),
        ({"kind": "max_pool", "padding": "same", "ceil_mode": True}, "ceil_mode=true needs"),
        ({"kind": "dropout", "rate": 1.0}, r"rate=1.0 must lie in \[0.0, 1.0\)"),
        ({"kind": "activation", "activation": "softsign"}, "activation='softsign' is not a known"),
        ({"kind": "conv", "filters": 2, "activation": 3}, "activation=3 must be a string"),
        ({"kind": "avg_pool", "count_include_pad": 1}, "count_include_pad=1 must be true or false"),
    ],
)
def test_spec_errors(raw, match):
    with pytest.raises(SpecError, match=match):
        layer_from_dict(raw)


@pytest.mark.parametrize(
    "channels, size, layer, match",
    [
        (6, (4, 4), GroupNorm(groups=4), "groups=4 must divide channels=6"),
        (2, (4, 4), MaxPool(pool_size=2, padding=2), "must be at most half of pool_size=2"),
        (2, (3, 3), AvgPool(pool_size=5), "pool_size=5 on spatial axis 0 is larger"),
        (4, (), MaxPool(), "needs an input with at least 1 spatial axes"),
        (4, (), GlobalAvgPool(), "needs an input with at least 1 spatial axes"),
    ],
)
def test_model_spec_errors(channels, size, layer, match):
    with pytest.raises(SpecError, match=match):
        Model("bad", Input(channels, size), (layer,))


def test_activation_aliases_and_to_dict():
    assert Activation(activation="swish").activation == "silu"
    assert Conv(filters=2, kernel_size=1, activation="ReLU").to_dict()["activation"] == "relu"
    assert "activation" not in Dense(units=2).to_dict()


def test_reports_show_defaults_and_initialisers():
    from compare.report.markdown import render_markdown
    from compare.report.text import render_text

    result = compare_model(
        Model("r", Input(3, (6, 6)), (Conv(filters=2, kernel_size=3), BatchNorm()))
    )
    text = render_text([result])
    assert "defaults (spec convention):" in text
    assert "GlorotUniform" in text and "kaiming_uniform" in text
    momentum = next(line for line in text.splitlines() if "| momentum" in line)
    assert "differs" in momentum
    assert "| momentum | 0.1 | 0.1 | 0.01 | differs |" in render_markdown([result])


def test_training_batch_momentum_translation_and_variance_bias():
    """One training batch in both ported batch norms: the running means agree (so the
    momentum translation 1 - m is right) and the variances differ by exactly the
    unbiased-vs-biased factor, as numpy computes it."""
    from compare.adapters import get_adapter

    momentum = 0.3
    pair = build(Model("bn", Input(3, (4,)), (BatchNorm(momentum=momentum),)))
    pair.port(src="torch")
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3, 4)).astype("float32") * 2 + 1
    shape = pair.formulas[0].input
    stats = {}
    for name, xs in (("torch", x), ("keras", activation_to_keras(x, shape))):
        adapter = get_adapter(name)
        built = pair.sides[name].layers[0]
        adapter.run(built, xs, training=True)
        stats[name] = adapter.get_weights(built)
    per_channel = x.transpose(1, 0, 2).reshape(3, -1).astype(np.float64)
    n = per_channel.shape[1]
    mean, var = per_channel.mean(axis=1), per_channel.var(axis=1)
    np.testing.assert_allclose(stats["torch"]["moving_mean"], momentum * mean, rtol=1e-5)
    np.testing.assert_allclose(stats["keras"]["moving_mean"], momentum * mean, rtol=1e-5)
    np.testing.assert_allclose(
        stats["torch"]["moving_variance"], 1 - momentum + momentum * var * n / (n - 1), rtol=1e-5
    )
    np.testing.assert_allclose(
        stats["keras"]["moving_variance"], 1 - momentum + momentum * var, rtol=1e-5
    )


def test_training_mode_consequences_are_measured():
    diffs, _ = _differences("bn1d")
    assert diffs["training_mode"].measured and diffs["training_mode"].naive_max_abs_err > 1e-4
    assert diffs["default_momentum"].naive_max_abs_err > 1e-3


def test_fresh_keras_layers_are_seeded_without_touching_global_random():
    import random

    from compare.adapters import get_adapter

    model = Model("s", Input(3, (5, 5)), (Conv(filters=4, kernel_size=3),))
    keras_adapter = get_adapter("keras")
    state = random.getstate()
    first, again, other = (
        keras_adapter.get_weights(build(model, seed=s).sides["keras"].layers[0])["kernel"]
        for s in (0, 0, 1)
    )
    assert random.getstate() == state
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


@pytest.mark.parametrize(
    "raw, roles",
    [
        ({"kind": "depthwise_conv", "kernel_size": 3, "depth_multiplier": 2}, ["depthwise_kernel"]),
        (
            {"kind": "separable_conv", "filters": 8, "kernel_size": 3},
            ["depthwise_kernel", "pointwise_kernel"],
        ),
    ],
    ids=["depthwise", "separable"],
)
def test_initialisers_of_depthwise_roles_are_read_from_keras(raw, roles):
    result = compare_model(Model("i", Input(16, (8, 8)), (layer_from_dict(raw),)))
    keras_inits = {i.role: i for i in result.layers[0].initialisers if i.framework == "keras"}
    for role in roles:
        init = keras_inits[role]
        assert init.name == "GlorotUniform"
        assert init.measured_std == pytest.approx(init.std, rel=0.2)


def test_tensorflow_float64_activation_precision_limits_are_real():
    """The 'precision' notes claim TensorFlow's float64 leaky_relu and gelu fall short of
    float64 precision; this holds on the installed versions (PyTorch's do not)."""
    import torch

    from compare.kinds.activation.keras import activation_layer
    from compare.kinds.activation.torch import activation_module

    x = np.linspace(-3.0, 3.0, 13).reshape(1, 13)
    erf = np.vectorize(math.erf)
    refs = {
        "leaky_relu": np.where(x > 0, x, 0.01 * x),
        "gelu": 0.5 * x * (1 + erf(x / np.sqrt(2.0))),
    }
    for name, ref in refs.items():
        keras_y = np.asarray(activation_layer(name, 0.01, 1.0, f"p_{name}", "float64")(x))
        torch_y = activation_module(name).double()(torch.from_numpy(x)).numpy()
        assert np.max(np.abs(torch_y - ref)) < 1e-14
        assert 1e-12 < np.max(np.abs(keras_y - ref)) < 1e-6
    result = compare_model(
        Model("p", Input(3, (5,)), (Activation(activation="leaky_relu"),)), dtype="float64"
    )
    assert "precision" in {d.what for d in result.layers[0].differences}


def test_pytorch_spellings_per_kind():
    pool = layer_from_dict({"kind": "max_pool", "kernel_size": 3, "stride": 2})
    assert (pool.pool_size, pool.strides) == (3, 2)
    assert layer_from_dict({"kind": "dropout", "p": 0.2}).rate == 0.2
    norm = layer_from_dict({"kind": "group_norm", "num_groups": 2, "eps": 1e-3})
    assert (norm.groups, norm.epsilon) == (2, 1e-3)
    with pytest.raises(SpecError, match="field 'pool_size' given twice"):
        layer_from_dict({"kind": "avg_pool", "kernel_size": 3, "pool_size": 3})


@pytest.fixture(scope="module")
def catalogue_results():
    path = next(p for p in catalog_files() if p.name == "layers.toml")
    return path, {m.name: (m, compare_model(m)) for m in load(path)}


def test_catalogue_conv_bn_relu_counts(catalogue_results):
    _, results = catalogue_results
    _, conv_bn = results["conv_bn_relu"]
    assert conv_bn.status == "ok"
    bn = conv_bn.layers[1]
    assert (bn.frameworks["torch"].params, bn.frameworks["keras"].params) == (8, 16)
    assert (bn.frameworks["torch"].buffers, bn.frameworks["keras"].non_trainable_params) == (9, 8)


def test_counts_match_the_frameworks_own_summaries(catalogue_results):
    """Totals against keras.Model.count_params() and PyTorch's own parameter and
    buffer enumeration of the assembled models."""
    _, results = catalogue_results
    for name in ("conv_bn_relu", "norms", "norms_1d_and_flat"):
        model, result = results[name]
        pair = build(model)
        totals = result.totals()
        assert totals["keras"]["params"] == pair.keras.count_params()
        assert totals["keras"]["non_trainable_params"] == sum(
            int(np.prod(w.shape)) for w in pair.keras.non_trainable_weights
        )
        assert totals["torch"]["params"] == sum(p.numel() for p in pair.torch.parameters())
        assert totals["torch"]["buffers"] == sum(b.numel() for b in pair.torch.buffers())


def test_show_lists_every_new_kind(catalogue_results, capsys):
    import json

    from compare.cli import main

    path, _ = catalogue_results
    assert main(["show", "--format", "json", str(path)]) == 0  # unsupported is not a failure
    doc = json.loads(capsys.readouterr().out)
    kinds = {layer["kind"] for m in doc["models"] for layer in m["layers"]}
    assert {
        "batch_norm",
        "layer_norm",
        "group_norm",
        "max_pool",
        "avg_pool",
        "global_avg_pool",
        "global_max_pool",
        "dropout",
        "activation",
    } <= kinds
    statuses = {m["name"]: m["status"] for m in doc["models"]}
    assert set(statuses.values()) == {"ok"}


@pytest.mark.parametrize("center, scale", [(True, False), (False, True)])
def test_a_half_affine_batch_norm_is_built_in_torch_from_its_own_parts(center, scale):
    # nn.BatchNorm2d's affine switches gamma and beta together; Keras'
    # BatchNormalization(scale=False) (InceptionV3) has beta alone
    result = compare_model(Model("h", Input(3, (5, 5)), (BatchNorm(center=center, scale=scale),)))
    torch_side = result.layers[0].frameworks["torch"]
    keras_side = result.layers[0].frameworks["keras"]
    assert result.parity.status == "ok"
    assert torch_side.classes == ("HalfAffineBatchNorm",)
    assert torch_side.trainable_params == keras_side.trainable_params == 3
    assert torch_side.buffers == 3 + 3 + 1  # running mean, variance, batches tracked
    assert keras_side.non_trainable_params == 6
