"""Issue 16, class 6: the report's files are one unit, whatever interrupts the write.

SIGKILL is simulated deterministically in a child process (``os._exit`` at a chosen
step of the write), SIGINT by raising or delivering it at a chosen step: no timing.
"""

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from compare.cli import main
from compare.records import ModelResult
from compare.report import write as report_write
from compare.report.write import FILES, STAGING_PREFIX, recover_reports, write_reports

OLD = {name: f"old {name}\n" for name in FILES.values()}


def _old_report(out):
    out.mkdir(exist_ok=True)
    for name, text in OLD.items():
        (out / name).write_text(text)


def _state(out):
    return {p.name: p.read_text() for p in out.iterdir() if p.is_file()}


def _killed_at(out, step: str, count: int) -> None:
    """Run write_reports in a child that dies (os._exit: no cleanup) at ``step``."""
    code = textwrap.dedent(
        f"""
        import os
        from compare.report import write
        calls = []
        real = {{"replace": os.replace, "fsync": os.fsync}}[{step!r}]
        def dying(*a, **k):
            calls.append(1)
            if len(calls) == {count}:
                os._exit(9)
            return real(*a, **k)
        setattr(os, {step!r}, dying)
        write.write_reports([], {str(out)!r})
        """
    )
    done = subprocess.run([sys.executable, "-c", code], check=False, cwd=os.getcwd())
    assert done.returncode == 9


def test_killed_between_renames_is_finished_by_the_next_run(tmp_path):
    out = tmp_path / "r"
    _old_report(out)
    _killed_at(out, "replace", 3)  # two files swapped in, two not
    mixed = _state(out)
    assert sum(text.startswith("old") for text in mixed.values()) == 2
    assert recover_reports(out)
    after = _state(out)
    assert set(after) == set(FILES.values())
    assert not any(text.startswith("old") for text in after.values())
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_killed_while_staging_leaves_the_old_report_and_no_temp_file(tmp_path):
    out = tmp_path / "r"
    _old_report(out)
    _killed_at(out, "fsync", 2)  # the second staged file is being synced
    assert _state(out) == OLD
    write_reports([ModelResult("m", None, (), error="boom")], out)  # the next run cleans up
    assert not [p for p in out.iterdir() if p.name.startswith(".")]
    assert "boom" in (out / "report.md").read_text()


def test_sigint_while_staging_exits_130_with_one_line_and_old_files(tmp_path, monkeypatch, capsys):
    out = tmp_path / "r"
    _old_report(out)
    real = os.fsync
    calls = []

    def interrupted(fd):
        calls.append(fd)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(fd)

    monkeypatch.setattr(report_write.os, "fsync", interrupted)
    spec = tmp_path / "m.toml"
    spec.write_text(
        'name = "m"\ninput = {channels = 1, size = [2]}\nlayers = [{kind = "flatten"}]\n'
    )
    assert main(["report", str(spec), "-o", str(out), "--no-parity"]) == 130
    err = capsys.readouterr().err
    assert err == "error: interrupted: no report file was changed\n"
    assert _state(out) == OLD
    assert sorted(p.name for p in out.iterdir()) == sorted(OLD)


@pytest.fixture
def python_sigint():
    """Python's own Ctrl-C handler, as a CLI process has it (a test run may have another)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_sigint_during_the_swap_is_held_until_the_set_is_complete(
    tmp_path, monkeypatch, capsys, python_sigint
):
    out = tmp_path / "r"
    _old_report(out)
    real = os.replace

    def replace(src, dst):
        if os.path.basename(dst) == "report.html":
            signal.raise_signal(signal.SIGINT)  # Ctrl-C in the middle of the swap
        return real(src, dst)

    monkeypatch.setattr(report_write.os, "replace", replace)
    spec = tmp_path / "m.toml"
    spec.write_text(
        'name = "m"\ninput = {channels = 1, size = [2]}\nlayers = [{kind = "flatten"}]\n'
    )
    assert main(["report", str(spec), "-o", str(out), "--no-parity"]) == 130
    assert capsys.readouterr().err == "error: interrupted after the report was written (4 files)\n"
    assert not any(text.startswith("old") for text in _state(out).values())
    assert not [p for p in out.iterdir() if p.name.startswith(STAGING_PREFIX)]


def test_a_live_writers_staging_folder_is_left_alone(tmp_path):
    out = tmp_path / "r"
    out.mkdir()
    live = out / f"{STAGING_PREFIX}live"
    live.mkdir()
    fd = report_write._lock(live, wait=True)
    try:
        assert recover_reports(out) == []
        assert live.exists()
    finally:
        report_write._unlock(fd)
    assert recover_reports(out) == [live.name]
    assert not live.exists()


@pytest.mark.parametrize("where", ["load", "compare"])
def test_sigint_anywhere_in_the_cli_is_one_line(where, tmp_path, monkeypatch, capsys):
    from compare import batch

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(batch, "load_all" if where == "load" else "compare_all", interrupted)
    assert main(["report", "-o", str(tmp_path / "r")]) == 130
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "r").exists()
