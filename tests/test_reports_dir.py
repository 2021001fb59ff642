"""reports/ holds the catalogue report that ./scripts/report writes, and it is current.

The catalogue is reported again, in a separate process, into a temporary directory;
every committed file must match byte for byte. When it does not, run ./scripts/report
and commit reports/.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from compare.report.write import FILES

ROOT = Path(__file__).resolve().parents[1]


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
        if (tmp_path / name).read_bytes() != (ROOT / "reports" / name).read_bytes()
    ]
    assert not stale, f"reports/{stale} are stale: run ./scripts/report and commit reports/"
