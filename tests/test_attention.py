"""Multi-head attention in the real frameworks: counts, layouts, ports both ways, parity,
the naive ports that break, the unsupported Keras widths, and import round trips.

The oracles: parameter counts derived by hand below, layers the tests build
themselves with plain ``nn.MultiheadAttention`` / ``keras.layers.MultiHeadAttention``,
and a numpy attention written from the definition softmax(q k^T / sqrt(D)) v.
"""

import inspect
import math

import keras
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

import compare
from compare import layouts
from compare.adapters import get_adapter
from compare.comparison import compare_model
from compare.core.shapes import Shape
from compare.errors import SpecError
from compare.importers.base import Piece, Refuse
from compare.kinds.attention import from_keras as attention_from_keras
from compare.kinds.attention import from_torch as attention_from_torch
from compare.kinds.attention.keras import SpecMultiHeadAttention
from compare.kinds.attention.spec import MultiHeadAttention, port_attention
from compare.kinds.attention.torch import Attention
from compare.parity import build
from compare.spec import Input, Model, model_from_dict


def _self_model(e=32, heads=4, steps=10, **fields):
    return Model("mha", Input(e, (steps,)), (MultiHeadAttention(num_heads=heads, **fields),))


def _cross_dict(key_value_features=24, three=False):
    layers = [
        {
            "name": "memory",
            "kind": "conv",
            "filters": key_value_features,
            "kernel_size": 3,
            "strides": 2,
            "inputs": ["input"],
        },
        {
            "name": "attend",
            "kind": "multi_head_attention",
            "num_heads": 4,
            "inputs": ["input", "memory", "memory"] if three else ["input", "memory"],
        },
    ]
    return {"name": "cross", "input": {"channels": 16, "size": [12]}, "layers": layers}


def _hand_params(e, ek, ev, heads, d, bias=True):
    """q, k, v projections (H*D outputs each, from E, Ek, Ev features) and the output
    projection back to E, written out from the definition."""
    hd = heads * d
    q, k, v = e * hd, ek * hd, ev * hd
    out = hd * e
    biases = 3 * hd + e if bias else 0
    return q + k + v + out + biases


# -- counts ----------------------------------------------------------------------------
def test_mha_32_4_has_4224_params_in_both_frameworks_own_counters():
    assert _hand_params(32, 32, 32, 4, 8) == 4224
    plain_torch = nn.MultiheadAttention(32, 4)
    assert sum(p.numel() for p in plain_torch.parameters()) == 4224
    plain_keras = keras.layers.MultiHeadAttention(num_heads=4, key_dim=8)
    plain_keras.build((None, 10, 32), (None, 10, 32))
    assert plain_keras.count_params() == 4224
    result = compare_model(_self_model())
    layer = result.layers[0]
    assert layer.params == 4224
    assert layer.frameworks["torch"].trainable_params == 4224
    assert layer.frameworks["keras"].trainable_params == 4224


def test_weights_read_back_with_axis_labels():
    layer = compare_model(_self_model()).layers[0]
    torch_w = {w.name: (w.shape, w.axes) for w in layer.frameworks["torch"].weights}
    keras_w = {
        w.name.split("/", 1)[1]: (w.shape, w.axes) for w in layer.frameworks["keras"].weights
    }
    assert torch_w["1.in_proj_weight"] == ((96, 32), ("3*H*D", "E"))
    assert torch_w["1.in_proj_bias"] == ((96,), ("3*H*D",))
    assert torch_w["1.out_proj.weight"] == ((32, 32), ("E", "H*D"))
    assert keras_w["query/kernel"] == ((32, 4, 8), ("E", "H", "D"))
    assert keras_w["value/bias"] == ((4, 8), ("H", "D"))
    assert keras_w["attention_output/kernel"] == ((4, 8, 32), ("H", "D", "E"))
    assert layer.frameworks["torch"].classes == ("MoveAxis", "MultiheadAttention", "MoveAxis")


