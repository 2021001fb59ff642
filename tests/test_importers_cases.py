"""Round trips over the whole parametrised case table: spec -> build -> from_torch /
from_keras gives the same spec back, and the imported weights are the built ones."""

from __future__ import annotations

import numpy as np
import pytest

import compare
from compare.adapters import get_adapter
from compare.importers import spec_differences
from tests.cases import all_cases, keras_refuses

CASES = all_cases()


@pytest.mark.parametrize("model", [m for _, m in CASES], ids=[i for i, _ in CASES])
def test_case_table_round_trips_through_both_importers(model):
    pair = compare.build(model, seed=5)
    sources = ["torch"] if keras_refuses(model) else ["torch", "keras"]
    if "keras" in sources:
        pair.port(src="torch")
    for source in sources:
        if source == "torch":
            shape = (model.input.channels, *model.input.size)
            imported = compare.from_torch(pair.torch, input=shape)
        else:
            imported = compare.from_keras(pair.keras)
        assert spec_differences(model, imported.model) == [], source
        adapter = get_adapter(source)
        for index, built in enumerate(pair.sides[source].layers):
            want = adapter.get_weights(built)
            got = imported.weights[index]
            assert sorted(got) == sorted(want), source
            for role in want:
                np.testing.assert_array_equal(got[role], want[role])
