"""Stacked and bidirectional recurrent layers in the real frameworks: counts held against
hand-derived formulas and the frameworks' own counters, weight names and axes read back,
parity both ways, the direction and last-step semantics checked on the frameworks
themselves, named differences with naive ports measured, and bad specs refused."""

import keras
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from compare import layouts
from compare.adapters import get_adapter
from compare.comparison import compare_model
from compare.errors import SpecError
from compare.parity import build, measure
from compare.spec import GRU, LSTM, Input, Model, SimpleRNN, layer_from_dict

SEQ = Input(channels=5, size=(7,))

CASES = {
    "lstm_2_layers_all": LSTM(units=4, num_layers=2, return_sequences=True),
    "lstm_bi_last": LSTM(units=4, bidirectional=True),
    "lstm_bi_2_all": LSTM(units=3, num_layers=2, bidirectional=True, return_sequences=True),
    "lstm_bi_3_last": LSTM(units=3, num_layers=3, bidirectional=True),
    "lstm_bi_nobias": LSTM(units=3, bidirectional=True, use_bias=False, return_sequences=True),
    "gru_bi_2_last": GRU(units=4, num_layers=2, bidirectional=True),
    "gru_2_layers_last": GRU(units=4, num_layers=2),
    "rnn_bi_relu_all": SimpleRNN(
        units=4, bidirectional=True, activation="relu", return_sequences=True
    ),
    "rnn_bi_2_last": SimpleRNN(units=2, num_layers=2, bidirectional=True),
}

GATES = {"lstm": 4, "gru": 3, "simple_rnn": 1}


def _model(case):
    return Model(case, SEQ, (CASES[case],))


@pytest.fixture(scope="module")
def results():
    return {case: compare_model(_model(case)) for case in CASES}


def hand_params(layer, features, framework):
    """Per layer and direction G*H*(I+H) weights plus the biases: PyTorch two G*H
    vectors, Keras one (two for a reset_after GRU); layer l >= 1 reads D*H features."""
    g, h = GATES[layer.kind], layer.units
    d = 2 if layer.bidirectional else 1
    if not layer.use_bias:
        biases = 0
    elif framework == "torch" or layer.kind == "gru":
        biases = 2
    else:
        biases = 1
    total = 0
    for index in range(layer.num_layers):
        i = features if index == 0 else d * h
        total += d * (g * h * (i + h) + biases * g * h)
    return total


def test_hand_formula_matches_the_issue_figures():
    """The figures the issue states: torch 4H(I+H)+8H per layer-direction, Keras +4H."""
    lstm = LSTM(units=32, num_layers=2, bidirectional=True)
    h, i = 32, 16
    torch_count = 2 * (4 * h * (i + h) + 8 * h) + 2 * (4 * h * (2 * h + h) + 8 * h)
    keras_count = 2 * (4 * h * (i + h) + 4 * h) + 2 * (4 * h * (2 * h + h) + 4 * h)
    assert hand_params(lstm, i, "torch") == torch_count == 37_888
    assert hand_params(lstm, i, "keras") == keras_count == 37_376


@pytest.mark.parametrize("case", list(CASES))
def test_counts_are_the_frameworks_and_the_hand_formula(results, case):
    layer = CASES[case]
    pair = build(_model(case))
    torch_count = sum(p.numel() for p in pair.torch.parameters())
    keras_count = pair.keras.count_params()
    assert torch_count == hand_params(layer, SEQ.channels, "torch")
    assert keras_count == hand_params(layer, SEQ.channels, "keras")
    assert pair.formulas[0].params_in("torch") == torch_count
    assert pair.formulas[0].params_in("keras") == keras_count
    totals = results[case].totals()
    assert (totals["torch"]["params"], totals["keras"]["params"]) == (torch_count, keras_count)


@pytest.mark.parametrize("case", list(CASES))
def test_output_shapes_read_from_both(results, case):
    layer = CASES[case]
    features = layer.units * (2 if layer.bidirectional else 1)
    steps = SEQ.size[0]
    fw = results[case].layers[0].frameworks
    want_k = (None, steps, features) if layer.return_sequences else (None, features)
    want_t = (None, features, steps) if layer.return_sequences else (None, features)
    assert fw["keras"].output_shape == want_k
    assert fw["torch"].output_shape == want_t