# -- parity ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "model",
    [
        _self_model(),
        _self_model(e=8, heads=1, steps=3),
        _self_model(e=12, heads=3, steps=5, use_bias=False),
        _self_model(e=16, heads=2, steps=4, dropout=0.1),
    ],
    ids=["e32h4", "one_head", "no_bias", "dropout"],
)
def test_self_attention_parity(model):
    result = compare_model(model)
    assert result.parity.status == "ok", result.parity
    assert result.layers[0].frameworks["torch"].trainable_params == result.layers[0].params
    assert result.layers[0].frameworks["keras"].trainable_params == result.layers[0].params


@pytest.mark.parametrize("three", [False, True], ids=["query_key_value", "query_key_value3"])
@pytest.mark.parametrize("features", [16, 24], ids=["packed", "kdim"])
def test_cross_attention_graph_parity(features, three):
    model = model_from_dict(_cross_dict(features, three))
    result = compare_model(model)
    assert result.parity.status == "ok", result.parity
    attend = result.layers[1]
    assert attend.params == _hand_params(16, features, features, 4, 4)
    names = {w.name for w in attend.frameworks["torch"].weights}
    # PyTorch packs q, k, v only when the key and the value have E features
    assert ("1.in_proj_weight" in names) == (features == 16)
    assert ("1.k_proj_weight" in names) == (features != 16)
    assert attend.frameworks["torch"].output_shape == (None, 16, 12)
    assert attend.frameworks["keras"].output_shape == (None, 12, 16)


def _numpy_attention(x, w_q, w_k, w_v, b_q, b_k, b_v, w_o, b_o, heads):
    """Multi-head attention from its definition; x (N, L, E), weights (out, in)."""
    n, steps, _ = x.shape
    d = w_q.shape[0] // heads

    def split(y):
        return y.reshape(n, steps, heads, d).transpose(0, 2, 1, 3)

    q, k, v = (split(x @ w.T + b) for w, b in ((w_q, b_q), (w_k, b_k), (w_v, b_v)))
    scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(d)
    scores = np.exp(scores - scores.max(-1, keepdims=True))
    probs = scores / scores.sum(-1, keepdims=True)
    out = (probs @ v).transpose(0, 2, 1, 3).reshape(n, steps, heads * d)
    return out @ w_o.T + b_o


def test_both_frameworks_match_a_numpy_attention():
    model = _self_model(e=12, heads=3, steps=5)
    pair = build(model, seed=3)
    pair.port(src="torch")
    torch_built, keras_built = (pair.sides[s].layers[0] for s in ("torch", "keras"))
    att = torch_built.obj.attention
    w = att.in_proj_weight.detach().numpy().astype(np.float64)
    b = att.in_proj_bias.detach().numpy().astype(np.float64)
    with torch.no_grad():  # zero biases would hide a bias mix-up: give them values
        att.in_proj_bias.copy_(torch.linspace(-1, 1, 36))
        att.out_proj.bias.copy_(torch.linspace(1, -1, 12))
    b = att.in_proj_bias.detach().numpy().astype(np.float64)
    pair.port(src="torch")
    x = np.random.default_rng(0).standard_normal((2, 5, 12)).astype("float32")
    want = _numpy_attention(
        x.astype(np.float64),
        *np.split(w, 3),
        *np.split(b, 3),
        att.out_proj.weight.detach().numpy(),
        att.out_proj.bias.detach().numpy(),
        heads=3,
    )
    with torch.no_grad():
        got_torch = torch_built.obj(torch.from_numpy(x).movedim(-1, 1)).movedim(1, -1).numpy()
    got_keras = keras.ops.convert_to_numpy(keras_built.obj[0](x))
    np.testing.assert_allclose(got_torch, want, atol=2e-5)
    np.testing.assert_allclose(got_keras, want, atol=2e-5)


