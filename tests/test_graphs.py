"""Graph models: named nodes reading named values, merges, and both frameworks' real graphs.

The oracle is independent of the code under test: parameter counts written out by hand,
the frameworks' own counters (``sum(p.numel())``, ``count_params()``), and numpy for the
merges' values.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import fx

from compare.comparison import compare_model
from compare.errors import SpecError
from compare.parity import build
from compare.spec import model_from_dict
from compare.specfile import load

RESIDUAL = {
    "name": "res",
    "input": {"channels": 4, "size": [6, 6]},
    "layers": [
        {"name": "c1", "kind": "conv", "filters": 4, "kernel_size": 3, "padding": "same"},
        {"name": "c2", "kind": "conv", "filters": 4, "kernel_size": 3, "padding": "same"},
        {"name": "sum", "kind": "add", "inputs": ["c2", "input"]},
        {"kind": "activation", "activation": "relu"},
    ],
}


def _model(layers, channels=4, size=(6, 6), outputs=None):
    raw = {"name": "g", "input": {"channels": channels, "size": list(size)}, "layers": layers}
    if outputs is not None:
        raw["outputs"] = outputs
    return model_from_dict(raw)


def test_nodes_default_to_reading_the_previous_one_and_a_chain_stays_a_chain():
    model = model_from_dict(RESIDUAL)
    assert model.wiring == (
        ("c1", ("input",)),
        ("c2", ("c1",)),
        ("sum", ("c2", "input")),
        ("3", ("sum",)),
    )
    assert not model.graph.is_chain
    chain = _model([{"kind": "conv", "filters": 2, "kernel_size": 3}, {"kind": "flatten"}])
    assert chain.wiring == () and chain.graph.is_chain


@pytest.mark.parametrize(
    ("layers", "match"),
    [
        (
            [{"name": "a", "kind": "add", "inputs": ["input", "nowhere"]}],
            r"^model 'g': node 'a': input 'nowhere' is not a model input or a node$",
        ),
        (
            [
                {"name": "a", "kind": "conv", "filters": 4, "kernel_size": 1, "inputs": ["b"]},
                {"name": "b", "kind": "conv", "filters": 4, "kernel_size": 1, "inputs": ["a"]},
            ],
            r"^model 'g': nodes 'a', 'b' form a cycle",
        ),
        (
            [
                {"name": "c", "kind": "conv", "filters": 3, "kernel_size": 1},
                {"name": "a", "kind": "add", "inputs": ["c", "input"]},
            ],
            r"layer 1 'a' \(add\): kind='add' needs inputs whose channels agree or are 1 "
            r"\(broadcast\), got 3x6x6, 4x6x6$",
        ),
        (
            [
                {"name": "p", "kind": "max_pool", "pool_size": 2},
                {"name": "j", "kind": "concatenate", "inputs": ["p", "input"]},
            ],
            r"layer 1 'j' \(concatenate\): kind='concatenate' joins channels: every other "
            r"axis must agree, got 4x3x3, 4x6x6$",
        ),
        (
            [{"name": "s", "kind": "subtract", "inputs": ["input", "input", "input"]}],
            r"kind='subtract' takes exactly 2 inputs, got 3$",
        ),
        (
            [{"name": "input", "kind": "flatten"}],
            r"layer 0: name='input' must be a non-empty string other than 'input'$",
        ),
        (
            [{"name": "x", "kind": "flatten", "inputs": []}],
            r"layer 0 \(x\): inputs=\[\] must be a node name or a non-empty list",
        ),
        (
            [{"kind": "flatten"}, {"kind": "dense", "units": 2}],
            None,
        ),
    ],
    ids=["unknown-input", "cycle", "add-shapes", "concat-axes", "arity", "reserved", "empty", "ok"],
)
def test_graph_rules_name_the_node(layers, match):
    if match is None:
        _model(layers)
        return
    with pytest.raises(SpecError, match=match):
        _model(layers)


def test_a_vector_against_a_map_is_refused_where_the_frameworks_broadcast_differently():
    layers = [
        {"name": "v", "kind": "global_avg_pool"},
        {"name": "m", "kind": "multiply", "inputs": ["v", "input"]},
    ]
    with pytest.raises(SpecError, match="inputs of one rank"):
        _model(layers)


def test_the_catalogue_graphs_compare_ok_and_hold_the_frameworks_counts():
    files = __import__("compare.catalog", fromlist=["x"]).catalog_files()
    models = load(next(path for path in files if path.name == "graphs.toml"))
    # hand counts: residual 2*(8*9*8) conv weights + 2*16 bn; projection 4*9*8+8
    # + 8*9*8+8 + 4*8+8 + 8*3+3; SE 8*9*8+8 + 8*2+2 + 2*8+8; inception (4*2+2)
    # + (4*9*3+3) + (4*25*2+2) + (4+1) + 5*(8*36)+5; dense block (4*9*2+2)+(6*9*2+2)
    hand = {
        "residual_block": 2 * 8 * 9 * 8 + 2 * 16,
        "projection_shortcut": 4 * 9 * 8 + 8 + 8 * 9 * 8 + 8 + 4 * 8 + 8 + 8 * 3 + 3,
        "squeeze_excitation": 8 * 9 * 8 + 8 + 8 * 2 + 2 + 2 * 8 + 8,
        "inception_concat": 10 + 111 + 202 + 5 + 5 * 8 * 36 + 5,
        "dense_block": 74 + 110,
    }
    assert sorted(m.name for m in models) == sorted(hand)
    for model in models:
        result = compare_model(model)
        assert result.status == "ok", (model.name, result.parity)
        assert all(layer.parity.status == "ok" for layer in result.layers)
        assert sum(f.params for f in model.formulas) == hand[model.name]
        pair = build(model)
        torch_params = sum(p.numel() for p in pair.torch.parameters())
        bn_state = sum(f.state for f in model.formulas)  # Keras counts moving statistics
        assert torch_params == hand[model.name]
        assert pair.keras.count_params() == hand[model.name] + bn_state


def test_both_sides_are_the_frameworks_own_graphs_and_agree_end_to_end():
    model = model_from_dict(RESIDUAL)
    pair = build(model)
    pair.port(src="torch")
    assert isinstance(pair.torch, fx.GraphModule)
    calls = [n for n in pair.torch.graph.nodes if n.op == "call_module"]
    assert [tuple(a.target for a in n.args) for n in calls][2] == ("c2", "input")
    keras_model = pair.keras
    assert type(keras_model).__name__ == "Functional"
    layers = {layer["name"]: layer for layer in keras_model.get_config()["layers"]}
    inbound = layers["add_2"]["inbound_nodes"][0]["args"][0]
    input_layer = keras_model.get_config()["input_layers"][0]
    assert [t["config"]["keras_history"][0] for t in inbound] == ["conv_1", input_layer]
    x = np.random.default_rng(1).standard_normal((2, 4, 6, 6)).astype("float32")
    with torch.no_grad():
        y_t = pair.torch(torch.from_numpy(x)).numpy()
    y_k = np.asarray(keras_model(np.moveaxis(x, 1, -1)))
    np.testing.assert_allclose(np.moveaxis(y_t, 1, -1), y_k, atol=1e-5)
    # the add really adds the block's input: numpy on the torch side's own conv output
    conv_out = pair.torch.c2(pair.torch.c1(torch.from_numpy(x))).detach().numpy()
    np.testing.assert_allclose(y_t, np.maximum(conv_out + x, 0), atol=1e-6)


@pytest.mark.parametrize(
    ("kind", "reference"),
    [
        ("add", lambda a, b: a + b),
        ("subtract", lambda a, b: a - b),
        ("multiply", lambda a, b: a * b),
        ("average", lambda a, b: (a + b) / 2),
        ("maximum", np.maximum),
        ("minimum", np.minimum),
        ("concatenate", lambda a, b: np.concatenate([a, b], axis=1)),
    ],
)
def test_each_merge_matches_numpy_in_both_frameworks(kind, reference):
    layers = [
        {"name": "c", "kind": "conv", "filters": 4, "kernel_size": 1},
        {"name": "m", "kind": kind, "inputs": ["input", "c"]},
    ]
    model = _model(layers, size=(3,))
    pair = build(model)
    pair.port(src="torch")
    x = np.random.default_rng(2).standard_normal((2, 4, 3)).astype("float32")
    with torch.no_grad():
        c = pair.torch.c(torch.from_numpy(x)).numpy()
        y_t = pair.torch(torch.from_numpy(x)).numpy()
    y_k = np.asarray(pair.keras(np.moveaxis(x, 1, -1)))
    np.testing.assert_allclose(y_t, reference(x, c), atol=1e-6)
    np.testing.assert_allclose(np.moveaxis(y_k, -1, 1), reference(x, c), atol=1e-5)


def test_shape_only_mode_reads_a_graph_without_weights():
    result = compare_model(model_from_dict(RESIDUAL), parity=False)
    assert result.error is None and result.parity.status == "skipped"
    assert result.layers[2].frameworks["keras"].output_shape == (None, 6, 6, 4)
    assert result.layers[2].spec["inputs"] == ["c2", "input"]


def test_the_html_report_draws_a_graph_with_nodes_coloured_by_verdict():
    from compare.report.graph_picture import VERDICT_COLOURS
    from compare.report.html import render_html

    layers = [
        {"name": "<b>conv</b>", "kind": "conv", "filters": 4, "kernel_size": 3, "padding": 1},
        {"name": "sum", "kind": "add", "inputs": ["<b>conv</b>", "input"]},
    ]
    result = compare_model(_model(layers))
    page = render_html([result])
    svg = page[page.index('<svg class="graph"') :]
    svg = svg[: svg.index("</svg>")]
    assert svg.count("<rect") == 3  # the input and both nodes
    assert svg.count("<line") == 3  # input -> conv, conv -> sum, input -> sum
    assert svg.count(f'fill="{VERDICT_COLOURS["ok"]}"') == 2
    assert "<b>" not in svg and "&lt;b&gt;conv&lt;/b&gt;: conv" in svg
    chain = compare_model(_model([{"kind": "conv", "filters": 4, "kernel_size": 3}]))
    assert '<svg class="graph"' not in render_html([chain])