@pytest.mark.parametrize("case", list(CASES))
def test_parity_after_port_from_torch(results, case):
    assert results[case].parity.status == "ok", results[case].parity


def _run_both(pair, rng):
    shape = pair.formulas[0].input
    x_t = rng.standard_normal((3, *shape.torch()[1:])).astype("float32")
    with torch.no_grad():
        y_t = pair.torch(torch.from_numpy(x_t)).numpy()
    y_k = np.asarray(pair.keras(layouts.activation_to_keras(x_t, shape)))
    return layouts.activation_to_keras(y_t, pair.formulas[-1].output), y_k


@pytest.mark.parametrize("case", list(CASES))
def test_parity_after_port_from_keras(case):
    """Keras weights set to random values (its own biases start at zero), then ported."""
    pair = build(_model(case), seed=3)
    rng = np.random.default_rng(3)
    adapter = get_adapter("keras")
    for built in pair.sides["keras"].layers:
        weights = adapter.get_weights(built)
        adapter.set_weights(built, {r: rng.uniform(-0.5, 0.5, a.shape) for r, a in weights.items()})
    pair.port(src="keras")
    y_t, y_k = _run_both(pair, rng)
    assert measure(y_t, y_k).status == "ok"


def test_weight_names_shapes_and_axes(results):
    fw = results["lstm_bi_2_all"].layers[0].frameworks
    t = {w.role: w for w in fw["torch"].weights}
    k = {w.role: w for w in fw["keras"].weights}
    assert t["kernel_l1_reverse"].name.endswith("weight_ih_l1_reverse")
    assert (t["kernel_l1_reverse"].shape, t["kernel_l1_reverse"].axes) == ((12, 6), ("4*H", "2*H"))
    assert (k["kernel_l1_reverse"].shape, k["kernel_l1_reverse"].axes) == ((6, 12), ("2*H", "4*H"))
    assert "backward" in k["kernel_l1_reverse"].name and "forward" in k["kernel_l1"].name
    assert t["recurrent_bias_reverse"].name.endswith("bias_hh_l0_reverse")
    # every parameter of both frameworks carries a role
    assert all(w.role for w in fw["torch"].weights) and all(w.role for w in fw["keras"].weights)
    names = {w.name.split(".")[-1] for w in fw["torch"].weights}
    pair = build(_model("lstm_bi_2_all"))
    rnn = next(m for m in pair.torch.modules() if isinstance(m, nn.LSTM))
    assert names == {name for name, _ in rnn.named_parameters()}


def test_classes_built(results):
    fw = results["gru_bi_2_last"].layers[0].frameworks
    assert fw["torch"].classes == ("MoveAxis", "GRU", "RnnOutput")
    assert fw["keras"].classes == ("Bidirectional", "Bidirectional")
    assert results["gru_2_layers_last"].layers[0].frameworks["keras"].classes == ("GRU", "GRU")


# -- the frameworks' own semantics, checked on them, not assumed -------------------------------
def test_torch_reverse_direction_is_a_forward_rnn_on_the_flipped_sequence():
    torch.manual_seed(0)
    bi = nn.GRU(3, 4, batch_first=True, bidirectional=True)
    one = nn.GRU(3, 4, batch_first=True)
    with torch.no_grad():
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(one, f"{name}_l0").copy_(getattr(bi, f"{name}_l0_reverse"))
        x = torch.randn(2, 6, 3)
        out, h_n = bi(x)
        reverse = torch.flip(one(torch.flip(x, [1]))[0], [1])
    torch.testing.assert_close(out[..., 4:], reverse)
    # the reverse direction's final state is its output at step 0, not at the last step
    torch.testing.assert_close(h_n[-1], out[:, 0, 4:])
    assert not torch.allclose(h_n[-1], out[:, -1, 4:])


