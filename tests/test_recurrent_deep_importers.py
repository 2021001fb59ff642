"""from_torch / from_keras for stacked and bidirectional recurrences: round trips through
both importers, hand-written models in either framework computing what the spec built
from them computes, a PyTorch and a Keras tagger held equivalent, and named refusals."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import torch
from test_importers_sequence import weights_equal

import compare
from compare.importers import UnmappableError
from compare.spec import GRU, LSTM, Dense, Embedding, Input, Model, SimpleRNN
from compare.testing import assert_equivalent

nn = torch.nn
L = keras.layers

SEQ = Input(5, (7,))

ROUND_TRIPS = {
    "bilstm_2_all_dense": (
        LSTM(units=4, num_layers=2, bidirectional=True, return_sequences=True),
        Dense(units=3),
    ),
    "bigru_2_last": (GRU(units=3, num_layers=2, bidirectional=True), Dense(units=2)),
    "lstm_3_layers_last": (LSTM(units=3, num_layers=3),),
    "birnn_relu_nobias_last": (
        SimpleRNN(units=4, bidirectional=True, activation="relu", use_bias=False),
    ),
    "bilstm_then_gru": (
        LSTM(units=4, bidirectional=True, return_sequences=True),
        GRU(units=3, num_layers=2),
    ),
}


@pytest.mark.parametrize("source", ["torch", "keras"])
@pytest.mark.parametrize("case", list(ROUND_TRIPS))
def test_round_trip_gives_the_same_spec_and_weights(case, source):
    model = Model(case, SEQ, ROUND_TRIPS[case])
    pair = compare.build(model, seed=4)
    pair.port(src="torch")
    if source == "torch":
        imported = compare.from_torch(pair.torch, input="5x7")
    else:
        imported = compare.from_keras(pair.keras)
    assert imported.model.layers == model.layers
    weights_equal(imported, pair, source)
    assert compare.compare(imported)[0].status == "ok"


class Tagger(nn.Module):
    """A bidirectional LSTM tagger as people write it: ids -> embedding -> BiLSTM -> a
    dense layer at every step."""

    def __init__(self, dropout: float = 0.0):
        super().__init__()
        self.emb = nn.Embedding(40, 8)
        self.lstm = nn.LSTM(8, 6, num_layers=2, bidirectional=True, batch_first=True,
                            dropout=dropout)  # fmt: skip
        self.fc = nn.Linear(12, 5)

    def forward(self, ids):
        out, _ = self.lstm(self.emb(ids))
        return self.fc(out)


def _keras_tagger():
    return keras.Sequential(
        [
            keras.Input((9,), dtype="int32"),
            L.Embedding(40, 8),
            L.Bidirectional(L.LSTM(6, return_sequences=True)),
            L.Bidirectional(L.LSTM(6, return_sequences=True)),
            L.Dense(5),
        ]
    )


TAGGER = (
    Embedding(input_dim=40, output_dim=8),
    LSTM(units=6, num_layers=2, bidirectional=True, return_sequences=True),
    Dense(units=5),
)


def test_hand_written_torch_tagger_reads_as_the_spec_and_computes_the_same():
    torch.manual_seed(1)
    net = Tagger().eval()
    imported = compare.from_torch(net, input="int:9")
    assert imported.model.layers == TAGGER
    assert imported.paths == (("emb",), ("lstm",), ("fc",))
    np.testing.assert_array_equal(
        imported.weights[1]["kernel_l1_reverse"], net.lstm.weight_ih_l1_reverse.detach().numpy()
    )
    ids = np.random.default_rng(0).integers(0, 40, (3, 9))
    with torch.no_grad():
        want = net(torch.from_numpy(ids)).numpy()  # (N, steps, 5)
    pair = compare.build(imported)
    y_k = keras.ops.convert_to_numpy(pair.keras(ids))
    np.testing.assert_allclose(y_k, want, atol=1e-5)


def test_torch_dropout_between_layers_is_named_not_read():
    imported = compare.from_torch(Tagger(dropout=0.3).eval(), input="int:9")
    assert imported.model.layers == TAGGER
    assert "dropout between layers (training only" in imported.classes[1][0]


def test_hand_written_keras_tagger_folds_its_stack():
    model = _keras_tagger()
    imported = compare.from_keras(model)
    assert imported.model.layers == TAGGER
    ids = np.random.default_rng(1).integers(0, 40, (2, 9))
    want = keras.ops.convert_to_numpy(model(ids))
    pair = compare.build(imported)
    with torch.no_grad():
        got = pair.torch(torch.from_numpy(ids)).numpy()  # Dense per step: channels first
    np.testing.assert_allclose(np.moveaxis(got, 1, -1), want, atol=1e-5)


def test_torch_and_keras_taggers_are_equivalent():
    assert_equivalent(Tagger().eval(), _keras_tagger(), input="int:9")


class BiLast(nn.Module):
    """A bidirectional GRU whose output's last step is kept: the reverse direction
    there has read one step only."""

    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(5, 4, bidirectional=True, batch_first=True)

    def forward(self, x):
        out, _ = self.gru(x)
        return out[:, -1]


def test_both_final_states_read_as_return_sequences_false():
    """RnnOutput keeps each direction's final state: read back as return_sequences=False."""
    pair = compare.build(Model("m", SEQ, (GRU(units=4, bidirectional=True),)), seed=2)
    imported = compare.from_torch(pair.torch, input="5x7")
    assert imported.model.layers == (GRU(units=4, bidirectional=True),)


