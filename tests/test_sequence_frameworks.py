"""Sequence families in the real frameworks: counts, shapes, parity both ways, defaults."""

import inspect
import json
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
from compare.parity import build, measure
from compare.spec import GRU, LSTM, Embedding, Input, Model, SimpleRNN

SEQ = Input(channels=4, size=(6,))
IDS = Input(channels=1, size=(6,), dtype="int")

CASES = {
    "lstm_last": (SEQ, (LSTM(units=5),)),
    "lstm_all": (SEQ, (LSTM(units=5, return_sequences=True),)),
    "lstm_nobias": (SEQ, (LSTM(units=3, use_bias=False),)),
    "gru_last": (SEQ, (GRU(units=5),)),
    "gru_all": (SEQ, (GRU(units=5, return_sequences=True),)),
    "gru_nobias": (SEQ, (GRU(units=3, use_bias=False),)),
    "simple_rnn_tanh": (SEQ, (SimpleRNN(units=5, return_sequences=True),)),
    "simple_rnn_relu": (SEQ, (SimpleRNN(units=5, activation="relu"),)),
    "embedding": (IDS, (Embedding(input_dim=20, output_dim=3),)),
    "embedding_lstm": (IDS, (Embedding(input_dim=20, output_dim=3), LSTM(units=4))),
}


def _model(case):
    inp, layers = CASES[case]
    return Model(case, inp, layers)


@pytest.fixture(scope="module")
def results():
    return {case: compare_model(_model(case)) for case in CASES}


def _inputs(pair, rng, batch=3):
    shape = pair.formulas[0].input
    dims = [int(d) for d in shape.torch()[1:]]
    if shape.dtype == "int":
        x = rng.integers(0, pair.model.layers[0].input_dim, (batch, *dims), dtype=np.int64)
    else:
        x = rng.standard_normal((batch, *dims)).astype("float32")
    return x, layouts.activation_to_keras(x, shape)


def _run_both(pair, rng):
    x_t, x_k = _inputs(pair, rng)
    with torch.no_grad():
        y_t = pair.torch(torch.from_numpy(x_t)).numpy()
    y_k = np.asarray(pair.keras(x_k))
    return y_t, y_k


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("framework", ["torch", "keras"])
def test_counts_and_shapes_match_formulas(results, case, framework):
    result = results[case]
    for layer, formula in zip(result.layers, compare.build(_model(case)).formulas):
        fw = layer.frameworks[framework]
        assert fw.supported, fw.reason
        assert fw.params == formula.params_in(framework)
        assert fw.non_trainable_params == 0
        native = formula.output.torch() if framework == "torch" else formula.output.keras()
        assert fw.output_shape == native


@pytest.mark.parametrize("case", list(CASES))
def test_counts_are_what_the_frameworks_report(results, case):
    pair = build(_model(case))
    totals = results[case].totals()
    assert totals["torch"]["params"] == sum(p.numel() for p in pair.torch.parameters())
    assert totals["torch"]["buffers"] == sum(b.numel() for b in pair.torch.buffers())
    assert totals["keras"]["params"] == pair.keras.count_params()


@pytest.mark.parametrize("case", list(CASES))
def test_parity_after_port_from_torch(results, case):
    assert results[case].parity.status == "ok", results[case].parity
    pair = build(_model(case), seed=1)
    pair.port(src="torch")
    y_t, y_k = _run_both(pair, np.random.default_rng(1))
    final = pair.formulas[-1].output
    assert measure(layouts.activation_to_keras(y_t, final), y_k).status == "ok"


@pytest.mark.parametrize("case", list(CASES))
def test_parity_after_port_from_keras(case):
    """Keras weights set to random values (its own init has zero biases), then ported."""
    pair = build(_model(case), seed=2)
    rng = np.random.default_rng(2)
    keras_adapter = get_adapter("keras")
    for built in pair.sides["keras"].layers:
        weights = keras_adapter.get_weights(built)
        keras_adapter.set_weights(
            built, {role: rng.uniform(-0.5, 0.5, a.shape) for role, a in weights.items()}
        )
    pair.port(src="keras")
    y_t, y_k = _run_both(pair, rng)
    final = pair.formulas[-1].output
    parity = measure(layouts.activation_to_keras(y_t, final), y_k)
    assert parity.status == "ok", parity


def _diff(result, what, index=0):
    found = [d for d in result.layers[index].differences if d.what == what]
    assert len(found) == 1, [d.what for d in result.layers[index].differences]
    return found[0]


def test_lstm_biases_and_counts_named(results):
    result = results["lstm_last"]
    counts = _diff(result, "params_count")
    assert (counts.torch, counts.keras) == (str(4 * 5 * (4 + 5 + 2)), str(4 * 5 * (4 + 5 + 1)))
    biases = _diff(result, "biases")
    assert "sums them" in biases.detail and "zeros into bias_hh_l0" in biases.detail
    assert biases.naive_max_abs_err > 10 * result.layers[0].parity.tolerance