# -- ports ---------------------------------------------------------------------------------
def test_port_into_plain_keras_layer_matches_plain_torch_module():
    """Our port against layers the test builds itself: a plain nn.MultiheadAttention
    and a plain keras MultiHeadAttention whose weights are set in Keras' own order."""
    torch.manual_seed(0)
    plain = nn.MultiheadAttention(8, 2, batch_first=True).eval()
    with torch.no_grad():
        plain.in_proj_bias.uniform_(-1, 1)
        plain.out_proj.bias.uniform_(-1, 1)
    roles = {
        "in_proj_kernel": plain.in_proj_weight.detach().numpy(),
        "in_proj_bias": plain.in_proj_bias.detach().numpy(),
        "output_kernel": plain.out_proj.weight.detach().numpy(),
        "output_bias": plain.out_proj.bias.detach().numpy(),
    }
    ported = port_attention(roles, 2, to="keras")
    layer = keras.layers.MultiHeadAttention(num_heads=2, key_dim=4)
    layer.build((None, 6, 8), (None, 6, 8))
    order = [f"{p}_{w}" for p in ("query", "key", "value", "output") for w in ("kernel", "bias")]
    layer.set_weights([ported[name] for name in order])
    x = np.random.default_rng(1).standard_normal((3, 6, 8)).astype("float32")
    with torch.no_grad():
        want = plain(*(torch.from_numpy(x),) * 3, need_weights=False)[0].numpy()
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(x, x)), want, atol=1e-5)
    back = port_attention(ported, 2, to="torch")
    for role, array in roles.items():
        np.testing.assert_array_equal(back[role], array)


def test_port_from_keras_to_torch():
    pair = build(_self_model(e=8, heads=2, steps=4), seed=1)
    pair.port(src="keras")
    x = np.random.default_rng(2).standard_normal((2, 8, 4)).astype("float32")
    y_t = get_adapter("torch").run(pair.sides["torch"].layers[0], x)
    x_k = layouts.activation_to_keras(x, pair.formulas[0].input)
    y_k = get_adapter("keras").run(pair.sides["keras"].layers[0], x_k)
    np.testing.assert_allclose(np.moveaxis(y_t, 1, -1), y_k, atol=1e-5)


# -- differences and naive ports -------------------------------------------------------
def _differences(model):
    return {d.what: d for d in compare_model(model).layers[0].differences}


def test_naive_ports_are_measured_and_break():
    diffs = _differences(_self_model())
    for what in ("packing", "heads", "batch_first", "masks"):
        assert diffs[what].measured, what
        assert diffs[what].naive_max_abs_err > 1e-2, what
    # key_dim read as the total width: 4 heads of 32, counted by hand
    wide = 3 * (32 * 128 + 128) + 128 * 32 + 32
    assert wide == 16800
    assert diffs["key_dim"].naive_max_abs_err is None
    assert "16,800" in diffs["key_dim"].naive_detail
    assert "scaling" in diffs and "1/sqrt(8)" in diffs["scaling"].detail


def test_mask_conventions_of_the_frameworks():
    """PyTorch's True blocks, Keras' True attends: the fact the 'masks' difference names."""
    torch.manual_seed(0)
    plain = nn.MultiheadAttention(4, 1, batch_first=True).eval()
    layer = keras.layers.MultiHeadAttention(num_heads=1, key_dim=4)
    layer.build((None, 5, 4), (None, 5, 4))
    roles = {
        "in_proj_kernel": plain.in_proj_weight.detach().numpy(),
        "in_proj_bias": plain.in_proj_bias.detach().numpy(),
        "output_kernel": plain.out_proj.weight.detach().numpy(),
        "output_bias": plain.out_proj.bias.detach().numpy(),
    }
    ported = port_attention(roles, 1, to="keras")
    order = [f"{p}_{w}" for p in ("query", "key", "value", "output") for w in ("kernel", "bias")]
    layer.set_weights([ported[name] for name in order])
    x = np.random.default_rng(0).standard_normal((2, 5, 4)).astype("float32")
    blocked = np.triu(np.ones((5, 5), bool), 1)
    with torch.no_grad():
        t = torch.from_numpy(x)
        want = plain(t, t, t, attn_mask=torch.from_numpy(blocked), need_weights=False)[0].numpy()
    causal = keras.ops.convert_to_numpy(layer(x, x, use_causal_mask=True))
    allowed = keras.ops.convert_to_numpy(layer(x, x, attention_mask=~blocked[None]))
    literal = keras.ops.convert_to_numpy(layer(x, x, attention_mask=blocked[None]))
    np.testing.assert_allclose(causal, want, atol=1e-5)
    np.testing.assert_allclose(allowed, want, atol=1e-5)
    assert np.abs(literal - want).max() > 1e-2


