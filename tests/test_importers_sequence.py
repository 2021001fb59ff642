"""from_torch / from_keras for the sequence kinds: lstm, gru, simple_rnn, embedding.

Round trips (spec -> build -> import gives the spec and the weights back), hand-written
models in either framework, parity with the user's weights, and named refusals.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
import torch

import compare
from compare.adapters import get_adapter
from compare.adapters.base import Unsupported
from compare.catalog import catalog_files
from compare.importers import UnmappableError
from compare.spec import GRU, LSTM, Dense, Embedding, Input, Model, SimpleRNN
from compare.specfile import load
from compare.testing import assert_equivalent, check_equivalent

nn = torch.nn
L = keras.layers

RECURRENT = next(p for p in catalog_files() if p.name == "recurrent.toml")


def _input(model: Model) -> str:
    if model.input.dtype == "int":
        return f"int:{model.input.size[0]}"
    return "x".join(str(d) for d in (model.input.channels, *model.input.size))


def _table() -> list[Model]:
    """Each recurrent kind both ways (a sequence into a last step), with and without bias."""
    kinds = {
        "lstm": lambda **kw: LSTM(**kw),
        "gru": lambda **kw: GRU(**kw),
        "simple_rnn_relu": lambda **kw: SimpleRNN(activation="relu", **kw),
    }
    models = []
    for name, make in kinds.items():
        for use_bias in (True, False):
            layers = (
                make(units=5, return_sequences=True, use_bias=use_bias),
                make(units=3, return_sequences=False, use_bias=use_bias),
                Dense(units=2),
            )
            models.append(Model(f"{name}_bias{int(use_bias)}", Input(4, (6,)), layers))
    models.append(
        Model(
            "embedding_sequence",
            Input(1, (7,), dtype="int"),
            (Embedding(input_dim=30, output_dim=4), LSTM(units=3, return_sequences=True)),
        )
    )
    return models


MODELS = load(RECURRENT) + _table()


@pytest.fixture(scope="module", params=MODELS, ids=[m.name for m in MODELS])
def case(request):
    model = request.param
    pair = compare.build(model, seed=5)
    if not pair.unsupported():
        pair.port(src="torch")
    return model, pair


def weights_equal(imported, pair, source):
    """Each layer's imported arrays are exactly what the pair's ``source`` side holds."""
    adapter = get_adapter(source)
    for index, built in enumerate(pair.sides[source].layers):
        want, got = adapter.get_weights(built), imported.weights[index]
        assert sorted(got) == sorted(want), index
        for role in want:
            np.testing.assert_array_equal(got[role], want[role])


@pytest.mark.parametrize("source", ["torch", "keras"])
def test_round_trip_gives_the_same_spec_and_weights(case, source):
    model, pair = case
    if source == "torch":
        if pair.unsupported():  # GRU(reset_after=False): Keras only
            with pytest.raises(Unsupported, match="reset_after=False"):
                pair.torch  # noqa: B018
            return
        imported = compare.from_torch(pair.torch, input=_input(model))
    else:
        imported = compare.from_keras(pair.keras)
    assert imported.model.input == model.input
    assert imported.model.layers == model.layers
    weights_equal(imported, pair, source)


@pytest.mark.parametrize("name", ["lstm_classifier", "embedding_gru_text"])
def test_compare_an_import_reports_parity_with_its_weights(name):
    model = next(m for m in MODELS if m.name == name)
    pair = compare.build(model, seed=11)
    imported = compare.from_torch(pair.torch, input=_input(model))
    result = compare.compare(imported)[0]
    assert result.status == "ok", result.parity
    rebuilt = compare.build(imported, seed=99)  # other seed: the weights come from the import
    weights_equal(imported, rebuilt, "torch")


class LastStep(nn.Module):
    """An LSTM classifier as people write it: (N, steps, features) in, last step out."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(16, 32, batch_first=True)
        self.fc = nn.Linear(32, 5)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.fc(out[:, -1])


class TextGRU(nn.Module):
    """Token ids -> embedding -> GRU, classified from the final hidden state."""

    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(50, 8)
        self.gru = nn.GRU(8, 6, batch_first=True)
        self.fc = nn.Linear(6, 3)

    def forward(self, ids):
        _, h = self.gru(self.emb(ids))
        return self.fc(h[-1])


