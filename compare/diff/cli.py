"""``python -m compare diff --torch MODULE:NAME --keras MODULE:NAME --input 3x224x224``.

``compare.cli`` parses the command line and calls ``run`` with its object loader.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

__all__ = ["FORMATS", "run"]

FORMATS = ("text", "markdown", "html", "json")
EXIT_OK, EXIT_DIFFERENT, EXIT_USAGE = 0, 1, 2


def _error(message: str) -> None:
    from compare.report.safe import printable

    for line in message.split("\n"):
        print(f"error: {printable(line)}", file=sys.stderr)


def run(args: argparse.Namespace, load: Callable[[str, str], Any]) -> int:
    """Run the ``diff`` command: 0 when the two implementations do not differ, 1 when
    they do (or a model cannot be read), 2 when ``--torch`` / ``--keras`` do not name a
    model. ``load(ref, option)`` gives the object ``MODULE:NAME`` names.

    Example:
        >>> import collections
        >>> args = argparse.Namespace(torch="m:a", keras="m:b", input="1x4x4", format="text")
        >>> run(args, lambda ref, option: collections.OrderedDict())
        2
    """
    from compare.errors import SpecError

    try:
        torch_obj = load(args.torch, "--torch")
        keras_obj = load(args.keras, "--keras")
    except Exception as exc:  # the loader's usage errors, whatever their class
        _error(str(exc))
        return EXIT_USAGE
    import keras
    import torch

    for option, ref, obj, cls in (
        ("--torch", args.torch, torch_obj, torch.nn.Module),
        ("--keras", args.keras, keras_obj, keras.Model),
    ):
        if not isinstance(obj, cls):
            name = {"--torch": "torch.nn.Module", "--keras": "keras.Model"}[option]
            _error(f"{option}={ref!r} gives a {type(obj).__name__}, not a {name}")
            return EXIT_USAGE
    from compare.diff.engine import diff
    from compare.diff.render import render_html, render_markdown, render_text

    try:
        result = diff(
            torch_obj, keras_obj, input=args.input, measure=getattr(args, "measure", False)
        )
    except SpecError as exc:
        _error(str(exc))
        return EXIT_DIFFERENT
    if args.format == "json":
        out = result.to_json() + "\n"
    elif args.format == "markdown":
        out = render_markdown(result)
    elif args.format == "html":
        out = render_html(result)
    else:
        from compare.report.safe import printable

        out = printable(render_text(result), keep="\n")
    sys.stdout.write(out)
    return EXIT_OK if result.same else EXIT_DIFFERENT