def test_keras_width_other_than_e_is_unsupported_in_torch_with_reason():
    result = compare_model(_self_model(key_dim=16))
    layer = result.layers[0]
    assert result.parity.status == "unsupported"
    assert not layer.frameworks["torch"].supported
    assert "num_heads*key_dim = 64, not 32" in layer.frameworks["torch"].reason
    hand = _hand_params(32, 32, 32, 4, 16)
    assert hand == 8416
    assert layer.frameworks["keras"].trainable_params == hand


def test_defaults_read_from_signatures():
    rows = {r.name: r for r in compare_model(_self_model()).layers[0].defaults}
    torch_sig = inspect.signature(nn.MultiheadAttention).parameters
    keras_sig = inspect.signature(keras.layers.MultiHeadAttention).parameters
    assert rows["use_bias"].torch == torch_sig["bias"].default
    assert rows["dropout"].keras == keras_sig["dropout"].default
    assert keras_sig["key_dim"].default is inspect.Parameter.empty
    assert rows["key_dim"].keras == "required"
    assert rows["key_dim"].torch == 32 // 4
    assert rows["key_dim"].differs


def test_initialisers_theory_matches_measured():
    inits = {(i.framework, i.role): i for i in compare_model(_self_model()).layers[0].initialisers}
    # xavier_uniform on the packed (96, 32): sqrt(2 / (32 + 96))
    assert inits["torch", "in_proj_kernel"].std == pytest.approx(math.sqrt(2 / 128))
    # glorot_uniform on an EinsumDense (32 -> 4*8): sqrt(2 / (32 + 32))
    assert inits["keras", "query_kernel"].std == pytest.approx(math.sqrt(2 / 64))
    for init in inits.values():
        if init.std:
            assert init.measured_std == pytest.approx(init.std, rel=0.15)


# -- bad specs ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fields", "shapes", "message"),
    [
        ({"num_heads": 0}, None, "num_heads=0"),
        ({"num_heads": True}, None, "num_heads"),
        ({"num_heads": 2, "key_dim": 0}, None, "key_dim=0"),
        ({"num_heads": 2, "dropout": 1.0}, None, r"dropout=1.0 must lie in \[0.0, 1.0\)"),
        ({"num_heads": 3}, (Shape(32, (4,)),), "num_heads=3 must divide the query's 32"),
        ({"num_heads": 2}, (Shape(8, (4, 4)),), "needs sequences"),
        ({"num_heads": 2}, (Shape(8),), "needs sequences"),
        ({"num_heads": 2}, (Shape(8, (4,)),) * 4, "takes 1 input"),
        (
            {"num_heads": 2},
            (Shape(8, (4,)), Shape(8, (3,)), Shape(8, (5,))),
            "the key \\(3 steps\\) and the value \\(5 steps\\)",
        ),
    ],
)
def test_bad_specs_raise_spec_error(fields, shapes, message):
    with pytest.raises(SpecError, match=message):
        layer = MultiHeadAttention(**fields)
        layer.formula(shapes)


def test_bad_spec_in_a_file_names_the_layer():
    raw = {
        "name": "m",
        "input": {"channels": 10, "size": [4]},
        "layers": [{"kind": "multi_head_attention", "num_heads": 4}],
    }
    with pytest.raises(
        SpecError, match=r"model 'm', layer 0 \(multi_head_attention\).*num_heads=4"
    ):
        model_from_dict(raw)


# -- importers ------------------------------------------------------------------------------
def test_torch_chain_round_trip():
    torch.manual_seed(0)
    source = nn.Sequential(Attention(nn.MultiheadAttention(32, 4, batch_first=True)))
    imported = compare.from_torch(source, "32x10")
    assert imported.model.layers == (MultiHeadAttention(num_heads=4),)
    np.testing.assert_array_equal(
        imported.weights[0]["in_proj_kernel"], source[0].attention.in_proj_weight.detach().numpy()
    )
    result = compare.compare(imported)
    assert result[0].parity.status == "ok"


