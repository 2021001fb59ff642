"""The HTML report opened in a real headless browser (Debian's chromium).

Runs ``scripts/check_html`` on a small report: the browser's DOM must hold the tables
and charts, and its screenshot must show table headers and bars in both framework
colours. The screenshot is kept in artifacts/ (ignored by git).
"""

import subprocess
import sys
from pathlib import Path

import pytest

from compare.report.write import write_reports

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "check_html.py"
CHROMIUM = Path("/usr/bin/chromium")

pytestmark = pytest.mark.skipif(
    not CHROMIUM.is_file(),
    reason="Debian's chromium is not installed (/usr/bin/chromium is missing); "
    "apt-get install chromium to run the browser check",
)


@pytest.fixture(scope="module")
def small_html(tmp_path_factory):
    from compare import batch

    files = batch.sources(["tests/data/report/tiny.toml", "tests/data/report/one.json"])
    results = batch.compare_all(
        batch.load_all([batch.Source(ROOT / f.path, f.shown) for f in files])
    )
    out = tmp_path_factory.mktemp("html")
    write_reports(results, out, ["html"], sources=[f.shown for f in files])
    return out / "report.html"


def check(page: Path, screenshot: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(page), "--screenshot", str(screenshot)],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_report_renders_its_tables_and_charts_in_chromium(small_html):
    screenshot = ROOT / "artifacts" / "test_report.png"
    proc = check(small_html, screenshot)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "3 model sections" in proc.stdout and "'layers': 3" in proc.stdout
    assert screenshot.stat().st_size > 10_000


def test_the_check_fails_on_a_page_without_chart(small_html, tmp_path):
    page = tmp_path / "broken.html"
    text = small_html.read_text(encoding="utf-8")
    page.write_text(text.replace("<svg", "<div hidden").replace("</svg>", "</div>"), "utf-8")
    proc = check(page, tmp_path / "broken.png")
    assert proc.returncode == 1
    assert "no SVG chart with bars" in proc.stderr
    assert "the screenshot shows no torch bars" in proc.stderr
