"""Open an HTML report in a real headless browser and check that it renders.

Usage: scripts/check_html [REPORT_HTML] [--screenshot PNG]

Defaults: reports/report.html, screenshot artifacts/report.png (an ignored directory;
the screenshot is an artefact for people, never committed). Uses Debian's chromium
(/usr/bin/chromium, or $CHROMIUM) with a fresh profile and every network feature off.

Checks, on what the browser built (its DOM) and drew (its screenshot):
* the DOM holds the overview table, one layer table and one SVG chart with bars per model;
* the screenshot shows table header cells and bars in both framework colours.

Exit codes: 0 the page renders, 1 a check failed, 2 usage error or no browser.
Only the standard library is used (the PNG is decoded here), plus the chart colours
from compare.report.chart.
"""

from __future__ import annotations

import argparse
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from compare.report.chart import COLOURS  # noqa: E402

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
    "--force-color-profile=srgb",
]
HEADER_BG = "#e9ecef"  # th background in compare.report.html.CSS
MIN_PIXELS = 40


class _Counter(HTMLParser):
    """Counts tables by class, SVG charts and their bars, per section."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: Counter[str] = Counter()
        self.sections = 0
        self.charts = 0
        self.bars = 0
        self.in_chart = False
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "table":
            self.tables[a.get("class") or ""] += 1
        elif tag == "section":
            self.sections += 1
        elif tag == "svg" and "chart" in (a.get("class") or ""):
            self.charts += 1
            self.in_chart = True
        elif tag == "rect" and self.in_chart and a.get("width") not in (None, "0", "10"):
            self.bars += 1
        elif tag == "script":
            self.scripts += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg":
            self.in_chart = False


def _browser(args: list[str], timeout: int = 120) -> subprocess.CompletedProcess[str]:
    chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    profile = tempfile.mkdtemp(prefix="check-html-profile-")
    try:
        return subprocess.run(
            [chromium, *FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def _png_pixels(data: bytes) -> tuple[int, int, Counter[tuple[int, int, int]]]:
    """Width, height and a colour histogram of an 8-bit, non-interlaced RGB(A) PNG."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG file")
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    if depth != 8 or colour not in (2, 6) or interlace:
        raise ValueError(f"unsupported PNG: depth {depth}, colour type {colour}")
    bpp = 3 if colour == 2 else 4
    raw, stride = zlib.decompress(idat), width * bpp
    prev, histogram = bytearray(stride), Counter()
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up, corner = prev[i], prev[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                pred = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[i] = (line[i] + pred) & 255
        histogram.update(zip(line[0::bpp], line[1::bpp], line[2::bpp]))
        prev = line
    return width, height, histogram


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]


def check(page: Path, screenshot: Path) -> list[str]:
    """The problems found (an empty list when the page renders as it should)."""
    url = page.resolve().as_uri()
    problems = []
    dom = _browser(["--dump-dom", url])
    if dom.returncode != 0 or "<html" not in dom.stdout:
        return [f"chromium --dump-dom failed ({dom.returncode}): {dom.stderr.strip()[-500:]}"]
    found = _Counter()
    found.feed(dom.stdout)
    print(
        f"check_html: DOM: {found.sections} model sections, tables {dict(found.tables)}, "
        f"{found.charts} charts with {found.bars} bars, {found.scripts} scripts"
    )
    if found.tables["overview"] != 1:
        problems.append("the overview table is missing")
    if found.sections == 0:
        problems.append("no model section")
    if found.charts == 0 or found.bars == 0:
        problems.append("no SVG chart with bars")
    if found.tables["layers"] + found.charts < found.sections:
        problems.append("a model section has neither a layer table nor a chart")
    if found.scripts:
        problems.append("the page holds a script (it must not need one)")

    screenshot.parent.mkdir(parents=True, exist_ok=True)
    shot = _browser(["--window-size=1400,2400", f"--screenshot={screenshot}", url])
    if shot.returncode != 0 or not screenshot.is_file():
        return [*problems, f"chromium --screenshot failed: {shot.stderr.strip()[-500:]}"]
    width, height, colours = _png_pixels(screenshot.read_bytes())
    wanted = {"table header": HEADER_BG, **{f"{k} bars": v for k, v in COLOURS.items()}}
    counts = {what: colours[_rgb(hex_colour)] for what, hex_colour in wanted.items()}
    print(f"check_html: screenshot {screenshot} {width}x{height}, pixels: {counts}")
    problems += [
        f"the screenshot shows no {what} (colour {wanted[what]}: {n} pixels)"
        for what, n in counts.items()
        if n < MIN_PIXELS
    ]
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/check_html", description=__doc__.split("\n")[0])
    parser.add_argument("html", nargs="?", default=str(ROOT / "reports" / "report.html"))
    parser.add_argument("--screenshot", default=str(ROOT / "artifacts" / "report.png"))
    args = parser.parse_args(argv)
    chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    if not Path(chromium).is_file():
        print(
            f"check_html: no browser at {chromium}; install Debian's chromium "
            "(apt-get install chromium) or set CHROMIUM",
            file=sys.stderr,
        )
        return 2
    page = Path(args.html)
    if not page.is_file():
        print(f"check_html: {page}: no such file", file=sys.stderr)
        return 2
    problems = check(page, Path(args.screenshot))
    for problem in problems:
        print(f"check_html: FAIL: {page}: {problem}", file=sys.stderr)
    if not problems:
        print(f"check_html: ok: {page} renders its tables and charts")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