@pytest.mark.parametrize("return_sequences", [True, False])
def test_keras_backward_layer_output_is_flipped_back(return_sequences):
    """Bidirectional = [forward(x), flip(backward(x))] with go_backwards=True, or the two
    final states without return_sequences."""
    x = np.random.default_rng(0).standard_normal((2, 6, 3)).astype("float32")
    bi = keras.layers.Bidirectional(keras.layers.LSTM(4, return_sequences=return_sequences))
    y = np.asarray(bi(x))
    fwd = keras.layers.LSTM(4, return_sequences=return_sequences)
    bwd = keras.layers.LSTM(4, return_sequences=return_sequences, go_backwards=True)
    fwd.build(x.shape)
    bwd.build(x.shape)
    fwd.set_weights(bi.forward_layer.get_weights())
    bwd.set_weights(bi.backward_layer.get_weights())
    back = np.asarray(bwd(x))
    if return_sequences:
        back = back[:, ::-1]
    np.testing.assert_allclose(y, np.concatenate([np.asarray(fwd(x)), back], -1), atol=1e-6)
    assert bi.backward_layer.go_backwards is True


# -- named differences, naive ports measured ----------------------------------------------------
def _diff(result, what):
    found = [d for d in result.layers[0].differences if d.what == what]
    assert len(found) == 1, [d.what for d in result.layers[0].differences]
    return found[0]


@pytest.mark.parametrize(
    ("case", "what"),
    [
        ("lstm_bi_last", "directions"),
        ("gru_bi_2_last", "directions"),
        ("lstm_bi_2_all", "stacked_layers"),
        ("lstm_bi_3_last", "stacked_layers"),
        ("lstm_bi_last", "last_step"),
        ("rnn_bi_2_last", "last_step"),
    ],
)
def test_naive_ports_measured(results, case, what):
    diff = _diff(results[case], what)
    assert diff.measured
    assert diff.naive_max_abs_err > 10 * results[case].layers[0].parity.tolerance


def test_last_step_naive_is_what_torch_gives_with_output_last(results):
    """The last_step error is torch's out[:, -1] against Keras' real Bidirectional output
    (the two correct sides agree, so either is the reference)."""
    pair = build(_model("lstm_bi_last"), seed=0)
    pair.port(src="torch")
    rnn = next(m for m in pair.torch.modules() if isinstance(m, nn.LSTM))
    x = np.random.default_rng(5).standard_normal((2, 5, 7)).astype("float32")
    with torch.no_grad():
        naive = rnn(torch.from_numpy(x).transpose(1, 2))[0][:, -1].numpy()
    y_k = np.asarray(pair.keras(x.transpose(0, 2, 1)))
    np.testing.assert_allclose(naive[:, :4], y_k[:, :4], atol=1e-5)  # forward half agrees
    assert np.abs(naive[:, 4:] - y_k[:, 4:]).max() > 1e-3  # reverse half does not


def test_no_stack_differences_on_one_layer():
    result = compare_model(Model("m", SEQ, (LSTM(units=3),)))
    names = {d.what for d in result.layers[0].differences}
    assert not names & {"stacked_layers", "directions", "last_step"}


def test_stacked_unidirectional_not_measured_for_input_order(results):
    diff = _diff(results["gru_2_layers_last"], "stacked_layers")
    assert diff.naive_max_abs_err is None and "layer 1 reads H" in diff.detail


def test_defaults_rows(results):
    rows = {r.name: r for r in results["lstm_bi_2_all"].layers[0].defaults}
    assert rows["batch_first"].torch is False and rows["batch_first"].spec is True
    assert rows["num_layers"].torch == 1 and rows["num_layers"].spec == 2
    assert rows["bidirectional"].torch is False
    assert rows["merge_mode"].keras == "concat" == rows["merge_mode"].torch
    assert rows["return_sequences"].torch is True  # nn.LSTM's output holds every step
    assert rows["return_sequences"].keras is False
    assert rows["num_layers"].user_set and rows["bidirectional"].user_set


