"""Command line: ``python -m compare show|report|translate``.

No framework is imported before a command needs it, so ``--help`` and spec errors
are instant. Exit codes: 0 all fine, 1 some model failed (invalid, unsupported,
error or parity mismatch), 2 usage error or unreadable file.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
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
    translate = sub.add_parser(
        "translate",
        help="translate one PyTorch or Keras layer call into the other framework",
        description="Parse a layer constructor call (never evaluated), print the other "
        "framework's equivalent code, how to port the weights, and the differences, "
        "measured by building both.",
    )
    translate.add_argument(
        "call",
        help='e.g. "nn.Conv2d(3, 64, 7, stride=2, padding=3)" or '
        "\"keras.layers.Conv2D(64, 7, strides=2, padding='same')\"",
    )
    translate.add_argument(
        "--input",
        metavar="SHAPE",
        help="input shape without batch axis, in the call's own layout: CxHxW (channels "
        "first) for a PyTorch call, e.g. 3x224x224; HxWxC (channels last) for a Keras "
        "call, e.g. 224x224x3; one number for a feature vector (optional for nn.Linear)",
    )
    translate.add_argument("--format", choices=("text", "json"), default="text")
    translate.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    return parser


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
    if args.command == "translate":
        from compare.translate import run_cli

        return run_cli(args.call, args.input, args.format, args.dtype)
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

    from compare.comparison import compare_model

    results = [compare_model(item, dtype=args.dtype) for item in items]
    failed = [r for r in results if r.status != "ok"]
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
