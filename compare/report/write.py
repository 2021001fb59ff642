"""Write report files as one unit: every format rendered, staged, then swapped in.

``write_reports`` renders every format first, writes the files into a fresh staging
folder inside the output directory (``.compare-report-*``) and syncs them; only then is
the folder marked complete (a ``COMPLETE`` file: the journal) and each file renamed
over its old version, with SIGINT and SIGTERM held until the last rename. So:

* interrupted or failing before the mark, the previous report is untouched and the
  staging folder is removed (by this run, or by the next one after a SIGKILL);
* killed between two renames (the only window where old and new files coexist), the
  next run, or ``recover_reports``, finishes the renames from the marked folder before
  it does anything else: the set of files is never left mixed.

Example:
    >>> sorted(FILES)
    ['csv', 'html', 'json', 'md']
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from compare.records import ModelResult

__all__ = [
    "FILES",
    "FORMATS",
    "STAGING_PREFIX",
    "ReportInterrupted",
    "recover_reports",
    "render",
    "write_atomic",
    "write_reports",
]

#: Report formats in the order they are written, and their file names.
FORMATS = ("md", "html", "csv", "json")
FILES = {"md": "report.md", "html": "report.html", "csv": "report.csv", "json": "report.json"}
#: Staging folders of a write in progress, inside the output directory.
STAGING_PREFIX = ".compare-report-"
#: The journal mark: present once every staged file is complete and synced.
COMPLETE = "COMPLETE"


class ReportInterrupted(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM) arrived while the files were swapped in: the swap was finished
    first, so the new report is complete; ``written`` lists its files.

    Example:
        >>> ReportInterrupted([Path("r/report.md")]).written
        [PosixPath('r/report.md')]
    """

    def __init__(self, written: list[Path]) -> None:
        super().__init__("interrupted after the report was written")
        self.written = written


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


def _sync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # not every file system syncs a directory
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _lock(path: Path, *, wait: bool) -> int | None:
    """An exclusive ``flock`` on a staging folder, held by its writer so that recovery
    never touches a live run's folder: the descriptor, -1 where there is no ``flock``,
    None when another process holds it."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock to take
        return -1
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except OSError:
        os.close(fd)
        return None
    return fd


def _unlock(fd: int | None) -> None:
    if fd is not None and fd >= 0:
        os.close(fd)


def _swap_in(staging: Path, out: Path) -> None:
    """Rename every staged file (but the mark) over its target, then drop the folder."""
    for item in sorted(staging.iterdir()):
        if item.name != COMPLETE:
            os.replace(item, out / item.name)
    _sync_dir(out)
    shutil.rmtree(staging, ignore_errors=True)


def recover_reports(out_dir: str | os.PathLike[str]) -> list[str]:
    """Finish or discard what an interrupted write left in ``out_dir``; the staging
    folders handled. A marked folder's files are swapped in (a run killed between two
    renames), an unmarked one is removed (the previous report is intact), and so are
    the temporary files of a single-file write.

    Example:
        >>> import tempfile
        >>> recover_reports(tempfile.mkdtemp())
        []
    """
    out = Path(out_dir)
    if not out.is_dir():
        return []
    handled = []
    for item in sorted(out.iterdir()):
        if item.name.startswith(STAGING_PREFIX) and item.is_dir():
            fd = _lock(item, wait=False)
            if fd is None:  # a live writer's folder
                continue
            try:
                if (item / COMPLETE).exists():
                    _swap_in(item, out)
                else:
                    shutil.rmtree(item, ignore_errors=True)
            finally:
                _unlock(fd)
            handled.append(item.name)
        elif item.name.startswith(".report.") and item.name.endswith(".tmp"):
            with contextlib.suppress(OSError):  # a write_atomic that was killed
                item.unlink()
    return handled


@contextlib.contextmanager
def _signals_held() -> Iterator[list[int]]:
    """SIGINT and SIGTERM recorded, not acted on, inside the block (main thread only)."""
    caught: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield caught
        return
    held = (signal.SIGINT, signal.SIGTERM)
    previous = {sig: signal.signal(sig, lambda signum, _: caught.append(signum)) for sig in held}
    try:
        yield caught
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def write_reports(
    models: Sequence[ModelResult],
    out_dir: str | os.PathLike[str],
    formats: Sequence[str] = FORMATS,
    *,
    sources: Sequence[str] = (),
    summary: Any = None,
) -> list[Path]:
    """Render every format, then swap the set of files into ``out_dir`` as one unit;
    the paths written.

    Raises ``ReportInterrupted`` (a ``KeyboardInterrupt``) when Ctrl-C or SIGTERM came
    during the swap, after finishing it; a Ctrl-C before leaves the old files as they were.

    Example:
        >>> import tempfile
        >>> [p.name for p in write_reports([], tempfile.mkdtemp(), ["md", "csv"])]
        ['report.md', 'report.csv']
    """
    out = Path(out_dir)
    texts = {f: render(models, f, sources=sources, summary=summary) for f in formats}
    out.mkdir(parents=True, exist_ok=True)
    recover_reports(out)
    staging = Path(tempfile.mkdtemp(dir=out, prefix=STAGING_PREFIX))
    fd = _lock(staging, wait=True)
    written = [out / FILES[fmt] for fmt in texts]
    try:
        umask = os.umask(0)
        os.umask(umask)
        for fmt, text in texts.items():
            path = staging / FILES[fmt]
            with open(path, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(path, 0o666 & ~umask)
        with _signals_held() as caught:
            (staging / COMPLETE).touch()
            _sync_dir(staging)
            _swap_in(staging, out)
    except BaseException:
        if not (staging / COMPLETE).exists():  # the old report is intact: drop the new one
            shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        _unlock(fd)
    try:  # what was held is delivered now, to the handlers the caller had
        for sig in dict.fromkeys(caught):
            signal.raise_signal(sig)
    except KeyboardInterrupt:
        raise ReportInterrupted(written) from None
    return written
