"""Compare many models in worker processes, results merged in the original order.

Workers are started with ``spawn`` (TensorFlow does not survive ``fork`` after it
is imported), so each one imports the frameworks once and then compares every model
it is sent. Models travel to the workers and ``ModelResult`` records travel back by
pickle; a ``SpecError`` met while loading never leaves the parent. The merged list
is the one a serial run gives, so every report rendered from it is byte-identical.

Between machines, results travel as JSON instead (``result_to_json`` /
``result_from_json``): a lossless, typed encoding of the frozen records that is read
back with the standard ``json`` loader only (no pickle, no code named by the data: a
record may name only the result classes of ``compare.records``).
"""

from __future__ import annotations

import dataclasses
import math
import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from compare import records
from compare.comparison import compare_model
from compare.core.work import Work
from compare.errors import SpecError
from compare.records import ModelResult
from compare.spec import Model

__all__ = ["compare_one", "compare_parallel", "result_from_json", "result_to_json"]

#: The classes a JSON record may name, and nothing else (every record type a
#: ``ModelResult`` holds; ``tests/test_shards.py`` round-trips the catalogue's results).
_RECORD_TYPES: dict[str, type] = {
    cls.__name__: cls
    for cls in (
        records.ModelResult,
        records.LayerResult,
        records.FrameworkLayer,
        records.WeightFact,
        records.Parity,
        records.Difference,
        records.DefaultValue,
        records.Initialiser,
        Work,
    )
}
_NON_FINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def _encode(value: Any) -> Any:
    """``value`` as plain JSON data; every container and record is tagged with its type
    so that decoding gives back an equal value (tuples stay tuples, enums stay enums)."""
    if isinstance(value, records.Status):
        return {"status": value.value}
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"float": repr(value)}
    if isinstance(value, (list, tuple)):
        return {"list" if isinstance(value, list) else "tuple": [_encode(v) for v in value]}
    if isinstance(value, dict):
        return {"dict": [[_encode(k), _encode(v)] for k, v in value.items()]}
    name = type(value).__name__
    if dataclasses.is_dataclass(value) and _RECORD_TYPES.get(name) is type(value):
        fields = {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"record": name, "fields": fields}
    raise TypeError(f"cannot encode a {name} in a JSON result record")


def _decode(data: Any) -> Any:
    if data is None or isinstance(data, (bool, int, float, str)):
        return data
    if not isinstance(data, dict) or len(data) not in (1, 2):
        raise ValueError(f"not a result record value: {str(data)[:80]!r}")
    if "record" in data:
        cls = _RECORD_TYPES.get(data["record"]) if isinstance(data["record"], str) else None
        if cls is None or not isinstance(data.get("fields"), dict):
            raise ValueError(f"unknown record type {str(data['record'])[:80]!r}")
        fields = {str(k): _decode(v) for k, v in data["fields"].items()}
        return cls(**fields)
    ((tag, inner),) = data.items()
    if tag == "status" and isinstance(inner, str):
        return records.Status(inner)
    if tag == "float" and inner in _NON_FINITE:
        return _NON_FINITE[inner]
    if tag in ("list", "tuple") and isinstance(inner, list):
        items = [_decode(v) for v in inner]
        return items if tag == "list" else tuple(items)
    if tag == "dict" and isinstance(inner, list):
        return {_decode(pair[0]): _decode(pair[1]) for pair in inner}
    raise ValueError(f"not a result record value: {str(data)[:80]!r}")


def result_to_json(result: ModelResult) -> dict[str, Any]:
    """``result`` as JSON-ready data that ``result_from_json`` turns back into an equal
    ``ModelResult`` (every field, not only the report's ``to_dict`` view).

    Example:
        >>> import json
        >>> r = ModelResult("bad", None, (), error="boom")
        >>> result_from_json(json.loads(json.dumps(result_to_json(r)))) == r
        True
    """
    return dict(_encode(result))