def test_keras_chain_round_trip():
    source = keras.Sequential(
        [keras.Input((10, 32)), SpecMultiHeadAttention(num_heads=4, key_dim=8)]
    )
    imported = compare.from_keras(source)
    assert imported.model.layers == (MultiHeadAttention(num_heads=4, key_dim=8),)
    kernel = source.layers[-1].query_dense.kernel
    np.testing.assert_array_equal(
        imported.weights[0]["query_kernel"], keras.ops.convert_to_numpy(kernel)
    )
    result = compare.compare(imported)
    assert result[0].parity.status == "ok"


def _piece():
    return Piece("attn", "cls", Shape(32, (10,)), Shape(32, (10,)))


def test_mappers_of_the_plain_classes():
    torch_piece = attention_from_torch._attention(
        nn.MultiheadAttention(32, 4, batch_first=True, kdim=8, vdim=8), _piece()
    )
    assert torch_piece.layer == MultiHeadAttention(num_heads=4)
    assert set(torch_piece.roles) >= {"query_kernel", "key_kernel", "value_kernel"}
    layer = keras.layers.MultiHeadAttention(num_heads=4, key_dim=16)
    layer.build((None, 10, 32), (None, 10, 32))
    keras_piece = attention_from_keras._attention(layer, _piece())
    assert keras_piece.layer == MultiHeadAttention(num_heads=4, key_dim=16)
    assert len(keras_piece.roles) == 8


@pytest.mark.parametrize(
    ("module", "message"),
    [
        (nn.MultiheadAttention(8, 2), "batch_first=False"),
        (nn.MultiheadAttention(8, 2, batch_first=True, add_bias_kv=True), "add_bias_kv=True"),
        (nn.MultiheadAttention(8, 2, batch_first=True, add_zero_attn=True), "add_zero_attn"),
    ],
    ids=["batch_first", "bias_kv", "zero_attn"],
)
def test_torch_refusals(module, message):
    with pytest.raises(Refuse, match=message):
        attention_from_torch._attention(module, _piece())


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"value_dim": 4}, "value_dim=4 differs from key_dim=8"),
        ({"output_shape": 5}, "output_shape"),
        ({"use_gate": True}, "use_gate"),
    ],
)
def test_keras_refusals(kwargs, message):
    layer = keras.layers.MultiHeadAttention(num_heads=2, key_dim=8, **kwargs)
    with pytest.raises(Refuse, match=message):
        attention_from_keras.attention_spec(layer)


# -- transformer blocks: the catalogue's graphs against nn.TransformerEncoderLayer ------
def _catalogue_model(name):
    from compare.catalog import catalog_files
    from compare.specfile import load

    path = next(p for p in catalog_files() if p.name == "attention.toml")
    return next(m for m in load(path) if m.name == name)


def _encoder_roles(layer, name):
    """The role arrays of catalogue node ``name`` from nn.TransformerEncoderLayer's own
    parameters (pre-norm names on the left, post-norm on the right of each pair)."""
    sa = layer.self_attn
    arrays = {
        "attn": {
            "in_proj_kernel": sa.in_proj_weight,
            "in_proj_bias": sa.in_proj_bias,
            "output_kernel": sa.out_proj.weight,
            "output_bias": sa.out_proj.bias,
        },
        "linear1": {"kernel": layer.linear1.weight, "bias": layer.linear1.bias},
        "linear2": {"kernel": layer.linear2.weight, "bias": layer.linear2.bias},
        "norm1": {"gamma": layer.norm1.weight, "beta": layer.norm1.bias},
        "norm2": {"gamma": layer.norm2.weight, "beta": layer.norm2.bias},
    }[name]
    return {role: t.detach().numpy().copy() for role, t in arrays.items()}


#: catalogue model -> (TransformerEncoderLayer options, node -> its parameters' module)
ENCODERS = {
    "vit_encoder_block": (
        {"norm_first": True, "activation": "gelu"},
        {"ln1": "norm1", "attn": "attn", "ln2": "norm2", "mlp1": "linear1", "mlp2": "linear2"},
    ),
    "transformer_encoder_post_norm": (
        {"norm_first": False, "activation": "relu"},
        {"attn": "attn", "ln1": "norm1", "ff1": "linear1", "ff2": "linear2", "ln2": "norm2"},
    ),
}