# -- merge modes -------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["sum", "mul", "ave"])
def test_other_merge_modes_keras_only(mode):
    layer = LSTM(units=3, num_layers=2, bidirectional=True, merge_mode=mode)
    result = compare_model(Model("m", SEQ, (layer,)))
    fw = result.layers[0].frameworks
    assert not fw["torch"].supported and "only merge_mode='concat'" in fw["torch"].reason
    assert fw["keras"].supported and fw["keras"].output_shape == (None, 3)
    # layer 1 reads the merged H features: 2*(4*3*(5+3)+4*3) + 2*(4*3*(3+3)+4*3)
    assert fw["keras"].params == 2 * (4 * 3 * 8 + 12) + 2 * (4 * 3 * 6 + 12) == 384
    assert result.status == "unsupported"


# -- specs ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fields", "match"),
    [
        ({"num_layers": 0}, "num_layers=0"),
        ({"num_layers": True}, "num_layers=True"),
        ({"num_layers": 1.5}, "num_layers=1.5"),
        ({"bidirectional": "yes"}, "bidirectional='yes'"),
        ({"bidirectional": True, "merge_mode": "max"}, "merge_mode='max' must be one of"),
        ({"bidirectional": True, "merge_mode": None}, "merge_mode=None must be one of"),
        ({"merge_mode": "sum"}, "bidirectional=False runs one direction"),
    ],
)
def test_bad_fields_refused(fields, match):
    with pytest.raises(SpecError, match=match):
        LSTM(units=2, **fields)


def test_dict_round_trip_and_quiet_defaults():
    layer = GRU(units=3, num_layers=2, bidirectional=True, merge_mode="SUM")
    assert layer.merge_mode == "sum"
    assert layer_from_dict(layer.to_dict()) == layer
    assert set(LSTM(units=2).to_dict()) == {"kind", "units", "return_sequences", "use_bias"}
    assert layer_from_dict({"kind": "lstm", "hidden_size": 2, "num_layers": 3}).num_layers == 3


# -- the catalogue ------------------------------------------------------------------------------
def test_catalogue_tagger():
    import compare

    path = next(p for p in compare.catalog_files() if p.name == "recurrent.toml")
    model = next(m for m in compare.load(path) if m.name == "bilstm_tagger")
    result = compare.compare(model)[0]
    assert result.status == "ok"
    _embedding, lstm, dense = result.layers
    assert lstm.frameworks["torch"].params == hand_params(model.layers[1], 16, "torch") == 37_888
    assert lstm.frameworks["keras"].params == hand_params(model.layers[1], 16, "keras") == 37_376
    assert dense.frameworks["keras"].params == 9 * 2 * 32 + 9
    pair = build(model)
    assert sum(p.numel() for p in pair.torch.parameters()) == 1000 * 16 + 37_888 + 585
    assert pair.keras.count_params() == 1000 * 16 + 37_376 + 585
    assert lstm.frameworks["keras"].output_shape == (None, 20, 64)


# -- random valid stacks ------------------------------------------------------------------------
@settings(max_examples=8, deadline=None)
@given(
    kind=st.sampled_from([LSTM, GRU, SimpleRNN]),
    units=st.integers(1, 4),
    features=st.integers(1, 3),
    steps=st.integers(1, 4),
    num_layers=st.integers(1, 3),
    bidirectional=st.booleans(),
    return_sequences=st.booleans(),
    use_bias=st.booleans(),
)
def test_random_stacks(
    kind, units, features, steps, num_layers, bidirectional, return_sequences, use_bias
):
    layer = kind(
        units=units,
        num_layers=num_layers,
        bidirectional=bidirectional,
        return_sequences=return_sequences,
        use_bias=use_bias,
    )
    pair = build(Model("r", Input(features, (steps,)), (layer,)))
    assert sum(p.numel() for p in pair.torch.parameters()) == hand_params(layer, features, "torch")
    assert pair.keras.count_params() == hand_params(layer, features, "keras")
    out = units * (2 if bidirectional else 1)
    assert tuple(pair.keras.output.shape) == (
        (None, steps, out) if return_sequences else (None, out)
    )
    pair.port(src="torch")
    y_t, y_k = _run_both(pair, np.random.default_rng(units))
    assert measure(y_t, y_k).status == "ok"
