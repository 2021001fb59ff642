"""Sequence families without frameworks: specs, formulas, gate orders and porting data."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compare import SpecError
from compare.formulas import Shape, infer, layer_formula
from compare.kinds.recurrent.spec import (
    GATE_ORDER,
    gate_permutation,
    gates,
    port_recurrent,
    reorder_gates,
)
from compare.spec import (
    GRU,
    LSTM,
    Dense,
    Embedding,
    Input,
    Model,
    SimpleRNN,
    layer_from_dict,
    model_from_dict,
)


def test_issue_lstm_counts():
    formula = infer(Model("m", Input(16, (10,)), (LSTM(units=32),)))[0]
    assert formula.params == 6272
    assert (formula.params_in("keras"), formula.params_in("torch")) == (6272, 6400)
    assert formula.expression.startswith("4*32*(16+32+1) = 6272")
    assert "4*32*(16+32+2) = 6400" in formula.expression


@pytest.mark.parametrize(
    ("layer", "keras", "torch"),
    [
        (LSTM(units=5), 4 * 5 * (3 + 5 + 1), 4 * 5 * (3 + 5 + 2)),
        (LSTM(units=5, use_bias=False), 4 * 5 * (3 + 5), 4 * 5 * (3 + 5)),
        (GRU(units=5), 3 * 5 * (3 + 5 + 2), 3 * 5 * (3 + 5 + 2)),
        (GRU(units=5, use_bias=False), 3 * 5 * (3 + 5), 3 * 5 * (3 + 5)),
        (SimpleRNN(units=5), 5 * (3 + 5 + 1), 5 * (3 + 5 + 2)),
    ],
    ids=["lstm", "lstm_nobias", "gru", "gru_nobias", "simple_rnn"],
)
def test_recurrent_formulas(layer, keras, torch):
    formula = layer_formula(layer, Shape(3, (7,)))
    assert (formula.params_in("keras"), formula.params_in("torch")) == (keras, torch)


def test_gru_reset_before_has_no_torch_count():
    formula = layer_formula(GRU(units=5, reset_after=False), Shape(3, (7,)))
    assert formula.params == 3 * 5 * (3 + 5 + 1)
    assert dict(formula.framework_params) == {"keras": formula.params}


@pytest.mark.parametrize("return_sequences", [True, False])
def test_recurrent_output_shapes(return_sequences):
    out = layer_formula(LSTM(units=4, return_sequences=return_sequences), Shape(3, (7,))).output
    if return_sequences:
        assert (out.torch(), out.keras()) == ((None, 4, 7), (None, 7, 4))
    else:
        assert (out.torch(), out.keras()) == ((None, 4), (None, 4))


def test_embedding_formula_and_token_shape():
    model = Model("m", Input(1, (12,), dtype="int"), (Embedding(input_dim=100, output_dim=8),))
    formula = infer(model)[0]
    assert formula.input.torch() == formula.input.keras() == (None, 12)
    assert formula.params == 800
    assert (formula.output.torch(), formula.output.keras()) == ((None, 8, 12), (None, 12, 8))


def test_int_input_from_dict_defaults_channels():
    model = model_from_dict(
        {
            "input": {"dtype": "int", "size": [5]},
            "layers": [{"kind": "embedding", "num_embeddings": 9, "embedding_dim": 2}],
        }
    )
    assert model.input.to_dict() == {"channels": 1, "size": [5], "dtype": "int"}
    assert model.layers[0] == Embedding(input_dim=9, output_dim=2)


def test_torch_aliases():
    layer = layer_from_dict({"kind": "simple_rnn", "hidden_size": 3, "nonlinearity": "ReLU"})
    assert layer == SimpleRNN(units=3, activation="relu")


# -- invalid specs ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "match"),
    [
        ({"kind": "lstm", "units": 0}, r"units=0 must be an integer >= 1"),
        ({"kind": "lstm", "units": True}, r"units=True must be an integer >= 1 \(got bool\)"),
        ({"kind": "lstm", "units": 2.0}, r"units=2.0 must be an integer"),
        ({"kind": "gru", "units": 2, "reset_after": 1}, r"reset_after=1 must be true or false"),
        (
            {"kind": "lstm", "units": 2, "return_sequences": "yes"},
            r"return_sequences='yes' must be true or false",
        ),
        (
            {"kind": "simple_rnn", "units": 2, "activation": "sigmoid"},
            r"activation='sigmoid' must be one of 'tanh', 'relu'",
        ),
        ({"kind": "embedding", "input_dim": 0, "output_dim": 2}, r"input_dim=0 must be"),
        ({"kind": "embedding", "input_dim": 5}, r"output_dim=0 must be an integer >= 1"),
        ({"kind": "lstm", "units": 2, "activation": "tanh"}, r"unknown field 'activation'"),
    ],
    ids=[
        "zero_units",
        "bool_units",
        "float_units",
        "int_reset_after",
        "str_return_sequences",
        "bad_activation",
        "zero_vocab",
        "missing_output_dim",
        "lstm_activation",
    ],
)
def test_layer_spec_errors(raw, match):
    with pytest.raises(SpecError, match=match):
        layer_from_dict(raw)


@pytest.mark.parametrize(
    ("inp", "layers", "match"),
    [
        ({"channels": 1, "size": [4], "dtype": "str"}, [], r"input.dtype='str' must be one of"),
        (
            {"channels": 3, "size": [4], "dtype": "int"},
            [],
            r"needs channels=1 and size=\[steps\], got channels=3",
        ),
        (
            {"dtype": "int", "size": [4, 4]},
            [],
            r"needs channels=1 and size=\[steps\], got channels=1, size=\[4, 4\]",
        ),
        (
            {"channels": 3, "size": [4, 4]},
            [{"kind": "lstm", "units": 2}],
            r"layer 0 \(lstm\): kind='lstm' needs a sequence .* but its input is a 2-d map",
        ),
        (
            {"channels": 3, "size": [4]},
            [{"kind": "lstm", "units": 2}, {"kind": "gru", "units": 2}],
            r"layer 1 \(gru\): .* but its input is a flat vector of 2 features",
        ),
        (
            {"dtype": "int", "size": [4]},
            [{"kind": "dense", "units": 2}],
            r"kind='dense' needs float activations, .* put an embedding first",
        ),
        (
            {"channels": 2, "size": [4]},
            [{"kind": "embedding", "input_dim": 5, "output_dim": 2}],
            r"kind='embedding' needs integer token ids \(an input with dtype='int'\)",
        ),
        ({"size": [4]}, [{"kind": "flatten"}], r"input.channels is missing"),
    ],
    ids=[
        "bad_dtype",
        "int_channels",
        "int_rank2",
        "lstm_on_map",
        "gru_after_last_step",
        "dense_on_ids",
        "embedding_on_floats",
        "float_needs_channels",
    ],
)
def test_model_spec_errors(inp, layers, match):
    raw = {"name": "bad", "input": inp, "layers": layers or [{"kind": "flatten"}]}
    with pytest.raises(SpecError, match=match):
        model_from_dict(raw)


@settings(max_examples=40, deadline=None)
@given(
    kind=st.sampled_from(["lstm", "gru", "simple_rnn"]),
    units=st.one_of(st.integers(max_value=0), st.booleans(), st.floats(), st.text(max_size=2)),
)
def test_invalid_units_raise_spec_error_only(kind, units):
    with pytest.raises(SpecError, match="units="):
        layer_from_dict({"kind": kind, "units": units})


# -- gate orders and porting ----------------------------------------------------------------
@pytest.mark.parametrize("kind", sorted(GATE_ORDER))
def test_gate_orders_name_the_same_gates(kind):
    orders = GATE_ORDER[kind]
    assert sorted(orders["torch"]) == sorted(orders["keras"])
    assert gates(kind) == len(orders["keras"])


def test_gate_orders_are_the_documented_ones():
    """PyTorch documents nn.LSTM's weight_ih as (W_ii|W_if|W_ig|W_io) and nn.GRU's as
    (W_ir|W_iz|W_in); Keras' LSTM cell slices its kernel i, f, c, o and its GRU z, r, h."""
    lstm = ("input", "forget", "cell", "output")
    assert GATE_ORDER["lstm"] == {"torch": lstm, "keras": lstm}
    assert GATE_ORDER["gru"] == {
        "torch": ("reset", "update", "new"),
        "keras": ("update", "reset", "new"),
    }
    assert (gates("lstm"), gates("gru"), gates("simple_rnn")) == (4, 3, 1)


