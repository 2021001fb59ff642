"""The memo of Keras initialiser draws hands back exactly what Keras draws.

Held against Keras itself: a layer built with the memo holds the very values a layer
Keras builds on its own (same initialiser and seed) holds, on a miss and on a hit;
a port writing a variable never reaches the memo; its bounds hold.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest

from compare.adapters import get_adapter, keras_draws
from compare.adapters.keras_draws import Draws
from compare.parity import build
from compare.spec import model_from_dict

MODELS = {
    "conv": {
        "input": {"channels": 3, "size": [8, 8]},
        "layers": [{"kind": "conv", "filters": 4, "kernel_size": 3}],
    },
    "two_convs": {  # the same kernel shape, each with the seed of its own index
        "input": {"channels": 4, "size": [8, 8]},
        "layers": [
            {"kind": "conv", "filters": 4, "kernel_size": 3, "padding": "same"},
            {"kind": "conv", "filters": 4, "kernel_size": 3, "padding": "same"},
        ],
    },
    "lstm": {  # unit_forget_bias: Keras builds the bias from its initialiser and ones
        "input": {"channels": 3, "size": [5]},
        "layers": [{"kind": "lstm", "units": 4}],
    },
    "norm_dense": {
        "input": {"channels": 6, "size": [4]},
        "layers": [{"kind": "batch_norm"}, {"kind": "flatten"}, {"kind": "dense", "units": 3}],
    },
    "embedding": {
        "input": {"size": [5], "dtype": "int"},
        "layers": [{"kind": "embedding", "input_dim": 11, "output_dim": 4}],
    },
}


def _keras_weights(pair):
    adapter = get_adapter("keras")
    return [adapter.get_weights(b) for b in pair.sides["keras"].layers]


def _equal(a, b):
    return len(a) == len(b) and all(
        x.keys() == y.keys() and all(np.array_equal(x[r], y[r]) for r in x)
        for x, y in zip(a, b, strict=True)
    )


@pytest.fixture
def draws():
    memo = get_adapter("keras").draws
    memo.clear()
    yield memo
    memo.clear()


@pytest.mark.parametrize("name", sorted(MODELS))
def test_a_hit_holds_what_a_draw_holds(name, draws, monkeypatch):
    model = model_from_dict({"name": name, **MODELS[name]})
    first = _keras_weights(build(model))
    hits = draws.hits
    second = _keras_weights(build(model))
    assert draws.hits > hits, "the second build drew again"
    monkeypatch.setattr(keras_draws, "MAX_DRAW_BYTES", 0)
    draws.clear()
    drawn = _keras_weights(build(model))  # nothing kept: every value drawn by Keras
    assert not draws.store
    assert _equal(first, drawn) and _equal(second, drawn)


def test_memoised_values_are_keras_own_draw(draws):
    """Keras, building a Conv2D with the same seeded initialiser, draws the same values."""
    model = model_from_dict({"name": "conv", **MODELS["conv"]})
    build(model)
    pair = build(model)  # a hit
    (conv,) = pair.sides["keras"].layers[0].obj
    assert type(conv.kernel_initializer).__name__ == "GlorotUniform"  # put back
    seed = conv.kernel_initializer.seed
    own = keras.layers.Conv2D(
        4, 3, kernel_initializer=keras.initializers.GlorotUniform(seed=seed), name="own"
    )
    own.build((None, 8, 8, 3))
    assert np.array_equal(conv.kernel.numpy(), own.kernel.numpy())
    assert float(np.abs(own.kernel.numpy()).max()) > 0


def test_a_port_does_not_write_into_the_memo(draws):
    model = model_from_dict({"name": "conv", **MODELS["conv"]})
    fresh = _keras_weights(build(model))
    pair = build(model)
    pair.port(src="torch")  # writes torch's weights into the Keras variables
    ported = _keras_weights(pair)
    assert not np.array_equal(ported[0]["kernel"], fresh[0]["kernel"])
    assert _equal(_keras_weights(build(model)), fresh)


def test_unseeded_generators_and_foreign_initialisers_are_drawn_every_time():
    stateful = keras.initializers.GlorotUniform(seed=keras.random.SeedGenerator(3))
    assert Draws.key(stateful, (2, 2), "float32") is None

    class Mine(keras.initializers.Initializer):
        def __call__(self, shape, dtype=None):
            return keras.ops.ones(shape, dtype)

    assert Draws.key(Mine(), (2, 2), "float32") is None
    assert Draws.key(keras.initializers.Zeros(), (2, 2), "float32") is not None


def test_the_memo_is_bounded(monkeypatch):
    memo = Draws()
    monkeypatch.setattr(keras_draws, "MAX_DRAW_BYTES", 64)
    monkeypatch.setattr(keras_draws, "MAX_BYTES", 100)
    init = keras.initializers.RandomNormal(seed=1)
    for n in (4, 5, 6, 15):  # 16, 20, 24 bytes, then 60: 120 in all
        memo.keep(memo.key(init, (n,), "float32"), init((n,), "float32"))
    assert memo.bytes == 84 and [k[3] for k in memo.store] == [(6,), (15,)]  # oldest out first
    memo.keep(memo.key(init, (17,), "float32"), init((17,), "float32"))  # 68 > 64 bytes
    assert (17,) not in [k[3] for k in memo.store]


def test_blank_builds_take_their_zeros_from_the_memo_and_put_initialisers_back(draws):
    model = model_from_dict({"name": "conv", **MODELS["conv"]})
    build(model, keep_fresh=False)
    hits = draws.hits
    pair = build(model, keep_fresh=False)
    assert draws.hits == hits + 2  # the kernel's zeros and the bias' zeros
    (conv,) = pair.sides["keras"].layers[0].obj
    assert not conv.kernel.numpy().any()
    names = type(conv.kernel_initializer).__name__, type(conv.bias_initializer).__name__
    assert names == ("GlorotUniform", "Zeros")
    assert np.abs(_keras_weights(build(model))[0]["kernel"]).max() > 0


def test_a_draw_without_a_dtype_is_not_memoised():
    """Keras' floatx fills in a missing dtype, and a user may change it between builds."""
    assert Draws.key(keras.initializers.GlorotUniform(seed=1), (2, 2), None) is None


