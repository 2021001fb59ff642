"""Report files: golden Markdown and CSV, byte-identical reruns, escaping, atomic writes.

The small spec set under tests/data/report/ is reported by the real CLI in a separate
process (twice, with different hash seeds, for determinism). Regenerate the golden
files with ``pytest tests/test_report_files.py --regen-golden``.
"""

import csv
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from compare.report import write as report_write
from compare.report.fmt import err_bucket, sig2
from compare.report.write import FILES, FORMATS, write_atomic, write_reports
from compare.table import COLUMNS

ROOT = Path(__file__).resolve().parents[1]
SPECS = [
    "tests/data/report/tiny.toml",
    "tests/data/report/more.yaml",
    "tests/data/report/one.json",
]
GOLDEN = ROOT / "tests" / "golden"
HOSTILE = "<script>alert('x')</script> & \"q\" <img src=x onerror=alert(1)>"


def run_report(out: Path, hash_seed: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    env.update(KERAS_BACKEND="tensorflow", TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run(
        [sys.executable, "-m", "compare", "report", *SPECS, "-o", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def small_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report-a")
    return out, run_report(out, "1")


def test_small_report_exit_code_and_summary(small_report):
    out, proc = small_report
    assert proc.returncode == 1, proc.stderr  # the unknown kind fails the batch
    assert "Traceback" not in proc.stderr
    assert "\r" not in proc.stderr  # no progress bar when stderr is not a terminal
    assert (
        "error: tests/data/report/more.yaml: model 'unknown_kind', layer 0: "
        "unknown kind='pool'" in proc.stderr
    )
    assert proc.stderr.rstrip().endswith(
        "5 models, 9 layers, 21 differences, 0 parity failures, 1 error, 1 unsupported"
    )
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES.values())


@pytest.mark.parametrize("fmt", ["md", "csv"])
def test_golden(small_report, fmt, request):
    out, _ = small_report
    name = FILES[fmt]
    produced = (out / name).read_bytes()
    if request.config.getoption("--regen-golden"):
        GOLDEN.mkdir(exist_ok=True)
        (GOLDEN / name).write_bytes(produced)
        pytest.skip(f"regenerated tests/golden/{name}")
    expected = (GOLDEN / name).read_bytes()
    assert produced.decode() == expected.decode(), (
        f"{name} differs from tests/golden/{name}; if the change is intended, run "
        "pytest tests/test_report_files.py --regen-golden and review the diff"
    )


def test_two_processes_give_identical_bytes(small_report, tmp_path):
    first, _ = small_report
    proc = run_report(tmp_path, "2")
    assert proc.returncode == 1, proc.stderr
    for name in FILES.values():
        assert (tmp_path / name).read_bytes() == (first / name).read_bytes(), name


def test_no_absolute_paths_or_timestamps(small_report):
    out, _ = small_report
    for name in FILES.values():
        text = (out / name).read_text(encoding="utf-8")
        assert str(ROOT) not in text and str(out) not in text, name
        assert not re.search(r"\d{4}-\d\d-\d\d|\d\d:\d\d:\d\d", text), name


def test_json_and_csv_agree_and_hold_stable_numbers(small_report):
    out, _ = small_report
    doc = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert doc["sources"] == SPECS
    verdicts = {m["name"]: m["verdict"] for m in doc["models"]}
    assert verdicts == {
        "tiny_conv_dense": "ok",
        "strided_dilated": "unsupported",
        "aliases_1d": "ok",
        "unknown_kind": "error",
        "separable_same": "ok",
    }
    assert doc["summary"]["errors"] == 1 and doc["summary"]["parity_failures"] == 0
    table = list(csv.DictReader(io.StringIO((out / "report.csv").read_text(encoding="utf-8"))))
    assert tuple(table[0]) == COLUMNS
    for model in doc["models"]:
        mine = [r for r in table if r["model"] == model["name"]]
        assert len(mine) == max(1, 2 * len(model["layers"]))
        for fw in ("torch", "keras"):
            counts = [int(r["params"]) for r in mine if r["framework"] == fw and r["params"]]
            total = model["totals"][fw]["params"]
            if total is not None:
                assert sum(counts) == total
        for layer in model["layers"]:
            p = layer["parity"]
            if p["status"] == "ok":  # a passing error is a power-of-ten upper bound
                assert p["max_abs_err"] == err_bucket(p["max_abs_err"])
                assert p["max_abs_err"] >= 0.95 * p["tolerance"] / 10


# Per-layer parameter counts of tests/data/report/, by hand: independent of the code that
# wrote the golden files, so a golden file regenerated from a wrong count fails here.
HAND_PARAMS = {
    # Conv(3, 3x3) on 2 channels; Flatten; Dense(4) on 3*4*4 features
    "tiny_conv_dense": [3 * (3 * 3 * 2) + 3, 0, 4 * (3 * 4 * 4) + 4],
    # conv1d(4, k=3) on 2 channels; Dense(3, no bias) on the 4 channels of the map
    "aliases_1d": [4 * (3 * 2) + 4, 3 * 4],
    # separable: 3x3 depthwise on 3 channels, 3 -> 4 pointwise, 4 biases;
    # depthwise 2x2, multiplier 2, on 4 channels, 8 biases
    "separable_same": [3 * 9 + 3 * 4 + 4, 4 * 2 * 4 + 8],
    # Conv(2, 3x3) on 1 channel; Conv(2, 1x1) on 2 channels (Keras refuses the first)
    "strided_dilated": [2 * 9 + 2, 2 * 2 + 2],
}


@pytest.mark.parametrize("source", ["golden", "fresh"])
def test_report_counts_are_the_hand_counts(small_report, source):
    out, _ = small_report
    path = GOLDEN / FILES["csv"] if source == "golden" else out / FILES["csv"]
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    for name, counts in HAND_PARAMS.items():
        for fw in ("torch", "keras"):
            mine = [r for r in rows if r["model"] == name and r["framework"] == fw]
            assert [int(r["formula_params"]) for r in mine] == counts, (name, fw)
            built = [int(r["params"]) for r in mine if r["supported"] == "True"]
            if name == "strided_dilated" and fw == "keras":
                assert [r["supported"] for r in mine] == ["False", "True"]
                assert built == counts[1:]
            else:
                assert built == counts, (name, fw)
    assert not [r for r in rows if r["model"] == "unknown_kind" and r["params"]]


@pytest.mark.parametrize(
    ("value", "bucket"),
    [(1e-06, 1e-06), (9.99e-07, 1e-06), (1.0000001e-06, 1e-05), (0.3, 1.0), (12.0, 100.0)],
)
def test_err_bucket_edges(value, bucket):
    assert err_bucket(value) == bucket


def test_sig2_is_two_significant_digits():
    assert (sig2(123456.0), sig2(-0.0012345), sig2(float("inf"))) == (120000.0, -0.0012, None)


@pytest.fixture(scope="module")
def hostile_results():
    from compare import batch
    from compare.specfile import parse_text

    text = json.dumps(
        {
            "models": [
                {
                    "name": HOSTILE,
                    "input": {"channels": 1, "size": [2]},
                    "layers": [{"kind": "flatten"}],
                },
                {
                    "name": HOSTILE + " (bad)",
                    "input": {"channels": 1, "size": [2]},
                    "layers": [{"kind": "dense", "units": 0}],
                },
            ]
        }
    )
    return batch.compare_all(parse_text(text, "json", "<hostile>.json"))


def test_html_escapes_a_hostile_model_name(hostile_results):
    from compare.report.html import render_html

    page = render_html(hostile_results, sources=["<b>file</b>.json"])
    assert "<script>" not in page and "<img" not in page and "<b>file" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;q&quot;" in page
    assert page.count("&lt;img src=x onerror=alert(1)&gt;") >= 4  # overview, heading, chart


def test_markdown_escapes_a_hostile_model_name(hostile_results):
    from compare.report.markdown import render_markdown

    text = render_markdown(hostile_results)
    assert "<script>" not in text and "<img" not in text
    assert "&lt;script&gt;" in text


def test_write_atomic_failure_leaves_the_old_file(tmp_path):
    target = tmp_path / "report.md"
    target.write_text("old\n", encoding="utf-8")
    with pytest.raises(UnicodeEncodeError, match="surrogates not allowed"):
        write_atomic(target, "half written \ud800 never lands")
    assert target.read_text(encoding="utf-8") == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["report.md"]


def test_a_failing_renderer_writes_no_file(tmp_path, monkeypatch):
    real = report_write.render

    def render(models, fmt, **kw):
        if fmt == "json":
            raise RuntimeError("renderer failed")
        return real(models, fmt, **kw)

    monkeypatch.setattr(report_write, "render", render)
    with pytest.raises(RuntimeError, match=r"^renderer failed$"):
        write_reports([], tmp_path, FORMATS)
    assert list(tmp_path.iterdir()) == []