def test_bidirectional_output_last_refused_with_the_reason():
    with pytest.raises(UnmappableError, match=r"reverse direction after reading one step"):
        compare.from_torch(BiLast(), input="5x7")


@pytest.mark.filterwarnings("ignore:LSTM with projections")
def test_torch_projection_refused():
    with pytest.raises(UnmappableError, match="proj_size=2"):
        compare.from_torch(
            nn.Sequential(nn.LSTM(5, 4, proj_size=2, num_layers=2, batch_first=True)),
            input="5x7",
        )


def test_two_torch_modules_stay_two_layers():
    class Two(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.LSTM(5, 4, batch_first=True)
            self.b = nn.LSTM(4, 4, batch_first=True)

        def forward(self, x):
            return self.b(self.a(x)[0])[0]

    imported = compare.from_torch(Two(), input="5x7")
    assert [layer.num_layers for layer in imported.model.layers] == [1, 1]


@pytest.mark.parametrize(
    ("layers", "want"),
    [
        # different units: two layers
        ([L.LSTM(4, return_sequences=True), L.LSTM(3)], [1, 1]),
        # a plain LSTM under a bidirectional one: two layers
        ([L.LSTM(4, return_sequences=True), L.Bidirectional(L.LSTM(4))], [1, 1]),
        # three alike: one spec of three layers
        ([L.GRU(3, return_sequences=True), L.GRU(3, return_sequences=True), L.GRU(3)], [3]),
    ],
)
def test_keras_stacks_fold_only_when_alike(layers, want):
    model = keras.Sequential([keras.Input((7, 5)), *layers])
    imported = compare.from_keras(model)
    assert [layer.num_layers for layer in imported.model.layers] == want


@pytest.mark.parametrize(
    ("wrapper", "match"),
    [
        (lambda: L.Bidirectional(L.LSTM(4), merge_mode=None), "returns 2 tensors"),
        (
            lambda: L.Bidirectional(L.LSTM(4), backward_layer=L.LSTM(3, go_backwards=True)),
            "is not the forward one",
        ),
        (lambda: L.Bidirectional(L.LSTM(4, dropout=0.5)), "dropout=0.5"),
    ],
)
def test_keras_bidirectional_refusals_named(wrapper, match):
    with pytest.raises(UnmappableError, match=match):
        compare.from_keras(keras.Sequential([keras.Input((7, 5)), wrapper()]))


@pytest.mark.parametrize("mode", ["sum", "ave", "mul"])
def test_keras_merge_modes_read_and_keras_only(mode):
    model = keras.Sequential([keras.Input((7, 5)), L.Bidirectional(L.GRU(3), merge_mode=mode)])
    imported = compare.from_keras(model)
    assert imported.model.layers == (GRU(units=3, bidirectional=True, merge_mode=mode),)
    result = compare.compare(imported)[0]
    assert result.status == "unsupported"
    assert result.layers[0].frameworks["keras"].params == model.count_params()