def _counting_reads(monkeypatch):
    from compare.adapters import keras as keras_adapter

    reads, real = [], keras_adapter.read_variable

    def read(var):
        reads.append(var.path)
        return real(var)

    monkeypatch.setattr(keras_adapter, "read_variable", read)
    return reads


def test_a_draw_is_measured_once_on_what_keras_drew(draws, monkeypatch):
    """The initialiser measurement of a memoised draw is made on the variable's own
    values the first time and handed back after: NumPy's std of the values read."""
    from compare.comparison import _measured_std

    adapter = get_adapter("keras")
    model = model_from_dict({"name": "conv", **MODELS["conv"]})
    first = build(model).sides["keras"].layers[0]
    values = adapter.get_weights(first)
    reads = _counting_reads(monkeypatch)
    stds = adapter.fresh_stds(first, _measured_std)
    assert sorted(reads) == ["conv_0/bias", "conv_0/kernel"]
    assert stds["kernel"] == pytest.approx(float(np.std(values["kernel"], dtype=np.float64)))
    assert stds["kernel"] > 0.1 and stds["bias"] == 0.0
    reads.clear()
    again = build(model).sides["keras"].layers[0]
    assert adapter.fresh_stds(again, _measured_std) == stds and not reads
    other = model_from_dict(
        {"name": "conv", **MODELS["conv"], "input": {"channels": 5, "size": [8, 8]}}
    )
    adapter.fresh_stds(build(other).sides["keras"].layers[0], _measured_std)
    assert "conv_0/kernel" in reads  # another kernel shape: another draw, read


def test_a_packed_draw_is_read_every_time(draws, monkeypatch):
    """An LSTM's bias is three draws and a block of ones: no single key, always read."""
    from compare.comparison import _measured_std

    adapter = get_adapter("keras")
    model = model_from_dict({"name": "lstm", **MODELS["lstm"]})
    first = adapter.fresh_stds(build(model).sides["keras"].layers[0], _measured_std)
    reads = _counting_reads(monkeypatch)
    again = adapter.fresh_stds(build(model).sides["keras"].layers[0], _measured_std)
    assert [r.rsplit("/", 1)[1] for r in reads] == ["bias"] and again == first
