"""``python -m compare report``: bad input of every kind gets a clear message and exit code.

Exit codes: 0 all fine, 1 some model failed (invalid spec, framework error, parity
mismatch), 2 usage error or a file that cannot be read or parsed. Messages name the
file, and the line when the parser gives one; no traceback.
"""

import io
import json
import sys

import pytest

from compare.cli import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, main

GOOD = {
    "name": "good_dense",
    "input": {"channels": 3, "size": []},
    "layers": [{"kind": "dense", "units": 2}],
}


def run(capsys, *argv):
    code = main(["report", *map(str, argv)])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("bad.toml", 'name = "x"\nlayers = [\n  { kind = "conv" \n', "bad.toml:3: invalid TOML"),
        ("bad.yaml", "models:\n  - name: a\n    layers: [\n", "bad.yaml:4: invalid YAML"),
        ("bad.yml", "name: a\nbad: b: c\n", "bad.yml:2: invalid YAML: mapping values"),
        ("bad.json", '{"name": "x",\n "layers": [}\n', "bad.json:2: invalid JSON"),
        ("empty.json", "", "empty.json:1: invalid JSON"),
        ("evil.yaml", "!!python/object/apply:os.system ['true']\n", "evil.yaml:1: invalid YAML"),
        ("shape.toml", 'name = "no layers"\n', "shape.toml: expected a model"),
        ("spec.txt", "", "spec.txt: unknown spec file type '.txt'"),
    ],
)
def test_unparsable_file_is_a_usage_error_naming_file_and_line(
    capsys, tmp_path, name, text, expected
):
    code, err = run(capsys, write(tmp_path / name, text), "-o", tmp_path / "out")
    assert code == EXIT_USAGE
    assert f"error: {tmp_path / expected}" in err
    assert not (tmp_path / "out").exists()  # nothing is built or written


def test_missing_files_are_all_named(capsys, tmp_path):
    code, err = run(capsys, tmp_path / "a.toml", tmp_path / "b.json", "-o", tmp_path / "out")
    assert code == EXIT_USAGE
    assert f"error: {tmp_path / 'a.toml'}: no such file" in err
    assert f"error: {tmp_path / 'b.json'}: no such file" in err


def test_directory_given_as_a_spec_file(capsys, tmp_path):
    (tmp_path / "d.toml").mkdir()
    code, err = run(capsys, tmp_path / "d.toml", "-o", tmp_path / "out")
    assert code == EXIT_USAGE
    assert "d.toml: is a directory, not a spec file" in err


def test_unknown_format_is_a_usage_error(capsys, tmp_path):
    code, err = run(capsys, "--format", "md,pdf", "-o", tmp_path)
    assert code == EXIT_USAGE
    assert "--format='md,pdf': unknown format(s) pdf; choose from md,html,csv,json" in err


def test_unknown_option_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["report", "--bogus"])
    assert exc.value.code == EXIT_USAGE


def test_unknown_kind_is_a_failed_model_with_a_row(capsys, tmp_path):
    spec = write(
        tmp_path / "m.toml",
        '[[models]]\nname = "pooled"\ninput = { channels = 1, size = [4, 4] }\n'
        'layers = [{ kind = "pool", size = 2 }]\n',
    )
    code, err = run(capsys, spec, "-o", tmp_path / "out", "--format", "md,csv")
    assert code == EXIT_FAILED
    message = "model 'pooled', layer 0: unknown kind='pool'; known kinds: activation, add, "
    assert message in err
    assert "unknown kind='pool'" in (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    table = (tmp_path / "out" / "report.csv").read_text(encoding="utf-8").splitlines()
    assert len(table) == 2 and table[1].startswith("pooled,") and message in table[1]
    assert err.rstrip().endswith("1 error, 0 unsupported")


def test_a_bad_model_among_good_ones_does_not_stop_the_batch(capsys, tmp_path):
    bad = {**GOOD, "name": "bad_units", "layers": [{"kind": "dense", "units": -1}]}
    spec = write(tmp_path / "m.json", json.dumps({"models": [GOOD, bad, {**GOOD, "name": "g2"}]}))
    code, err = run(capsys, spec, "-o", tmp_path / "out", "--format", "json")
    assert code == EXIT_FAILED
    assert "units=-1 must be an integer >= 1" in err
    doc = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert [(m["name"], m["verdict"]) for m in doc["models"]] == [
        ("good_dense", "ok"),
        ("bad_units", "error"),
        ("g2", "ok"),
    ]
    assert doc["models"][0]["totals"]["keras"]["params"] == 8
    assert "3 models, 2 layers" in err and "1 error" in err


def test_all_good_exits_zero(capsys, tmp_path):
    spec = write(tmp_path / "m.json", json.dumps(GOOD))
    code, err = run(capsys, spec, "-o", tmp_path / "out", "--format", "md")
    assert code == EXIT_OK
    assert err.rstrip().endswith(
        "1 model, 1 layer, 1 difference, 0 parity failures, 0 errors, 0 unsupported"
    )


def test_unwritable_output_is_a_usage_error_naming_it(capsys, tmp_path):
    spec = write(tmp_path / "m.json", json.dumps(GOOD))
    blocker = write(tmp_path / "file", "")
    code, err = run(capsys, spec, "-o", blocker / "sub", "--format", "md")
    assert code == EXIT_USAGE
    assert f"error: {blocker / 'sub'}: cannot write the report" in err


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_only_on_a_terminal(monkeypatch, tmp_path):
    spec = write(tmp_path / "m.json", json.dumps({"models": [GOOD, {**GOOD, "name": "g2"}]}))
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    code = main(["report", str(spec), "-o", str(tmp_path / "out"), "--format", "csv"])
    text = terminal.getvalue()
    assert code == EXIT_OK
    assert "2/2" in text and " g2" in text  # rich's bar, drawn on the terminal ...
    assert "\x1b[1A\x1b[2Kwrote " in text  # ... then cleared before the summary
    assert text.endswith(
        "2 models, 2 layers, 2 differences, 0 parity failures, 0 errors, 0 unsupported\n"
    )


def test_interrupted_run_leaves_the_previous_report(capsys, monkeypatch, tmp_path):
    from compare import batch

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    spec = write(tmp_path / "m.json", json.dumps(GOOD))
    out = tmp_path / "out"
    out.mkdir()
    write(out / "report.md", "previous\n")
    monkeypatch.setattr(batch, "compare_all", interrupted)
    code, err = run(capsys, spec, "-o", out)
    assert code == EXIT_INTERRUPTED
    assert "error: interrupted: no report file was changed" in err
    assert [p.name for p in out.iterdir()] == ["report.md"]
    assert (out / "report.md").read_text(encoding="utf-8") == "previous\n"