def test_gru_gate_order_measured(results):
    result = results["gru_last"]
    order = _diff(result, "gate_order")
    assert (order.torch, order.keras) == ("r,z,n", "z,r,h")
    assert order.naive_max_abs_err > 10 * result.layers[0].parity.tolerance
    biases = _diff(result, "biases")
    assert biases.keras == "2 x (3*H)"
    assert biases.naive_max_abs_err > 10 * result.layers[0].parity.tolerance


def test_lstm_gate_order_same_so_not_measured(results):
    order = _diff(results["lstm_last"], "gate_order")
    assert order.naive_max_abs_err is None and "the same order" in order.detail


def test_no_bias_no_bias_difference(results):
    names = [d.what for d in results["lstm_nobias"].layers[0].differences]
    assert "biases" not in names and "params_count" not in names


def test_weight_shapes_and_axes(results):
    torch_w = {w.role: w for w in results["gru_last"].layers[0].frameworks["torch"].weights}
    keras_w = {w.role: w for w in results["gru_last"].layers[0].frameworks["keras"].weights}
    assert (torch_w["kernel"].shape, torch_w["kernel"].axes) == ((15, 4), ("3*H", "I"))
    assert (keras_w["kernel"].shape, keras_w["kernel"].axes) == ((4, 15), ("I", "3*H"))
    assert (keras_w["bias"].shape, keras_w["bias"].axes) == ((2, 15), ("2", "3*H"))
    assert torch_w["recurrent_bias"].shape == (15,)


def test_torch_realisation_classes(results):
    assert results["lstm_all"].layers[0].frameworks["torch"].classes == (
        "MoveAxis",
        "LSTM",
        "RnnOutput",
        "MoveAxis",
    )
    assert results["lstm_last"].layers[0].frameworks["torch"].classes == (
        "MoveAxis",
        "LSTM",
        "RnnOutput",
    )
    assert results["embedding"].layers[0].frameworks["torch"].classes == ("Embedding", "MoveAxis")


# -- defaults, read from the installed frameworks -------------------------------------------
def _default(cls, name):
    return inspect.signature(cls).parameters[name].default


def _keras_initializer(name):
    return type(keras.initializers.get(name)).__name__


@pytest.mark.parametrize(
    ("case", "cls"),
    [("lstm_last", keras.layers.LSTM), ("gru_last", keras.layers.GRU)],
)
def test_keras_default_initializers_named(results, case, cls):
    detail = _diff(results[case], "initializers").keras
    for arg in ("kernel_initializer", "recurrent_initializer", "bias_initializer"):
        assert f"{arg}={_keras_initializer(_default(cls, arg))}" in detail
    torch_text = _diff(results[case], "initializers").torch
    assert f"k = 1/sqrt(units) = {1 / math.sqrt(5):.4g}" in torch_text


def test_lstm_unit_forget_bias_named(results):
    default = _default(keras.layers.LSTM, "unit_forget_bias")
    assert f"unit_forget_bias={default}" in _diff(results["lstm_last"], "initializers").keras
    layer = keras.layers.LSTM(3)
    layer.build((None, 2, 4))
    bias = np.asarray(layer.cell.bias.numpy())  # gates i, f, c, o: the forget block is 1
    np.testing.assert_array_equal(bias[3:6], np.ones(3) if default else np.zeros(3))
    np.testing.assert_array_equal(np.delete(bias, range(3, 6)), np.zeros(9))


def test_torch_initialisation_matches_the_named_bound():
    """The bound named in the differences is what nn.LSTM really draws from."""
    rnn = nn.LSTM(4, 5, batch_first=True)
    bound = 1 / math.sqrt(5)
    values = torch.cat([p.detach().flatten() for p in rnn.parameters()])
    assert float(values.abs().max()) <= bound
    assert float(rnn.bias_hh_l0.detach().abs().max()) > 0  # Keras starts its bias at zero


@pytest.mark.parametrize(
    ("case", "cls"),
    [("lstm_last", keras.layers.LSTM), ("gru_last", keras.layers.GRU)],
)
def test_keras_default_activations_named(results, case, cls):
    keras_text = _diff(results[case], "activations").keras
    assert f"activation={_default(cls, 'activation')!r}" in keras_text
    assert f"recurrent_activation={_default(cls, 'recurrent_activation')!r}" in keras_text


def test_simple_rnn_default_activation_agrees():
    """The spec's default is the default of both frameworks."""
    assert SimpleRNN(units=1).activation == _default(keras.layers.SimpleRNN, "activation")
    assert SimpleRNN(units=1).activation == nn.RNN(2, 1).nonlinearity


def test_gru_reset_after_default_named(results):
    default = _default(keras.layers.GRU, "reset_after")
    assert GRU(units=1).reset_after == default
    assert _diff(results["gru_last"], "reset_after").keras.startswith(f"reset_after={default}")