@pytest.mark.parametrize("kind", sorted(GATE_ORDER))
def test_gate_permutation_round_trips(kind):
    to_keras = gate_permutation(kind, "torch", "keras")
    back = gate_permutation(kind, "keras", "torch")
    assert tuple(to_keras[i] for i in back) == tuple(range(gates(kind)))
    x = np.arange(gates(kind) * 3 * 2).reshape(gates(kind) * 3, 2)
    np.testing.assert_array_equal(reorder_gates(reorder_gates(x, to_keras, 0), back, 0), x)


def test_gru_gate_order_is_reordered():
    assert gate_permutation("gru", "torch", "keras") == (1, 0, 2)
    assert gate_permutation("lstm", "torch", "keras") == (0, 1, 2, 3)


def _torch_arrays(layer, features, rng):
    g, h = gates(layer.kind), layer.units
    out = {
        "kernel": rng.standard_normal((g * h, features)),
        "recurrent_kernel": rng.standard_normal((g * h, h)),
    }
    if layer.use_bias:
        out["bias"] = rng.standard_normal(g * h)
        out["recurrent_bias"] = rng.standard_normal(g * h)
    return out


@pytest.mark.parametrize(
    "layer",
    [LSTM(units=3), GRU(units=3), SimpleRNN(units=3), LSTM(units=2, use_bias=False)],
    ids=["lstm", "gru", "simple_rnn", "lstm_nobias"],
)
def test_port_round_trip(layer):
    rng = np.random.default_rng(0)
    torch_w = _torch_arrays(layer, 4, rng)
    keras_w = port_recurrent(layer, torch_w, to="keras")
    g, h = gates(layer.kind), layer.units
    assert keras_w["kernel"].shape == (4, g * h)
    assert keras_w["recurrent_kernel"].shape == (h, g * h)
    again = port_recurrent(layer, keras_w, to="torch")
    for role in ("kernel", "recurrent_kernel"):
        np.testing.assert_array_equal(again[role], torch_w[role])
    if layer.use_bias:
        # The bias sum is what an LSTM / simple RNN computes with; a GRU keeps both.
        np.testing.assert_allclose(
            again["bias"] + again["recurrent_bias"], torch_w["bias"] + torch_w["recurrent_bias"]
        )
        if isinstance(layer, GRU):
            assert keras_w["bias"].shape == (2, g * h)
            np.testing.assert_array_equal(again["bias"], torch_w["bias"])
        else:
            assert keras_w["bias"].shape == (g * h,)
            np.testing.assert_array_equal(again["recurrent_bias"], np.zeros(g * h))
        # keras -> torch -> keras is exact for every family
        np.testing.assert_allclose(
            port_recurrent(layer, again, to="keras")["bias"], keras_w["bias"]
        )


def test_dense_after_last_step_is_a_vector():
    model = Model("m", Input(3, (5,)), (LSTM(units=4), Dense(units=2)))
    assert infer(model)[1].input == Shape(4)