def result_from_json(data: Any) -> ModelResult:
    """The ``ModelResult`` that ``result_to_json`` encoded, from ``json.loads`` data; a
    ``ValueError`` naming what is wrong for anything else.

    Example:
        >>> result_from_json({"record": "Popen", "fields": {}})
        Traceback (most recent call last):
        ...
        ValueError: unknown record type 'Popen'
    """
    try:
        result = _decode(data)
    except (TypeError, KeyError) as exc:
        raise ValueError(f"not a result record: {exc}") from None
    if not isinstance(result, ModelResult):
        raise ValueError(f"not a model result record: {type(result).__name__}")
    return result


def _worker_init() -> None:
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def compare_one(
    item: Model | SpecError,
    dtype: str,
    parity: bool = True,
    diagnostics: bool = True,
    count: bool = False,
    count_batch: int = 1,
) -> ModelResult:
    """``compare_model(item, ...)``, with an unexpected failure as this model's result.

    Example:
        >>> compare_one(SpecError("model 'x': broken"), "float32").status
        'error'
    """
    try:
        return compare_model(
            item,
            dtype=dtype,
            parity=parity,
            diagnostics=diagnostics,
            count=count,
            count_batch=count_batch,
        )
    except Exception as exc:  # an unexpected failure is this model's result, not the batch's
        name = item.name if isinstance(item, Model) else getattr(item, "model_name", "?")
        message = " ".join(str(exc).split())[:300]
        return ModelResult(name, None, (), error=f"{type(exc).__name__}: {message}", dtype=dtype)


def _compare_chunk(chunk: list[Any], kwargs: dict[str, Any]) -> list[ModelResult]:
    return [compare_one(item, **kwargs) for item in chunk]


def _failed(model: Any, exc: BaseException, dtype: str) -> ModelResult:
    text = f"worker process failed: {type(exc).__name__}: {exc}"
    return ModelResult(model.name, model.input.to_dict(), (), error=text, dtype=dtype)


def compare_parallel(
    items: Sequence[Any],
    jobs: int = 1,
    *,
    dtype: str = "float32",
    parity: bool = True,
    diagnostics: bool = True,
    count: bool = False,
    count_batch: int = 1,
) -> list[ModelResult]:
    """``[compare_model(item, dtype=..., parity=..., diagnostics=..., count=...,
    count_batch=...) for item in items]``, computed in ``jobs`` processes.

    ``items`` are ``Model`` specs or ``SpecError`` s met while loading (those become
    error results in the parent). The list comes back in the order of ``items``.
    ``jobs=1`` (or a single model) runs in this process.

    Example (one model to compare, so no worker process is started):
        >>> from compare.catalog import seed_model
        >>> items = [SpecError("model 'x': broken"), seed_model()]
        >>> [r.status for r in compare_parallel(items, jobs=2, diagnostics=False)]
        ['error', 'ok']
    """
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs={jobs!r} must be an integer >= 1")
    kwargs: dict[str, Any] = {
        "dtype": dtype,
        "parity": parity,
        "diagnostics": diagnostics,
        "count": count,
        "count_batch": count_batch,
    }
    results: list[ModelResult | None] = [None] * len(items)
    todo = []
    for index, item in enumerate(items):
        if isinstance(item, SpecError):
            results[index] = compare_model(item, **kwargs)
        else:
            todo.append(index)
    workers = min(jobs, len(todo))
    if workers <= 1:
        for index in todo:
            results[index] = compare_one(items[index], **kwargs)
    else:
        # Contiguous chunks, a few per worker: each worker keeps its frameworks
        # warm, and a slow model holds back only its own chunk.
        size = max(1, -(-len(todo) // (workers * 4)))
        chunks = [todo[i : i + size] for i in range(0, len(todo), size)]
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(workers, mp_context=context, initializer=_worker_init) as pool:
            futures = [
                pool.submit(_compare_chunk, [items[i] for i in chunk], kwargs) for chunk in chunks
            ]
            for chunk, future in zip(chunks, futures):
                try:
                    done = future.result()
                except Exception as exc:  # a dead worker is a result, not a crash
                    done = [_failed(items[i], exc, dtype) for i in chunk]
                for index, result in zip(chunk, done):
                    results[index] = result
    assert all(r is not None for r in results)
    return [r for r in results if r is not None]
