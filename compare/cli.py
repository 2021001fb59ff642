"""Command line: ``python -m compare show|report|translate|diff``.

No framework is imported before a command needs it, so ``--help`` and spec errors
are instant.

Exit codes:

* 0 - every model compared, every parity check passed (layers a framework does not
  support are reported, and are an expected outcome, not a failure);
* 1 - some model failed: an invalid spec, a framework error, or a parity mismatch;
* 2 - usage error, or a spec file that cannot be read or parsed, or an output
  directory that cannot be written (the message names the file; no traceback).
* 130 - interrupted while comparing, before any report file was changed.
"""

from __future__ import annotations

import argparse
import os
import sys

TYPE_CHECKING = False  # typing and json load only when a command runs: --help stays instant
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any, TextIO

__all__ = ["main"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED = 130  # the shell's code for Ctrl-C
REPORT_FORMATS = ("md", "html", "csv", "json")


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
    show.add_argument(
        "--torch",
        metavar="MODULE:NAME",
        help="your torch.nn.Module: an object, a class or a factory in an importable module",
    )
    show.add_argument(
        "--keras",
        metavar="MODULE:NAME",
        help="your keras.Model: an object, or a factory in an importable module",
    )
    show.add_argument(
        "--input",
        metavar="CxHxW",
        help="input shape, channels first without batch (e.g. 1x28x28, 16x10 for 10 steps "
        "of 16 features, int:12 for 12 token ids); needed with --torch",
    )
    _add_run_options(show)
    report = sub.add_parser(
        "report",
        help="write a batch report (default: the catalogue)",
        description="Compare every model of the spec files (default: the built-in catalogue) "
        "and write report.md, report.html, report.csv and report.json into DIR.",
        epilog="exit codes: 0 all fine (unsupported layers are reported, not failures); "
        "1 some model failed (invalid spec, framework error, parity mismatch); "
        "2 usage error or a spec file that cannot be read or parsed",
    )
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
    spread = report.add_mutually_exclusive_group()
    spread.add_argument(
        "--shard",
        type=_shard,
        metavar="I/N",
        help="compare only the I-th of N deterministic slices of the batch and write its "
        "records to DIR/shard-I-of-N.json (for a CI matrix or a job array)",
    )
    spread.add_argument(
        "--merge",
        nargs="+",
        metavar="SHARD",
        help="write the reports from the N shard record files of one batch "
        "(byte-identical to a single run); no spec files",
    )
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
        "first) for a PyTorch call, e.g. 3x224x224 (a sequence: FEATURESxSTEPS); HxWxC "
        "(channels last) for a Keras call, e.g. 224x224x3; one number for a feature "
        "vector; int:STEPS for token ids",
    )
    translate.add_argument("--format", choices=("text", "json"), default="text")
    translate.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    _add_diff(sub)
    return parser


def _add_diff(sub: Any) -> None:
    diff = sub.add_parser(
        "diff",
        help="name every difference between a PyTorch and a Keras implementation of a network",
        description="Read both real models, align them node by node by structure and shapes, "
        "and list every structural and hyperparameter difference and the parameter gap by "
        "cause. Exit code 0: no difference; 1: they differ (or a model cannot be read).",
    )
    diff.add_argument("--torch", required=True, metavar="MODULE:NAME", help="a torch.nn.Module")
    diff.add_argument("--keras", required=True, metavar="MODULE:NAME", help="a keras.Model")
    diff.add_argument("--input", required=True, metavar="CxHxW", help="e.g. 3x224x224")
    diff.add_argument("--format", choices=("text", "markdown", "html", "json"), default="text")
    diff.add_argument(
        "--measure", action="store_true", help="port, run both and measure the output drift"
    )


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"--jobs={text!r}: must be an integer >= 1")
    return value


def _count_batch(text: str) -> int:
    from compare.limits import MAX_COUNT_BATCH

    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_COUNT_BATCH:
        raise argparse.ArgumentTypeError(
            f"--batch={text!r}: must be an integer in [1, {MAX_COUNT_BATCH}] "
            "(the batch size of the work and memory figures)"
        )
    return value


