"""Issue 16, class 1: the shape-only mode builds every kind without reading a value.

On the ``meta`` device a parameter has a shape and no storage: a builder that reads a
value back (``.item()``, ``float(t.max())``) or makes a tensor on the CPU inside
``forward`` fails there.
"""

import pytest

from compare import batch
from compare.comparison import compare_model
from compare.spec import model_from_dict

SEQUENCE = {"channels": 4, "size": [6]}
TOKENS = {"dtype": "int", "size": [6]}

CASES = {
    "lstm": (SEQUENCE, [{"kind": "lstm", "units": 3}]),
    "gru": (SEQUENCE, [{"kind": "gru", "units": 3, "return_sequences": True}]),
    "simple_rnn": (SEQUENCE, [{"kind": "simple_rnn", "units": 3}]),
    "embedding": (TOKENS, [{"kind": "embedding", "input_dim": 10, "output_dim": 4}]),
    "avg_pool_same": (
        {"channels": 2, "size": [5, 5]},
        [{"kind": "avg_pool", "pool_size": 2, "padding": "same"}],
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_shape_only_builds_every_kind(name):
    inp, layers = CASES[name]
    model = model_from_dict({"name": name, "input": inp, "layers": layers})
    shaped = compare_model(model, parity=False)
    full = compare_model(model)
    assert shaped.error is None, shaped.error
    assert shaped.status == "skipped"
    for lazy, real in zip(shaped.layers, full.layers, strict=True):
        for fw in ("torch", "keras"):
            assert lazy.frameworks[fw].output_shape == real.frameworks[fw].output_shape
            assert lazy.frameworks[fw].params == real.frameworks[fw].params


def test_shape_only_catalogue_has_no_errors():
    results = batch.compare_all(batch.load_all(batch.sources()), parity=False)
    summary = batch.summarize(results)
    assert summary.errors == 0, [r.error for r in results if r.error]
