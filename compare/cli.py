"""Command line: ``python -m compare show|report``.

No framework is imported before a command needs it, so ``--help`` and spec errors
are instant. Exit codes: 0 all fine, 1 some model failed (invalid, unsupported,
error or parity mismatch), 2 usage error or unreadable file.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

TYPE_CHECKING = False  # typing and json load only when a command runs: --help stays instant
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

__all__ = ["main"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
REPORT_FORMATS = ("md", "json")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m compare",
        description="Build one layer spec for real in PyTorch and Keras and compare them.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    show = sub.add_parser("show", help="print a side-by-side table (default: the seed model)")
    show.add_argument("specs", nargs="*", metavar="SPEC_FILE", help="TOML, JSON or YAML spec files")
    show.add_argument("--format", choices=("text", "json"), default="text")
    show.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    _add_run_options(show)
    report = sub.add_parser("report", help="write a batch report (default: the catalogue)")
    report.add_argument(
        "specs", nargs="*", metavar="SPEC_FILE", help="TOML, JSON or YAML spec files"
    )
    report.add_argument(
        "-o", "--output", default="reports", metavar="DIR", help="default: reports/"
    )
    report.add_argument(
        "--format",
        default=",".join(REPORT_FORMATS),
        help=f"comma-separated, from {', '.join(REPORT_FORMATS)} (default: all)",
    )
    report.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    _add_run_options(report)
    return parser


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"--jobs={text!r}: must be an integer >= 1")
    return value


def _add_run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-j",
        "--jobs",
        type=_jobs,
        default=1,
        metavar="N",
        help="compare models in N worker processes; same output as serial (default: 1)",
    )
    parser.add_argument(
        "--no-parity",
        action="store_true",
        help="shape-only: build without weight memory, skip porting and running",
    )


def _load(paths: Sequence[str], default: Sequence[Path]) -> list[Any]:
    """Models and per-model SpecErrors of every file (raises SpecFileError)."""
    from compare.specfile import load_lenient

    items: list[Any] = []
    for path in paths or [str(p) for p in default]:
        items.extend(load_lenient(path))
    return items


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code.

    Example:
        >>> main(["show", "missing.toml"])  # doctest: +SKIP
        2
    """
    args = _parser().parse_args(argv)
    import json

    from compare.catalog import catalog_files
    from compare.errors import SpecError, SpecFileError

    try:
        default = catalog_files()[:1] if args.command == "show" else catalog_files()
        items = _load(args.specs, default)
    except SpecFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    for item in items:
        if isinstance(item, SpecError):
            print(f"error: {item}", file=sys.stderr)

    from compare.jobs import compare_parallel

    results = compare_parallel(items, args.jobs, dtype=args.dtype, parity=not args.no_parity)
    fine = ("ok", "skipped") if args.no_parity else ("ok",)
    failed = [r for r in results if r.status not in fine]
    if args.command == "show":
        if args.format == "json":
            doc = {"models": [r.to_dict() for r in results]}
            print(json.dumps(doc, indent=2, allow_nan=False))
        else:
            from compare.report.text import render_text

            print(render_text(results))
    else:
        formats = [f.strip() for f in args.format.split(",") if f.strip()]
        unknown = [f for f in formats if f not in REPORT_FORMATS]
        if unknown or not formats:
            print(
                f"error: --format={args.format!r}: unknown format(s) {', '.join(unknown)}; "
                f"choose from {', '.join(REPORT_FORMATS)}",
                file=sys.stderr,
            )
            return EXIT_USAGE
        out = Path(args.output)
        out.mkdir(parents=True, exist_ok=True)
        written = []
        if "md" in formats:
            from compare.report.markdown import render_markdown

            _write_atomic(out / "report.md", render_markdown(results))
            written.append(out / "report.md")
        if "json" in formats:
            doc = {"models": [r.to_dict() for r in results]}
            _write_atomic(out / "report.json", json.dumps(doc, indent=2, allow_nan=False) + "\n")
            written.append(out / "report.json")
        print(f"wrote {', '.join(str(p) for p in written)}", file=sys.stderr)
    layers = sum(len(r.layers) for r in results)
    print(
        f"{len(results)} models, {layers} layers, {len(failed)} not ok",
        file=sys.stderr,
    )
    return EXIT_FAILED if failed else EXIT_OK