def _shard(text: str) -> tuple[int, int]:
    from compare.batch import parse_shard

    try:
        return parse_shard(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


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
    parser.add_argument(
        "--no-diagnostics",
        action="store_true",
        help="facts and parity only, for large sweeps: skip measuring what naive ports "
        "get wrong (one more forward per layer), the initialisers' std and the FLOP counters",
    )
    parser.add_argument(
        "--no-count",
        action="store_true",
        help="skip the frameworks' FLOP counters (PyTorch's FlopCounterMode, TensorFlow's "
        "profiler: about 0.1 s per model); the formulas' MACs are still shown",
    )
    parser.add_argument(
        "--batch",
        type=_count_batch,
        default=1,
        metavar="N",
        dest="count_batch",
        help="give the work and memory figures (MACs, both counters' FLOPs, activation "
        "bytes) for a batch of N samples; the counters run once at batch 1 and are "
        "scaled, so any N costs the same (default: 1)",
    )


def _counting(args: argparse.Namespace) -> bool:
    """Whether to run the frameworks' FLOP counters: unless ``--no-count`` or
    ``--no-diagnostics`` says not to."""
    return not (args.no_count or args.no_diagnostics)


class _ProgressBar:
    """``rich``'s progress bar on stderr, redrawn in place; used only on a terminal.

    Model names are printed as text (``rich`` markup in a name is not interpreted) with
    control characters escaped.
    """

    def __init__(self, stream: TextIO) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        console = Console(file=stream, highlight=False)
        self.progress = Progress(
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[name]}", markup=False),
            console=console,
            transient=True,  # the bar leaves no line behind: the summary follows
        )
        self.task: Any = None

    def __call__(self, done: int, total: int, name: str) -> None:
        from compare.report.safe import printable

        label = printable(name if len(name) <= 40 else name[:39] + "…")
        if self.task is None:
            self.progress.start()
            self.task = self.progress.add_task("compare", total=total, name=label)
        self.progress.update(self.task, completed=done, total=total, name=label)

    def close(self) -> None:
        if self.task is not None:
            self.progress.stop()


def _error(message: str) -> None:
    """Each line of ``message`` on stderr, user text's control characters escaped."""
    from compare.report.safe import printable

    for line in message.split("\n"):
        print(f"error: {printable(line)}", file=sys.stderr)


def _formats(text: str) -> list[str] | None:
    formats = list(dict.fromkeys(f.strip() for f in text.split(",") if f.strip()))
    unknown = [f for f in formats if f not in REPORT_FORMATS]
    if unknown or not formats:
        _error(
            f"--format={text!r}: unknown format(s) {', '.join(unknown) or '(none given)'}; "
            f"choose from {','.join(REPORT_FORMATS)}"
        )
        return None
    return formats


class UsageError(Exception):
    """A command-line argument that cannot be used; the message says why."""


def load_object(ref: str, option: str) -> Any:
    """The object ``module:name`` names (the current directory is importable, as for
    uvicorn or pytest); a class or a function is called without arguments.

    Example:
        >>> load_object("collections:OrderedDict", "--torch")
        OrderedDict()
    """
    import importlib
    import inspect

    module_name, sep, attr = ref.partition(":")
    if not sep or not module_name or not attr:
        raise UsageError(f"{option}={ref!r} must look like 'package.module:name'")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise UsageError(f"{option}={ref!r}: cannot import {module_name!r}: {exc}") from exc
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise UsageError(f"{option}={ref!r}: {module_name!r} has no attribute {attr!r}")
        obj = getattr(obj, part)
    if inspect.isclass(obj) or inspect.isfunction(obj) or inspect.ismethod(obj):
        try:
            obj = obj()
        except TypeError as exc:
            raise UsageError(
                f"{option}={ref!r}: calling it without arguments failed: {exc}"
            ) from exc
    return obj