@pytest.mark.parametrize("name", list(ENCODERS))
def test_catalogue_block_computes_nn_transformer_encoder_layer(name):
    """nn.TransformerEncoderLayer (eval, dropout off by eval) and the catalogue's graph,
    built in both frameworks, with the encoder's own weights: the three agree."""
    options, nodes = ENCODERS[name]
    torch.manual_seed(0)
    encoder = nn.TransformerEncoderLayer(
        32, 4, dim_feedforward=64, batch_first=True, layer_norm_eps=1e-5, **options
    ).eval()
    with torch.no_grad():  # non-trivial norms and biases, so that a mix-up shows
        for p in encoder.parameters():
            if p.dim() == 1:
                p.uniform_(0.5, 1.5)
    model = _catalogue_model(name)
    pair = build(model, seed=0)
    torch_adapter = get_adapter("torch")
    for index, node in enumerate(model.graph.nodes):
        if node.name in nodes:
            roles = _encoder_roles(encoder, nodes[node.name])
            torch_adapter.set_weights(pair.sides["torch"].layers[index], roles)
    pair.port(src="torch")
    x = np.random.default_rng(0).standard_normal((3, 16, 32)).astype("float32")
    with torch.no_grad():
        want = encoder(torch.from_numpy(x)).numpy()
        ours_torch = pair.torch(torch.from_numpy(x).movedim(-1, 1)).movedim(1, -1).numpy()
    ours_keras = keras.ops.convert_to_numpy(pair.keras(x))
    np.testing.assert_allclose(ours_torch, want, atol=2e-5)
    np.testing.assert_allclose(ours_keras, want, atol=5e-5)


def test_layer_norm_epsilon_default_is_named_and_measured_in_the_block():
    result = compare_model(_catalogue_model("vit_encoder_block"))
    eps = [d for layer in result.layers for d in layer.differences if d.what == "default_epsilon"]
    assert len(eps) == 2
    for d in eps:
        assert d.torch == "1e-05" and d.keras == "0.001"
        assert d.measured and d.naive_max_abs_err > 1e-4


@settings(max_examples=12, deadline=None)
@given(
    heads=st.integers(1, 4),
    head_width=st.integers(1, 4),
    steps=st.integers(1, 6),
    memory_features=st.one_of(st.none(), st.integers(1, 9)),
    use_bias=st.booleans(),
)
def test_random_attention_specs_agree_with_the_hand_formula(
    heads, head_width, steps, memory_features, use_bias
):
    e = heads * head_width
    layers = [{"kind": "multi_head_attention", "num_heads": heads, "use_bias": use_bias}]
    if memory_features is not None:  # cross-attention over a 1x1 conv's other width
        layers = [
            {"name": "memory", "kind": "conv", "filters": memory_features, "kernel_size": 1},
            {**layers[0], "name": "attend", "inputs": ["input", "memory"]},
        ]
    model = model_from_dict(
        {"name": "r", "input": {"channels": e, "size": [steps]}, "layers": layers}
    )
    result = compare_model(model, diagnostics=False)
    assert result.parity.status == "ok", result.parity
    kv = e if memory_features is None else memory_features
    want = _hand_params(e, kv, kv, heads, head_width, bias=use_bias)
    attend = result.layers[-1]
    assert attend.frameworks["torch"].trainable_params == want
    assert attend.frameworks["keras"].trainable_params == want


def test_shape_only_and_float64():
    model = model_from_dict(_cross_dict(24))
    shapes = compare_model(model, parity=False)
    assert shapes.parity.status == "skipped"
    attend = shapes.layers[1]
    assert attend.frameworks["torch"].output_shape == (None, 16, 12)
    assert attend.frameworks["keras"].output_shape == (None, 12, 16)
    assert attend.frameworks["torch"].trainable_params == _hand_params(16, 24, 24, 4, 4)
    wide = compare_model(model, dtype="float64")
    assert wide.parity.status == "ok"
    assert wide.parity.max_abs_err < 1e-12
