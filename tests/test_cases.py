"""The case table against the oracle: formulas vs what both frameworks really built."""

from __future__ import annotations

import re

import numpy as np
import pytest

from compare.comparison import compare_model
from compare.formulas import infer
from compare.spec import prod
from tests.cases import all_cases, keras_refuses

CASES = all_cases()


def test_case_table_is_large_enough():
    assert len(CASES) >= 300
    assert len({case_id for case_id, _ in CASES}) == len(CASES)


@pytest.mark.parametrize("model", [m for _, m in CASES], ids=[i for i, _ in CASES])
def test_frameworks_agree_with_formulas(model):
    result = compare_model(model)
    assert result.error is None
    formulas = infer(model)
    for layer, formula in zip(result.layers, formulas, strict=True):
        torch_side, keras_side = layer.frameworks["torch"], layer.frameworks["keras"]
        assert torch_side.supported, torch_side.reason
        assert torch_side.params == formula.params
        assert sum(prod(w.shape) for w in torch_side.weights) == formula.params
        assert torch_side.output_shape == formula.output.torch()
        assert all(len(w.axes) == len(w.shape) for w in torch_side.weights)
        refusal = keras_refuses(model) if layer.index == len(model.layers) - 1 else None
        if refusal:
            assert not keras_side.supported
            assert re.search(refusal, keras_side.reason)
            assert layer.parity.status == "unsupported"
            assert any(d.what == "unsupported" for d in layer.differences)
            continue
        assert keras_side.supported, keras_side.reason
        assert keras_side.params == formula.params
        assert sum(prod(w.shape) for w in keras_side.weights) == formula.params
        assert keras_side.output_shape == formula.output.keras()
        assert all(len(w.axes) == len(w.shape) for w in keras_side.weights)
        assert keras_side.non_trainable_params == 0 and keras_side.buffers == 0
        assert layer.parity.status == "ok", layer.parity
        assert np.isfinite(layer.parity.max_abs_err)
    if not keras_refuses(model):
        assert result.parity.status == "ok"