class EveryStep(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.RNN(4, 6, batch_first=True, nonlinearity="relu")
        self.fc = nn.Linear(6, 3)

    def forward(self, x):
        return self.fc(self.rnn(x)[0])


@pytest.fixture(scope="module")
def last_step():
    torch.manual_seed(0)
    return LastStep()


@pytest.fixture(scope="module")
def keras_last_step():
    return keras.Sequential([keras.Input((10, 16)), L.LSTM(32), L.Dense(5)])


def test_hand_written_lstm_reads_as_the_spec_with_its_weights(last_step):
    imported = compare.from_torch(last_step, input="16x10")
    assert imported.model.input == Input(16, (10,))
    assert imported.model.layers == (LSTM(units=32), Dense(units=5))
    assert imported.paths == (("lstm",), ("fc",))
    np.testing.assert_array_equal(
        imported.weights[0]["recurrent_kernel"], last_step.lstm.weight_hh_l0.detach().numpy()
    )
    # The spec built from the import computes what the user's module does.
    x = np.random.default_rng(2).standard_normal((3, 10, 16)).astype("float32")
    with torch.no_grad():
        want = last_step(torch.from_numpy(x)).numpy()
    pair = compare.build(imported)
    with torch.no_grad():
        got = pair.torch(torch.from_numpy(np.moveaxis(x, 1, -1).copy())).numpy()
    np.testing.assert_allclose(got, want, atol=1e-6)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(pair.keras(x)), want, atol=1e-5)


def test_hand_written_torch_and_keras_lstm_are_equivalent(last_step, keras_last_step):
    assert_equivalent(last_step, keras_last_step, input="16x10")
    imported = compare.from_keras(keras_last_step)
    assert imported.model.layers == (LSTM(units=32), Dense(units=5))


def test_a_different_keras_network_is_named(last_step):
    other = keras.Sequential([keras.Input((10, 16)), L.LSTM(32, return_sequences=True)])
    result = check_equivalent(last_step, other, input="16x10")
    assert not result.ok
    assert "return_sequences" in result.message


@pytest.mark.parametrize(
    ("module", "keras_layers", "input"),
    [
        (
            TextGRU,
            lambda: [keras.Input((12,), dtype="int32"), L.Embedding(50, 8), L.GRU(6), L.Dense(3)],
            "int:12",
        ),
        (
            EveryStep,
            lambda: [
                keras.Input((7, 4)),
                L.SimpleRNN(6, activation="relu", return_sequences=True),
                L.Dense(3),
            ],
            "4x7",
        ),
    ],
    ids=["embedding_gru_h_n", "simple_rnn_every_step"],
)
def test_hand_written_pairs_with_ids_or_sequences_are_equivalent(module, keras_layers, input):
    torch.manual_seed(1)
    net = module()
    assert_equivalent(net, keras.Sequential(keras_layers()), input=input)


class Reads(nn.Module):
    """An LSTM whose (output, (h_n, c_n)) is reduced by ``read``."""

    def __init__(self, read):
        super().__init__()
        self.lstm = nn.LSTM(3, 4, batch_first=True)
        self.read = read

    def forward(self, x):
        return self.read(self.lstm(x))


def _hidden(result):
    _, (h, _) = result
    return h.squeeze(0)


@pytest.mark.parametrize(
    ("read", "keeps"),
    [
        (lambda r: r[0], True),
        (lambda r: r[0][:, -1], False),
        (lambda r: r[0][:, -1, :], False),
        (lambda r: r[1][0][-1], False),
        (_hidden, False),
    ],
    ids=["out", "out_last", "out_last_colon", "h_n_last", "h_n_squeeze"],
)
def test_the_usual_reads_of_an_rnn_tuple_give_return_sequences(read, keeps):
    imported = compare.from_torch(Reads(read), input="3x5")
    assert imported.model.layers == (LSTM(units=4, return_sequences=keeps),)