def _show_objects(args: argparse.Namespace) -> int:
    """``show --torch/--keras``: the user's own models, compared with their weights."""
    from compare.comparison import compare_model
    from compare.errors import SpecError
    from compare.importers import from_keras, from_torch

    if args.specs:
        raise UsageError("give spec files or --torch/--keras, not both")
    if args.torch and args.input is None:
        raise UsageError("--torch needs --input, the channels-first input shape like 1x28x28")
    torch_obj = load_object(args.torch, "--torch") if args.torch else None
    keras_obj = load_object(args.keras, "--keras") if args.keras else None
    if torch_obj is not None:
        import torch

        if not isinstance(torch_obj, torch.nn.Module):
            raise UsageError(
                f"--torch={args.torch!r} gives a {type(torch_obj).__name__}, not a "
                "torch.nn.Module (an object, a class or a factory returning one)"
            )
    if keras_obj is not None:
        import keras

        if not isinstance(keras_obj, keras.Model):
            raise UsageError(
                f"--keras={args.keras!r} gives a {type(keras_obj).__name__}, not a "
                "keras.Model (an object or a factory returning one)"
            )
    try:
        if torch_obj is not None:
            imported = from_torch(torch_obj, args.input, name=args.torch)
        else:
            imported = from_keras(keras_obj, args.input, name=args.keras)
    except SpecError as exc:
        _error(str(exc))
        return EXIT_FAILED
    result = compare_model(
        imported,
        dtype=args.dtype,
        parity=not args.no_parity,
        diagnostics=not args.no_diagnostics,
        count=_counting(args),
        count_batch=args.count_batch,
    )
    equivalence = None
    if torch_obj is not None and keras_obj is not None:
        from compare.testing import check_equivalent

        try:
            equivalence = check_equivalent(torch_obj, keras_obj, input=args.input)
            verdict = equivalence.message
        except SpecError as exc:
            verdict = f"cannot compare the models: {exc}"
    if args.format == "json":
        import json

        doc: dict[str, Any] = {"models": [result.to_dict()]}
        doc["source"] = {"framework": imported.source, "layers": imported.describe()}
        if args.torch and args.keras:
            doc["equivalent"] = bool(equivalence and equivalence.ok)
            doc["equivalence"] = verdict
        print(json.dumps(doc, indent=2, allow_nan=False))
    else:
        from compare.report.safe import printable
        from compare.report.text import render_text

        print(render_text([result]))
        print(f"read from {imported.source}:")
        for line in imported.describe():
            print(f"  {printable(line)}")
        if args.torch and args.keras:
            print(printable(f"torch vs keras: {verdict}", keep="\n"))
    failed = result.status != "ok" or (
        args.torch and args.keras and not (equivalence and equivalence.ok)
    )
    return EXIT_FAILED if failed else EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (130, with a one-line message and no
    traceback, when interrupted by Ctrl-C).

    Example:
        >>> main(["show", "missing.toml"])  # the error goes to stderr
        2
    """
    try:
        return _main(argv)
    except KeyboardInterrupt as exc:
        written = getattr(exc, "written", None)  # compare.report.write.ReportInterrupted
        if written is not None:
            _error(f"interrupted after the report was written ({len(written)} files)")
        else:
            _error("interrupted: no report file was changed")
        return EXIT_INTERRUPTED


def _main(argv: Sequence[str] | None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "diff":
        from compare.diff.cli import run

        return run(args, load_object)
    if args.command == "translate":
        from compare.translate import run_cli

        return run_cli(args.call, args.input, args.format, args.dtype)
    if args.command == "show" and (args.torch or args.keras):
        try:
            return _show_objects(args)
        except UsageError as exc:
            _error(str(exc))
            return EXIT_USAGE
    from compare import batch
    from compare.errors import SpecError, SpecFileError

    formats = _formats(args.format) if args.command == "report" else None
    if args.command == "report" and formats is None:
        return EXIT_USAGE
    if args.command == "report" and args.merge:
        if args.specs:
            _error("--merge takes shard record files only: the spec files are named in them")
            return EXIT_USAGE
        try:
            results, shown = batch.merge_shards(args.merge)
        except SpecFileError as exc:
            _error(str(exc))
            return EXIT_USAGE
        return _write(results, args.output, formats or [], shown, batch.summarize(results))
    files = batch.sources(args.specs)
    if args.command == "show" and not args.specs:
        files = files[:1]
    try:
        items = batch.load_all(files)
    except SpecFileError as exc:
        _error(str(exc))
        return EXIT_USAGE
    shard = getattr(args, "shard", None)
    total = len(items)
    positions = range(total) if shard is None else batch.shard_indices(total, *shard)
    items = [items[i] for i in positions]
    for item in items:
        if isinstance(item, SpecError):
            _error(str(item))

    progress = None
    if args.command == "report" and sys.stderr.isatty():
        progress = _ProgressBar(sys.stderr)
    try:
        results = batch.compare_all(
            items,
            dtype=args.dtype,
            progress=progress,
            jobs=args.jobs,
            parity=not args.no_parity,
            diagnostics=not args.no_diagnostics,
            count=_counting(args),
            count_batch=args.count_batch,
        )
    except KeyboardInterrupt:
        if progress is not None:
            progress.close()
        _error("interrupted: no report file was changed")
        return EXIT_INTERRUPTED
    if progress is not None:
        progress.close()
    summary = batch.summarize(results)
    if args.command == "show":
        if args.format == "json":
            import json

            doc = {"models": [r.to_dict() for r in results]}
            print(json.dumps(doc, indent=2, allow_nan=False))
        else:
            from compare.report.text import render_text

            print(render_text(results))
    elif shard is not None:
        from pathlib import Path

        from compare.report.write import write_atomic

        options = {"dtype": args.dtype, "parity": not args.no_parity}
        options["diagnostics"] = not args.no_diagnostics
        options["count"] = _counting(args)
        options["count_batch"] = args.count_batch
        text = batch.shard_record(
            results,
            positions,
            shard=shard,
            total=total,
            sources=[f.shown for f in files],
            options=options,
        )
        target = Path(args.output) / batch.shard_name(*shard)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(target, text)
        except OSError as exc:
            _error(f"{exc.filename or target}: cannot write the shard record: {exc.strerror}")
            return EXIT_USAGE
        from compare.report.safe import printable

        print(printable(f"wrote {target}"), file=sys.stderr)
    else:
        assert formats is not None
        return _write(results, args.output, formats, [f.shown for f in files], summary)
    from compare.report.fmt import summary_text

    print(summary_text(summary), file=sys.stderr)
    return EXIT_OK if summary.ok else EXIT_FAILED


def _write(results: Any, output: str, formats: list[str], shown: list[str], summary: Any) -> int:
    """Write the reports of ``results``; print what was written and the summary."""
    from compare.report.fmt import summary_text
    from compare.report.safe import printable
    from compare.report.write import write_reports

    try:
        written = write_reports(results, output, formats, sources=shown, summary=summary)
    except OSError as exc:
        _error(f"{exc.filename or output}: cannot write the report: {exc.strerror or exc}")
        return EXIT_USAGE
    print(printable(f"wrote {', '.join(str(p) for p in written)}"), file=sys.stderr)
    print(summary_text(summary), file=sys.stderr)
    return EXIT_OK if summary.ok else EXIT_FAILED
