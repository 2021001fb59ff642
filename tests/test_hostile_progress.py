"""The CLI's progress bar is rich's, shown on a terminal only, and safe with any name."""

import io
import os
import subprocess
import sys

from compare.cli import _ProgressBar, main


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _drawn(*updates):
    stream = _Terminal()
    bar = _ProgressBar(stream)
    for update in updates:
        bar(*update)
    bar.close()
    return stream.getvalue()


def test_progress_bar_draws_on_a_terminal_and_leaves_no_line():
    text = _drawn((1, 2, "first"), (2, 2, "second"))
    assert "2/2" in text and "second" in text
    assert text.endswith("\x1b[2K")  # transient: the line is cleared for the summary


def test_progress_bar_shows_names_as_plain_escaped_text():
    assert "[bold]markup[/]" in _drawn((1, 1, "[bold]markup[/]"))
    text = _drawn((1, 1, "esc\x1b[2J"))
    assert "esc\x1b[2J" not in text and "esc\\x1b[2J" in text


def test_no_progress_bar_off_a_terminal(tmp_path, capsys):
    spec = tmp_path / "m.toml"
    spec.write_text(
        'name = "m"\ninput = {channels = 1, size = [2]}\nlayers = [{kind = "flatten"}]\n'
    )
    assert main(["report", str(spec), "-o", str(tmp_path / "r"), "--no-parity"]) == 0
    err = capsys.readouterr().err
    assert err.splitlines()[0].startswith("wrote ") and "\x1b" not in err


def test_help_imports_no_progress_library():
    probe = (
        "import runpy, sys\nsys.argv = ['compare', '--help']\ntry:\n"
        "    runpy.run_module('compare', run_name='__main__')\nexcept SystemExit:\n    pass\n"
        "print('rich' in sys.modules, 'torch' in sys.modules)"
    )
    env = {**os.environ, "KERAS_BACKEND": "tensorflow"}
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env)
    assert out.stdout.split()[-2:] == ["False", "False"]
