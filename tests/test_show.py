"""``python -m compare show``: the seed table, the JSON document, errors and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from compare.cli import main


@pytest.fixture(scope="module")
def seed_json():
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = main(["show", "--format", "json"])
    assert code == 0
    return json.loads(out.getvalue())


def test_show_prints_the_seed_table(capsys):
    assert main(["show"]) == 0
    out = capsys.readouterr().out
    for text in [
        "8*(3*3*40)+8 = 2888",
        "weight (8, 40, 3, 3) [O,I,H,W]",
        "conv_1/kernel (3, 3, 40, 8) [H,W,I,O]",
        "-> (None, 40, 26, 26)",
        "-> (None, 26, 26, 40)",
        "torch total: 49,378 params",
        "keras total: 49,378 params",
        "end-to-end parity: ok",
        "flatten_dense",
    ]:
        assert text in out


def test_json_document_keys(seed_json):
    (model,) = seed_json["models"]
    assert {"name", "input", "layers", "totals", "parity"} <= set(model)
    layer = model["layers"][1]
    assert {"index", "kind", "spec", "formula", "frameworks", "differences", "parity"} <= set(layer)
    assert layer["formula"]["expression"] == "8*(3*3*40)+8 = 2888"
    assert layer["formula"]["params"] == 2888
    for name, shape in (("torch", [None, 8, 24, 24]), ("keras", [None, 24, 24, 8])):
        record = layer["frameworks"][name]
        assert {
            "supported",
            "reason",
            "classes",
            "weights",
            "trainable_params",
            "non_trainable_params",
            "buffers",
            "output_shape",
        } <= set(record)
        assert record["output_shape"] == shape
        assert record["trainable_params"] == 2888
    assert layer["frameworks"]["keras"]["weights"][0]["shape"] == [3, 3, 40, 8]
    assert set(layer["parity"]) >= {"ok", "max_abs_err", "max_rel_err", "tolerance"}
    dense = model["layers"][3]
    naive = next(d for d in dense["differences"] if d["what"] == "flatten_dense")
    assert naive["naive_max_abs_err"] > 0.01
    assert model["totals"]["torch"]["params"] == model["totals"]["keras"]["params"] == 49378


def test_bad_model_among_good_ones(tmp_path, capsys):
    spec = tmp_path / "mixed.toml"
    spec.write_text(
        """
[[models]]
name = "bad"
input = { channels = 4, size = [8, 8] }
layers = [{ kind = "conv", filters = 6, kernel_size = 3, groups = 3 }]

[[models]]
name = "good"
input = { channels = 2, size = [6] }
layers = [{ kind = "conv", filters = 2, kernel_size = 3 }]
""",
        encoding="utf-8",
    )
    assert main(["show", str(spec)]) == 1
    captured = capsys.readouterr()
    assert "groups=3 must divide filters=6 and channels=4" in captured.err
    assert "model 'good'" in captured.out
    assert "model 'bad': ERROR" in captured.out


@pytest.mark.parametrize(
    ("name", "text", "match"),
    [
        ("missing.toml", None, r"missing.toml: no such file"),
        ("broken.toml", "[[models]\nname=1", r"broken.toml:1: invalid TOML"),
        ("broken.json", '{"models": [\n}', r"broken.json:2: invalid JSON"),
        ("broken.yaml", "models:\n  - name: [unclosed\n", r"broken.yaml:\d+: invalid YAML"),
        ("spec.txt", "x", r"unknown spec file type '.txt'"),
    ],
)
def test_unreadable_files_exit_2(tmp_path, capsys, name, text, match):
    import re

    path = tmp_path / name
    if text is not None:
        path.write_text(text, encoding="utf-8")
    assert main(["show", str(path)]) == 2
    err = capsys.readouterr().err
    assert re.search(match, err)
    assert "Traceback" not in err


def test_help_is_instant_and_imports_no_framework():
    code = (
        "import sys, contextlib, io\n"
        "from compare.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try: main(['--help'])\n"
        "    except SystemExit: pass\n"
        "print(sorted(m for m in ('torch', 'tensorflow', 'keras') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
