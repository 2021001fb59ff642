"""Batch runs: spec files in, one ``ModelResult`` per model out, and a summary.

The steps are separate so each can be reused and tested on its own:

* ``sources`` names the spec files (the built-in catalogue when none are given) with the
  name reports show for each: never an absolute path the user did not type;
* ``load_all`` reads every file first, so an unreadable or unparsable file stops the run
  before anything is built (one ``SpecFileError`` naming every bad file);
* ``compare_all`` compares the models one by one; an invalid model, an unsupported layer,
  a parity mismatch or even an unexpected exception in one model becomes that model's
  result and never stops the rest;
* ``summarize`` counts models, layers, differences, parity failures and errors.

Example:
    >>> items = load_all(sources())
    >>> summarize(compare_all(items[:1])).ok
    True
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from compare.errors import SpecError, SpecFileError
from compare.jobs import compare_one, compare_parallel
from compare.records import ModelResult
from compare.spec import Model

__all__ = [
    "VERDICTS",
    "Source",
    "Summary",
    "compare_all",
    "load_all",
    "sources",
    "summarize",
    "verdict",
]

Item = Model | SpecError
#: ``progress(done, total, model_name)``, called after each model.
Progress = Callable[[int, int, str], None]

#: A model's verdict, worst first: the first status met anywhere in the model wins.
#: ``error`` and ``mismatch`` fail a batch; ``unsupported`` is reported, an expected outcome.
VERDICTS = ("error", "mismatch", "unsupported", "skipped", "ok")
FAILING = frozenset({"error", "mismatch"})


@dataclass(frozen=True)
class Source:
    """A spec file and the name reports and messages show for it.

    Example:
        >>> Source(Path("a.toml"), "a.toml").shown
        'a.toml'
    """

    path: Path
    shown: str


def sources(paths: Sequence[str | os.PathLike[str]] = ()) -> list[Source]:
    """The given spec files as typed; without any, the catalogue's files.

    Catalogue files are shown as ``compare/catalog/NAME`` (their place in the package),
    so a report never carries the absolute path of an installation.

    Example:
        >>> sources()[0].shown
        'compare/catalog/seed.toml'
    """
    if paths:
        return [Source(Path(p), os.fspath(p)) for p in paths]
    from compare.catalog import catalog_files

    return [Source(p, f"compare/catalog/{p.name}") for p in catalog_files()]


def load_all(files: Iterable[Source]) -> list[Item]:
    """Every model of every file, each invalid model replaced by its ``SpecError``.

    Raises one ``SpecFileError`` whose message has a line per file that cannot be read
    or parsed (each line names the file, and the line when the parser gives one).

    Example:
        >>> load_all([Source(Path("missing.toml"), "missing.toml")])
        Traceback (most recent call last):
        ...
        compare.errors.SpecFileError: missing.toml: no such file
    """
    from compare.specfile import load_lenient

    items: list[Item] = []
    problems: list[str] = []
    for source in files:
        try:
            items.extend(load_lenient(source.path, where=source.shown))
        except SpecFileError as exc:
            problems.append(str(exc))
    if problems:
        raise SpecFileError("\n".join(problems))
    return items


def compare_all(
    items: Sequence[Item],
    *,
    dtype: str = "float32",
    progress: Progress | None = None,
    jobs: int = 1,
    parity: bool = True,
    diagnostics: bool = True,
    count: bool = False,
) -> list[ModelResult]:
    """Compare every item in order; one result per item, whatever happens to it.

    ``jobs > 1`` compares in that many worker processes (``compare.jobs``) and gives
    the same results in the same order; ``parity=False`` is the shape-only mode and
    ``diagnostics=False`` skips the naive-port and initialiser measurements;
    ``count=True`` runs both frameworks' FLOP counters (``compare.comparison.compare_model``).

    Example:
        >>> bad = SpecError("m.toml: model 'x': layers must hold at least one layer")
        >>> [r.status for r in compare_all([bad])]
        ['error']
    """
    if jobs > 1:
        done_all = compare_parallel(
            items, jobs, dtype=dtype, parity=parity, diagnostics=diagnostics, count=count
        )
        if progress is not None and done_all:
            progress(len(done_all), len(items), done_all[-1].name)
        return done_all
    results: list[ModelResult] = []
    frozen = False
    try:
        for done, item in enumerate(items, start=1):
            # No keras.backend.clear_session() between models: compare names its layers
            # itself and keeps no model alive, so RSS stays flat without it (scripts/bench.py
            # measures this), while each call costs ~130 ms (it runs a full gc.collect()).
            results.append(compare_one(item, dtype, parity, diagnostics, count))
            if not frozen and len(items) > 1:
                # Once the frameworks are imported, their large, long-lived object graphs
                # are moved out of the collector's way for the rest of the batch (every
                # full collection would scan them again); unfrozen when the batch ends.
                # (That also unfreezes what a caller froze: telling the two apart would
                # need gc.get_freeze_count(), which walks every frozen object, ~37 ms
                # with both frameworks loaded, more than the freeze saves per batch.)
                gc.freeze()
                frozen = True
            if progress is not None:
                progress(done, len(items), results[-1].name)
    finally:
        if frozen:
            gc.unfreeze()
    return results


def verdict(model: ModelResult) -> str:
    """The worst status met anywhere in the model (its end-to-end parity or any layer's).

    A layer mismatch is not hidden by a later unsupported layer that stops the
    end-to-end comparison.

    Example:
        >>> verdict(ModelResult("bad", None, (), error="boom"))
        'error'
    """
    seen = {model.status} | {layer.parity.status for layer in model.layers}
    return next((v for v in VERDICTS if v in seen), "ok")


@dataclass(frozen=True)
class Summary:
    """Counts over a batch; ``ok`` is False when any model errored or failed parity.

    Example:
        >>> Summary(models=1, layers=4, differences=3, parity_failures=0, errors=0,
        ...         unsupported=0).ok
        True
    """

    models: int
    layers: int
    differences: int
    parity_failures: int
    errors: int
    unsupported: int

    @property
    def ok(self) -> bool:
        """No errors and no parity failures (unsupported layers are an expected outcome)."""
        return self.parity_failures == 0 and self.errors == 0


def summarize(results: Sequence[ModelResult]) -> Summary:
    """Count models, layers, named differences and models per failing verdict.

    Example:
        >>> summarize([ModelResult("bad", None, (), error="boom")]).errors
        1
    """
    verdicts = [verdict(r) for r in results]
    return Summary(
        models=len(results),
        layers=sum(len(r.layers) for r in results),
        differences=sum(len(r.differences) for r in results),
        parity_failures=verdicts.count("mismatch"),
        errors=verdicts.count("error"),
        unsupported=verdicts.count("unsupported"),
    )
