"""Issue 16, class 5: user strings cannot inject formulas, break rows or drive a terminal.

Model names (and the errors that quote them) reach every output: CSV, Markdown, HTML,
JSON, the terminal table and the CLI's messages.
"""

import csv
import io
import json

import pytest

from compare import batch
from compare.cli import main
from compare.report.write import render
from compare.spec import model_from_dict

NAMES = [
    "=cmd|' /C calc'!A0",
    "+1+2",
    "-2-3",
    "@SUM(A1)",
    "carriage\rreturn",
    "new\nline",
    "esc\x1b[2J\x1b]0;title\x07",
    "csi\x9b31m",
    "bidi\u202eevil",
]
RAW = ("\r", "\x1b", "\x9b", "\u202e", "\x07")


def _results():
    items = []
    for name in NAMES:
        spec = {
            "name": name,
            "input": {"channels": 1, "size": [2]},
            "layers": [{"kind": "flatten"}],
        }
        items.append(model_from_dict(spec))
    bad = {"name": "bad\x1b[31m", "input": {"channels": 1, "size": [2]}, "layers": []}
    try:
        model_from_dict(bad)
    except Exception as exc:  # the spec error, carried as the model's result
        exc.model_name = bad["name"]
        items.append(exc)
    return batch.compare_all(items, parity=False)


@pytest.fixture(scope="module")
def results():
    return _results()


def test_csv_has_one_row_per_layer_and_no_formula_cell(results):
    text = render(results, "csv")
    assert not any(c in text for c in RAW)
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) == 1 + 2 * len(NAMES) + 1  # header, torch+keras per model, the error
    assert len(text.splitlines()) == len(rows)
    for row in rows[1:]:
        assert not row[0].startswith(("=", "+", "-", "@")), row[0]
    assert rows[1][0] == "'=cmd|' /C calc'!A0"


def test_markdown_rows_stay_rows(results):
    text = render(results, "md")
    assert not any(c in text for c in RAW)
    for line in text.splitlines():
        if line.startswith("| ") and "flatten" in line:
            assert line.rstrip().endswith("|"), line


def test_html_has_no_raw_control_character(results):
    text = render(results, "html")
    assert not any(c in text for c in RAW)
    assert "esc\\x1b[2J" in text


def test_json_keeps_the_names_exactly_with_escapes(results):
    text = render(results, "json")
    assert not any(c in text for c in RAW)
    names = [m["name"] for m in json.loads(text)["models"]]
    assert names[: len(NAMES)] == NAMES


def test_terminal_output_escapes_control_characters(tmp_path, capsys):
    path = tmp_path / "names.json"
    models = [
        {"name": n, "input": {"channels": 1, "size": [2]}, "layers": [{"kind": "flatten"}]}
        for n in NAMES
    ]
    models.append({"name": "bad\x1b[31m", "input": {"channels": 1, "size": [2]}, "layers": []})
    path.write_text(json.dumps({"models": models}))
    assert main(["show", str(path), "--no-parity"]) == 1
    out, err = capsys.readouterr()
    for stream in (out, err):
        assert not any(c in stream for c in RAW)
    assert "model 'esc\\x1b[2J\\x1b]0;title\\x07'" in out
    assert "bad\\x1b[31m" in err