def test_the_int_input_can_be_given_as_an_input_spec():
    torch.manual_seed(0)
    imported = compare.from_torch(TextGRU(), input=Input(1, (12,), dtype="int"))
    assert imported.model.input.dtype == "int"
    assert [layer.kind for layer in imported.model.layers] == ["embedding", "gru", "dense"]
    with pytest.raises(compare.SpecError, match="int:12"):
        compare.from_torch(TextGRU(), input="int:x")


class FirstStep(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(3, 4, batch_first=True)

    def forward(self, x):
        return self.lstm(x)[0][:, 0]


class ConvAfterRnn(nn.Module):
    """Runs, but the conv reads the 5 steps as channels: the layout is named."""

    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(3, 4, batch_first=True)
        self.conv = nn.Conv1d(5, 2, 3)

    def forward(self, x):
        return self.conv(self.gru(x)[0])


@pytest.mark.parametrize(
    ("module", "input", "match"),
    [
        (nn.Sequential(nn.RNN(3, 4)), "3x5", "batch_first=False"),
        (nn.Sequential(nn.LSTM(3, 4, proj_size=2, batch_first=True)), "3x5", "proj_size=2"),
        (nn.Sequential(nn.LSTM(3, 4, batch_first=True)), "3x5", "not reduced to one tensor"),
        (nn.Sequential(nn.Embedding(10, 3, padding_idx=0)), "int:5", "padding_idx=0"),
        (nn.Sequential(nn.Embedding(10, 3, max_norm=1.0)), "int:5", "max_norm=1.0"),
        (FirstStep(), "3x5", r"keep a \(2, 4\) tensor"),
        (ConvAfterRnn(), "3x5", r"conv \(torch.nn.Conv1d\): it gets a \(N, steps, features\)"),
    ],
    ids=[
        "batch_first",
        "proj",
        "tuple",
        "padding_idx",
        "max_norm",
        "first_step",
        "layout",
    ],
)
@pytest.mark.filterwarnings("ignore:LSTM with projections")
def test_unmappable_torch_sequence_modules_are_named(module, input, match):
    with pytest.raises(UnmappableError, match=match) as info:
        compare.from_torch(module, input=input)
    assert info.value.items[0].path in ("0", "lstm", "conv")


@pytest.mark.parametrize(
    ("layer", "match"),
    [
        (lambda: L.LSTM(4, go_backwards=True, name="r"), "go_backwards=True"),
        (lambda: L.GRU(4, stateful=True, name="r"), "stateful=True"),
        (lambda: L.LSTM(4, dropout=0.2, name="r"), "dropout=0.2"),
        (lambda: L.SimpleRNN(4, recurrent_dropout=0.1, name="r"), "recurrent_dropout=0.1"),
        (lambda: L.LSTM(4, activation="relu", name="r"), "activation='relu'"),
        (lambda: L.SimpleRNN(4, activation="sigmoid", name="r"), "activation='sigmoid'"),
    ],
    ids=["go_backwards", "stateful", "dropout", "recurrent_dropout", "lstm_relu", "rnn_sigmoid"],
)
def test_unmappable_keras_recurrent_options_are_named(layer, match):
    model = keras.Sequential([keras.Input((5, 3), batch_size=2), layer()])
    with pytest.raises(UnmappableError, match=rf"r \(keras.layers.\w+\): {match}"):
        compare.from_keras(model)


def test_a_keras_model_without_input_shape_takes_int_input():
    model = keras.Sequential([L.Embedding(20, 3), L.LSTM(4)])
    imported = compare.from_keras(model, input="int:6")
    assert imported.model.input == Input(1, (6,), dtype="int")
    assert imported.model.layers == (Embedding(input_dim=20, output_dim=3), LSTM(units=4))


def test_keras_mask_zero_is_named_and_use_bias_false_is_read():
    masked = keras.Sequential([keras.Input((5,), dtype="int32"), L.Embedding(9, 2, mask_zero=True)])
    with pytest.raises(UnmappableError, match="mask_zero=True"):
        compare.from_keras(masked)
    plain = keras.Sequential([keras.Input((5, 3)), L.GRU(4, use_bias=False, reset_after=False)])
    imported = compare.from_keras(plain)
    assert imported.model.layers == (GRU(units=4, use_bias=False, reset_after=False),)
    assert sorted(imported.weights[0]) == ["kernel", "recurrent_kernel"]
