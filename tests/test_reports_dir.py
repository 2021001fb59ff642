"""reports/ holds the catalogue report that ./scripts/report writes, and it is current.

The catalogue is reported again, in a separate process, into a temporary directory;
every committed file must match it, up to floating-point round-off: the same text,
and every figure equal within 1e-5 of its size. Round-off differs between CPUs (oneDNN
picks its kernels by the instructions a CPU has: a naive check measured 0 on one
machine reads 1.2e-07 on another), while a change of the code changes the text or a
figure beyond it. When they do not match, run ./scripts/report and commit reports/.
"""

import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from compare.report.write import FILES

ROOT = Path(__file__).resolve().parents[1]

NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
#: Figures within this of each other, relative to their size (or 1), are round-off.
ROUND_OFF = 1e-5


def same_up_to_round_off(a: str, b: str) -> bool:
    """Whether two reports have the same text and figures within ``ROUND_OFF``.

    Example:
        >>> same_up_to_round_off("err **0**: a 3", "err **1.2e-07**: a 3")
        True
        >>> same_up_to_round_off("err 0.5", "err 0.6"), same_up_to_round_off("a 1", "b 1")
        (False, False)
    """
    if NUMBER.split(a) != NUMBER.split(b):
        return False
    xs, ys = NUMBER.findall(a), NUMBER.findall(b)
    return all(
        x == y or math.isclose(float(x), float(y), rel_tol=ROUND_OFF, abs_tol=ROUND_OFF)
        for x, y in zip(xs, ys, strict=True)
    )


def test_round_off_is_all_that_is_forgiven():
    assert same_up_to_round_off('{"err": 0.0, "n": 3}', '{"err": 1.1920928955078125e-07, "n": 3}')
    assert not same_up_to_round_off('{"err": 0.0, "n": 3}', '{"err": 0.0, "n": 4}')
    assert not same_up_to_round_off("max abs diff **0.49**", "max abs diff **0.5**")
    assert not same_up_to_round_off("kernel (3, 2)", "kernel (2, 3)")
    assert not same_up_to_round_off("ok", "mismatch")


@pytest.mark.slow
def test_committed_reports_match_a_fresh_run(tmp_path):
    env = {**os.environ, "KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.run(
        [sys.executable, "-m", "compare", "report", "-o", str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    missing = [name for name in FILES.values() if not (ROOT / "reports" / name).is_file()]
    assert not missing, f"reports/ lacks {missing}: run ./scripts/report and commit reports/"
    stale = [
        name
        for name in FILES.values()
        if not same_up_to_round_off(
            (tmp_path / name).read_text(encoding="utf-8"),
            (ROOT / "reports" / name).read_text(encoding="utf-8"),
        )
    ]
    assert not stale, f"reports/{stale} are stale: run ./scripts/report and commit reports/"
