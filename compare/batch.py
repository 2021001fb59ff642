"""Batch runs: spec files in, one ``ModelResult`` per model out, and a summary.

The steps are separate so each can be reused and tested on its own:

* ``sources`` names the spec files (the built-in catalogue when none are given) with the
  name reports show for each: never an absolute path the user did not type;
* ``load_all`` reads every file first, so an unreadable or unparsable file stops the run
  before anything is built (one ``SpecFileError`` naming every bad file);
* ``compare_all`` compares the models one by one; an invalid model, an unsupported layer,
  a parity mismatch or even an unexpected exception in one model becomes that model's
  result and never stops the rest;
* ``summarize`` counts models, layers, differences, parity failures and errors;
* ``shard_indices``, ``shard_record`` and ``merge_shards`` split one batch into N
  deterministic slices compared anywhere (one machine, job or framework install each)
  and join their JSON records into the list of results a single run gives.

Example:
    >>> items = load_all(sources())
    >>> summarize(compare_all(items[:1])).ok
    True
"""

from __future__ import annotations

import gc
import json
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compare.errors import SpecError, SpecFileError
from compare.jobs import compare_one, compare_parallel, result_from_json, result_to_json
from compare.records import ModelResult
from compare.spec import Model

__all__ = [
    "VERDICTS",
    "Source",
    "Summary",
    "compare_all",
    "load_all",
    "merge_shards",
    "parse_shard",
    "read_shard",
    "shard_indices",
    "shard_name",
    "shard_record",
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
    count_batch: int = 1,
) -> list[ModelResult]:
    """Compare every item in order; one result per item, whatever happens to it.

    ``jobs > 1`` compares in that many worker processes (``compare.jobs``) and gives
    the same results in the same order; ``parity=False`` is the shape-only mode and
    ``diagnostics=False`` skips the naive-port and initialiser measurements;
    ``count=True`` runs both frameworks' FLOP counters and ``count_batch`` is the batch
    size the work and memory figures are given at (``compare.comparison.compare_model``).

    Example:
        >>> bad = SpecError("m.toml: model 'x': layers must hold at least one layer")
        >>> [r.status for r in compare_all([bad])]
        ['error']
    """
    if jobs > 1:
        done_all = compare_parallel(
            items,
            jobs,
            dtype=dtype,
            parity=parity,
            diagnostics=diagnostics,
            count=count,
            count_batch=count_batch,
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
            results.append(compare_one(item, dtype, parity, diagnostics, count, count_batch))
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


# -- shards: one batch compared in N slices, anywhere, then merged -----------------------

#: The ``format`` and ``version`` of a shard record document.
SHARD_FORMAT, SHARD_VERSION = "compare-shard", 1


def parse_shard(text: str) -> tuple[int, int]:
    """``"I/N"`` as ``(I, N)``: the I-th (from 1) of N slices; a ``ValueError`` naming
    the value and the rule otherwise.

    Example:
        >>> parse_shard("2/4")
        (2, 4)
        >>> parse_shard("5/4")
        Traceback (most recent call last):
        ...
        ValueError: --shard='5/4': must be I/N with 1 <= I <= N (e.g. 1/4)
    """
    match = re.fullmatch(r"\s*(\d{1,6})\s*/\s*(\d{1,6})\s*", text)
    index, count = (int(match[1]), int(match[2])) if match else (0, 0)
    if not 1 <= index <= count:
        raise ValueError(f"--shard={text!r}: must be I/N with 1 <= I <= N (e.g. 1/4)")
    return index, count


def shard_indices(total: int, index: int, count: int) -> range:
    """Positions in a batch of ``total`` items that shard ``index`` of ``count`` compares:
    every ``count``-th item from position ``index - 1``, so slices stay even when the
    costly models sit together, and depend on nothing but the three numbers.

    Example:
        >>> [list(shard_indices(7, i, 3)) for i in (1, 2, 3)]
        [[0, 3, 6], [1, 4], [2, 5]]
    """
    return range(index - 1, total, count)


def shard_name(index: int, count: int) -> str:
    """The file name a shard's record is written under.

    Example:
        >>> shard_name(2, 4)
        'shard-2-of-4.json'
    """
    return f"shard-{index}-of-{count}.json"


def shard_record(
    results: Sequence[ModelResult],
    positions: Sequence[int],
    *,
    shard: tuple[int, int],
    total: int,
    sources: Sequence[str],
    options: dict[str, Any],
) -> str:
    """The JSON text of one shard's record: which slice of which batch (its sources, its
    size, the run's options) and each result with its position in the batch.

    Example:
        >>> text = shard_record([ModelResult("bad", None, (), error="boom")], [1],
        ...                     shard=(2, 2), total=2, sources=["a.toml"], options={})
        >>> json.loads(text)["shard"]
        [2, 2]
    """
    doc = {
        "format": SHARD_FORMAT,
        "version": SHARD_VERSION,
        "shard": list(shard),
        "total": total,
        "sources": list(sources),
        "options": options,
        "results": [
            {"position": p, "result": result_to_json(r)} for p, r in zip(positions, results)
        ],
    }
    return json.dumps(doc, indent=None, separators=(",", ":"), allow_nan=False) + "\n"


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in a shard record")


def read_shard(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A shard record file read back with the standard ``json`` loader (NaN and infinity
    refused: they are written tagged), its header checked; ``SpecFileError`` naming the
    file and the problem otherwise.

    Example:
        >>> read_shard("missing.json")
        Traceback (most recent call last):
        ...
        compare.errors.SpecFileError: missing.json: cannot read the shard record: no such file
    """
    where = os.fspath(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecFileError(f"{where}: cannot read the shard record: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecFileError(f"{where}: cannot read the shard record: {exc}") from None
    try:
        doc = json.loads(text, parse_constant=_no_constant)
    except ValueError as exc:
        raise SpecFileError(f"{where}: not a shard record (invalid JSON: {exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != SHARD_FORMAT:
        raise SpecFileError(f"{where}: not a shard record (format must be {SHARD_FORMAT!r})")
    if doc.get("version") != SHARD_VERSION:
        raise SpecFileError(
            f"{where}: shard record version={doc.get('version')!r}; "
            f"this compare reads version {SHARD_VERSION}"
        )
    shard, total = doc.get("shard"), doc.get("total")
    if (
        not isinstance(shard, list)
        or len(shard) != 2
        or not all(type(v) is int for v in shard)
        or not 1 <= shard[0] <= shard[1]
        or type(total) is not int
        or total < 0
        or not isinstance(doc.get("sources"), list)
        or not isinstance(doc.get("results"), list)
    ):
        raise SpecFileError(f"{where}: malformed shard record header (shard, total, sources)")
    return dict(doc)


def merge_shards(
    paths: Sequence[str | os.PathLike[str]],
) -> tuple[list[ModelResult], list[str]]:
    """The results of every shard record in batch order, and the batch's sources: the
    list a single run of the same batch gives. The records must be the N shards of one
    batch (same sources, size and options), each once; ``SpecFileError`` names what is
    missing, repeated or mismatched.

    Example:
        >>> import tempfile
        >>> out = Path(tempfile.mkdtemp())
        >>> for i in (1, 2):
        ...     r = ModelResult(f"m{i}", None, (), error="boom")
        ...     text = shard_record([r], [i - 1], shard=(i, 2), total=2, sources=[],
        ...                         options={})
        ...     _ = (out / shard_name(i, 2)).write_text(text)
        >>> [r.name for r in merge_shards(sorted(out.iterdir()))[0]]
        ['m1', 'm2']
    """
    if not paths:
        raise SpecFileError("--merge needs at least one shard record file")
    docs = [(os.fspath(p), read_shard(p)) for p in paths]
    first_where, first = docs[0]
    count, total = first["shard"][1], first["total"]
    seen: dict[int, str] = {}
    by_position: dict[int, ModelResult] = {}
    for where, doc in docs:
        for key in ("total", "sources", "options"):
            if doc.get(key) != first.get(key):
                raise SpecFileError(
                    f"{where}: {key} differs from {first_where}'s: not a shard of the same batch"
                )
        index, n = doc["shard"]
        if n != count:
            raise SpecFileError(f"{where}: shard {index}/{n}, but {first_where} is one of {count}")
        if index in seen:
            raise SpecFileError(f"{where}: shard {index}/{n} given twice (also {seen[index]})")
        seen[index] = where
        expected = list(shard_indices(total, index, count))
        try:
            positions = [entry["position"] for entry in doc["results"]]
            results = [result_from_json(entry["result"]) for entry in doc["results"]]
        except (TypeError, KeyError, ValueError) as exc:
            raise SpecFileError(f"{where}: malformed result in the shard record: {exc}") from None
        if positions != expected:
            raise SpecFileError(
                f"{where}: shard {index}/{n} holds positions that are not its slice of {total}"
            )
        by_position.update(zip(positions, results))
    missing = [i for i in range(1, count + 1) if i not in seen]
    if missing:
        names = ", ".join(f"{i}/{count}" for i in missing)
        raise SpecFileError(f"--merge: shard(s) {names} missing; all {count} are needed")
    return [by_position[i] for i in range(total)], list(first["sources"])
