"""The benchmark script's contestants run and agree (a smoke test, no timing asserted)."""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench", ROOT / "scripts" / "bench.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bare_script_ports_correctly(bench):
    errors = bench.bare_batch(bench.Bare(), bench.random_specs(12, seed=3))
    assert len(errors) == 12 and max(errors) < 1e-4


def test_sweep_times_every_contestant_on_the_same_specs(bench):
    comps = {"report": bench.Compare(), "no-diagnostics": bench.Compare(diagnostics=False)}
    out = bench.sweep_times(bench.BLOCK, bench.Bare(), comps)
    assert out["bare_ms"] > 0
    for who in comps:
        assert out[who]["ms"] > 0 and out[who]["median_block_ratio"] > 0


def test_both_compare_modes_report_the_same_parity(bench):
    import json

    specs = bench.random_specs(4, seed=7)
    full, _ = bench.Compare()(specs)
    lean, _ = bench.Compare(diagnostics=False)(specs)
    full_doc, lean_doc = json.loads(full), json.loads(lean)
    assert [m["parity"] for m in full_doc["models"]] == [m["parity"] for m in lean_doc["models"]]
    assert all(m["status"] == "ok" for m in full_doc["models"])


def test_real_model_rows_pair_time_by_round_and_rss_by_medians():
    spec = importlib.util.spec_from_file_location("bm", ROOT / "scripts" / "bench_models.py")
    bm = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bm)

    def run(who, seconds, rss):
        return {
            "model": "vgg16",
            "who": who,
            "seconds": seconds,
            "peak_rss_mib": rss,
            "status": "ok",
            "params": 7,
        }

    # three rounds, as ``measure`` runs them: the bare script, then each mode
    runs = []
    for bare_s, mode_s, rss in ((2.0, 3.0, 100.0), (4.0, 5.0, 300.0), (3.0, 9.0, 200.0)):
        runs += [run("bare", bare_s, rss), *(run(who, mode_s, 250.0) for who in bm.MODES)]
    rows = {r["who"]: r for r in bm.rows(runs)}
    # paired: median(3/2, 5/4, 9/3) = 1.5; of the medians: 5/3; RSS medians 250/200
    assert rows["full"]["time_ratio"] == pytest.approx(1.5)
    assert rows["full"]["time_ratio_of_medians"] == pytest.approx(5 / 3)
    assert rows["full"]["rss_ratio"] == pytest.approx(1.25)
    assert rows["full"]["targets"] == (1.2, 1.15)
    assert bm.rows([{"model": "resnet50", "who": "all", "error": ["why"]}])[0]["error"]
