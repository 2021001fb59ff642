"""Work and memory figures at batch N, and counting in shape-only mode.

The tool's counters compute nothing (PyTorch's on fake or meta tensors, TensorFlow's
profiler on the graph). Here they are held against the same counters run the plain
way, in the test, on real zeros of N samples, and against hand-derived figures: the
seed model's published batch-1 counts (issue 15) times N.
"""

from __future__ import annotations

import json

import pytest
from test_counting import CASES, tf_flops, torch_zeros

from compare.catalog import seed_model
from compare.comparison import compare_model
from compare.counting import count_pair
from compare.parity import build


def torch_flops(module, inputs) -> int:
    """PyTorch's FlopCounterMode on one real call of ``module``, with grad enabled as the
    tool runs it (under no_grad, attention in eval mode takes a fused path the counter
    has no formula for)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with torch.enable_grad(), counter:
        module(*inputs)
    return counter.get_total_flops()


# -- the seed model at batch 8: hand-derived from the published batch-1 figures -----------


@pytest.fixture(scope="module")
def seed8():
    return compare_model(seed_model(), count=True, count_batch=8)


def test_seed_at_batch_8_is_8_times_the_published_figures(seed8):
    totals = seed8.totals()
    assert totals["formula_macs"] == 8 * 1_948_320 == 15_586_560
    assert totals["torch"]["flops"] == 8 * 3_896_640
    assert totals["keras"]["flops"] == 8 * 3_928_298
    assert seed8.layers[0].work.expression == "8*(40*26*26*(3*3*1)) = 1946880"
    assert seed8.layers[0].work.bias_adds == 8 * 27_040  # 40*26*26 per sample


def test_seed_at_batch_8_is_what_the_counters_count_on_8_real_samples(seed8):
    pair = build(seed_model())
    shape = pair.formulas[0].input
    x = torch_zeros(shape, batch=8)
    assert seed8.totals()["torch"]["flops"] == torch_flops(pair.torch, [x])
    assert seed8.totals()["keras"]["flops"] == tf_flops(pair.keras, shape, 8)


def test_seed_memory_at_batch_8(seed8):
    one = compare_model(seed_model(), count=True)
    # outputs per sample: 40*26*26, 8*24*24, 4608, 10 floats of 4 bytes
    per_sample = [40 * 26 * 26 * 4, 8 * 24 * 24 * 4, 4608 * 4, 10 * 4]
    for name in ("torch", "keras"):
        got = [layer.frameworks[name].activation_bytes for layer in seed8.layers]
        assert got == [8 * b for b in per_sample]
        # the peak: the two convs' outputs, held at once while the second runs
        assert seed8.totals()[name]["peak_activation_bytes"] == 8 * (per_sample[0] + per_sample[1])
        # parameters do not depend on the batch
        assert seed8.totals()[name]["param_bytes"] == one.totals()[name]["param_bytes"]
    assert seed8.totals()["keras"]["param_bytes"] == 49_378 * 4


def test_batch_size_is_in_the_json_and_every_report(seed8):
    from compare.report.html import render_html
    from compare.report.markdown import render_markdown
    from compare.report.text import render_text

    assert json.loads(json.dumps(seed8.to_dict()))["count_batch"] == 8
    for text in (render_text([seed8]), render_markdown([seed8]), render_html([seed8])):
        assert "work at batch 8" in text
        assert "peak activation bytes (batch 8)" in text or "(batch 8)" in text


# -- shape-only mode: counted, and the same counts -----------------------------------------


def _more():
    from compare.specfile import load_lenient

    return [
        *load_lenient("compare/catalog/seed.toml"),
        *load_lenient("compare/catalog/attention.toml"),
    ]


@pytest.mark.parametrize("model", CASES + _more()[1:3], ids=lambda m: m.name)
def test_shape_only_counts_are_the_counters_on_the_built_model(model):
    """Shape-only figures are what the counters count on the real model, node by node
    (``count_pair`` on a real build, which tests/test_counting.py holds against the
    counters run there), except the kinds that are not counted without data: no figure,
    and a note saying why."""
    full = count_pair(build(model))
    shaped = compare_model(model, parity=False, count=True)
    assert shaped.parity.status in ("skipped", "unsupported")
    for layer in shaped.layers:
        for name in ("torch", "keras"):
            got = layer.frameworks[name].flops
            if not model.layers[layer.index].counted_shape_only:
                assert got is None
                assert "not counted in shape-only mode" in layer.count_notes[0]
            elif layer.frameworks[name].supported:
                assert got == full[name].per_node[layer.index], (layer.index, name)


def test_recurrent_and_attention_are_the_kinds_counted_otherwise_without_data():
    """Why those kinds are skipped in shape-only mode: the counters, run here on the real
    model and on the one without weight memory, disagree on them."""
    import torch

    lstm = torch.nn.LSTM(8, 16, batch_first=True)
    real = torch_flops(lstm, [torch.zeros(1, 5, 8)])
    with torch.device("meta"):
        meta_lstm = torch.nn.LSTM(8, 16, batch_first=True)
    meta = torch_flops(meta_lstm, [torch.zeros(1, 5, 8, device="meta")])
    assert real == 0  # aten.lstm on the CPU: no formula in the counter
    assert meta == 5 * 2 * (4 * 16 * 8 + 4 * 16 * 16)  # decomposed: both matmuls per step
    model = next(m for m in _more() if m.name == "self_attention")
    full = count_pair(build(model))
    shaped = build(model, shape_only=True)
    try:
        meta_counts = count_pair(shaped)
    finally:
        from compare.adapters import get_adapter

        get_adapter("keras").clear()
    assert meta_counts["torch"].per_node[0] > full["torch"].per_node[0]


@pytest.mark.parametrize(
    ("name", "parity"),
    [
        ("seed", False),
        ("squeeze_excitation", False),
        ("vit_encoder_block", True),
        ("lstm_classifier", True),
    ],
)
def test_figures_at_batch_n_are_the_counters_on_n_real_samples(name, parity):
    model = next(m for m in CASES + _more() if m.name == name)
    full = build(model)
    shape = full.formulas[0].input
    result = compare_model(model, parity=parity, count=True, count_batch=3)
    totals = result.totals()
    assert totals["torch"]["flops"] == torch_flops(full.torch, [torch_zeros(shape, batch=3)])
    assert totals["keras"]["flops"] == tf_flops(full.keras, shape, 3)
    assert totals["torch"]["param_bytes"] == 4 * sum(p.numel() for p in full.torch.parameters())
    assert totals["formula_macs"] == 3 * compare_model(model, parity=False).totals()["formula_macs"]


# -- bad values, the CLI ------------------------------------------------------------------


@pytest.mark.parametrize("bad", [0, -1, 2**20 + 1])
def test_a_bad_batch_size_is_refused_with_the_rule(bad):
    with pytest.raises(ValueError, match=rf"count_batch={bad} must be in \[1, 1048576\]"):
        compare_model(seed_model(), count_batch=bad)


def test_a_batch_size_that_is_not_an_int_is_refused():
    with pytest.raises(TypeError, match=r"count_batch=2\.0 must be an int"):
        compare_model(seed_model(), count_batch=2.0)  # type: ignore[arg-type]


def test_show_batch_prints_the_figures_at_that_batch(capsys):
    from compare.cli import main

    assert main(["show", "--batch", "4", "--no-parity"]) == 0
    out = capsys.readouterr().out
    assert "work at batch 4" in out
    total = f"total: {4 * 1_948_320:,} MACs; PyTorch {4 * 3_896_640:,} FLOPs; "
    assert total + f"TensorFlow {4 * 3_928_298:,} FLOPs" in out


def test_show_refuses_a_bad_batch_naming_the_option(capsys):
    from compare.cli import main

    with pytest.raises(SystemExit):
        main(["show", "--batch", "zero"])
    assert "--batch='zero': must be an integer in [1, 1048576]" in capsys.readouterr().err