def test_embedding_defaults_named(results):
    result = results["embedding"]
    init = _diff(result, "initializers")
    default = _default(keras.layers.Embedding, "embeddings_initializer")
    assert _keras_initializer(default) in init.keras
    assert "N(0, 1)" in init.torch
    table = nn.Embedding(1000, 16).weight.detach()
    assert abs(float(table.std()) - 1) < 0.05  # N(0, 1), as named
    masking = _diff(result, "masking")
    assert f"mask_zero={_default(keras.layers.Embedding, 'mask_zero')}" in masking.keras
    assert f"padding_idx={nn.Embedding(3, 2).padding_idx}" in masking.torch


def test_keras_dropout_state_is_named_buffer(results):
    keras_fw = results["lstm_last"].layers[0].frameworks["keras"]
    assert keras_fw.buffers == 2
    assert "seed_generator" in _diff(results["lstm_last"], "buffers").keras


# -- unsupported -------------------------------------------------------------------------------
def test_gru_reset_before_unsupported_in_torch():
    result = compare_model(Model("g", SEQ, (GRU(units=3, reset_after=False),)))
    layer = result.layers[0]
    record = layer.to_dict()["frameworks"]
    assert record["torch"]["supported"] is False
    assert "reset_after=False" in record["torch"]["reason"]
    assert record["keras"]["params"] == 3 * 3 * (4 + 3 + 1) == layer.params
    assert result.status == "unsupported"
    assert set(record["torch"]) == set(record["keras"])


# -- the catalogue ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def catalogue():
    path = next(p for p in compare.catalog_files() if p.name == "recurrent.toml")
    return compare.compare(path)


def test_catalogue_models(catalogue):
    status = {m.name: m.status for m in catalogue.models}
    assert status.pop("gru_reset_before") == "unsupported"
    assert set(status.values()) == {"ok"}
    lstm = next(m for m in catalogue.models if m.name == "lstm_classifier")
    assert lstm.layers[0].frameworks["keras"].params == 6272
    assert lstm.layers[0].frameworks["torch"].params == 6400
    doc = catalogue.to_dict()
    assert doc["models"][1]["input"] == {"channels": 1, "size": [12], "dtype": "int"}


# -- random valid sizes -------------------------------------------------------------------------
@settings(max_examples=8, deadline=None)
@given(
    kind=st.sampled_from([LSTM, GRU, SimpleRNN]),
    units=st.integers(1, 6),
    features=st.integers(1, 4),
    steps=st.integers(1, 4),
    return_sequences=st.booleans(),
    use_bias=st.booleans(),
)
def test_random_recurrent_sizes(kind, units, features, steps, return_sequences, use_bias):
    layer = kind(units=units, return_sequences=return_sequences, use_bias=use_bias)
    pair = build(Model("r", Input(features, (steps,)), (layer,)))
    formula = pair.formulas[0]
    assert sum(p.numel() for p in pair.torch.parameters()) == formula.params_in("torch")
    assert pair.keras.count_params() == formula.params_in("keras")
    assert tuple(pair.keras.output.shape) == formula.output.keras()
    pair.port(src="torch")
    y_t, y_k = _run_both(pair, np.random.default_rng(units))
    assert y_t.shape[1:] == formula.output.torch()[1:]
    assert measure(layouts.activation_to_keras(y_t, formula.output), y_k).status == "ok"


@settings(max_examples=5, deadline=None)
@given(
    input_dim=st.integers(1, 40),
    output_dim=st.integers(1, 5),
    steps=st.integers(1, 4),
)
def test_random_embedding_sizes(input_dim, output_dim, steps):
    layer = Embedding(input_dim=input_dim, output_dim=output_dim)
    pair = build(Model("e", Input(1, (steps,), dtype="int"), (layer,)))
    formula = pair.formulas[0]
    assert sum(p.numel() for p in pair.torch.parameters()) == formula.params
    assert pair.keras.count_params() == formula.params
    pair.port(src="torch")
    y_t, y_k = _run_both(pair, np.random.default_rng(input_dim))
    assert y_k.shape[1:] == formula.output.keras()[1:]
    assert measure(layouts.activation_to_keras(y_t, formula.output), y_k).status == "ok"


def test_show_json_lists_both_counts(tmp_path, capsys):
    from compare.cli import main

    spec = tmp_path / "lstm.toml"
    spec.write_text(
        'name = "l"\ninput = { channels = 16, size = [10] }\n'
        'layers = [{ kind = "lstm", units = 32 }]\n'
    )
    assert main(["show", "--format", "json", str(spec)]) == 0
    layer = json.loads(capsys.readouterr().out)["models"][0]["layers"][0]
    assert layer["kind"] == "lstm"
    assert layer["frameworks"]["torch"]["params"] == 6400
    assert layer["frameworks"]["keras"]["params"] == 6272
    assert layer["formula"]["params"] == 6272
    assert {"params_count", "biases", "initializers"} <= {d["what"] for d in layer["differences"]}
