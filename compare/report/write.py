"""Write report files: every format rendered first, then each file replaced atomically.

A file is written to a temporary file in the same directory and renamed into place, so
an interrupted run leaves the previous report (or none), never half of one.

Example:
    >>> sorted(FILES)
    ['csv', 'html', 'json', 'md']
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from compare.records import ModelResult

__all__ = ["FILES", "FORMATS", "render", "write_atomic", "write_reports"]

#: Report formats in the order they are written, and their file names.
FORMATS = ("md", "html", "csv", "json")
FILES = {"md": "report.md", "html": "report.html", "csv": "report.csv", "json": "report.json"}


def _renderers() -> dict[str, Callable[..., str]]:
    from compare.report.data import render_csv, render_json
    from compare.report.html import render_html
    from compare.report.markdown import render_markdown

    return {
        "md": render_markdown,
        "html": render_html,
        "csv": lambda models, **_: render_csv(models),
        "json": lambda models, summary, **kw: render_json(models, summary=vars(summary), **kw),
    }


def render(
    models: Sequence[ModelResult], fmt: str, *, sources: Sequence[str] = (), summary: Any = None
) -> str:
    """One format's text (``fmt`` in ``FORMATS``).

    Example:
        >>> render([], "csv").startswith("model,index,kind")
        True
    """
    from compare.batch import summarize

    return _renderers()[fmt](models, sources=sources, summary=summary or summarize(models))


def write_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` (UTF-8, ``\\n`` line ends) to ``path`` via a temporary file and a rename.

    On any failure the temporary file is removed and ``path`` is left as it was.

    Example:
        >>> import tempfile, pathlib
        >>> target = pathlib.Path(tempfile.mkdtemp()) / "r.md"
        >>> write_atomic(target, "# hi\\n"); target.read_text()
        '# hi\\n'
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_reports(
    models: Sequence[ModelResult],
    out_dir: str | os.PathLike[str],
    formats: Sequence[str] = FORMATS,
    *,
    sources: Sequence[str] = (),
    summary: Any = None,
) -> list[Path]:
    """Render every format, then write each into ``out_dir``; the paths written.

    Example:
        >>> import tempfile
        >>> [p.name for p in write_reports([], tempfile.mkdtemp(), ["md", "csv"])]
        ['report.md', 'report.csv']
    """
    out = Path(out_dir)
    texts = {f: render(models, f, sources=sources, summary=summary) for f in formats}
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt, text in texts.items():
        write_atomic(out / FILES[fmt], text)
        written.append(out / FILES[fmt])
    return written
