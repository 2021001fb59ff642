"""Compare many models in worker processes, results merged in the original order.

Workers are started with ``spawn`` (TensorFlow does not survive ``fork`` after it
is imported), so each one imports the frameworks once and then compares every model
it is sent. Models travel to the workers and ``ModelResult`` records travel back by
pickle; a ``SpecError`` met while loading never leaves the parent. The merged list
is the one a serial run gives, so every report rendered from it is byte-identical.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from compare.comparison import compare_model
from compare.errors import SpecError
from compare.records import ModelResult
from compare.spec import Model

__all__ = ["compare_one", "compare_parallel"]


def _worker_init() -> None:
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def compare_one(
    item: Model | SpecError,
    dtype: str,
    parity: bool = True,
    diagnostics: bool = True,
    count: bool = False,
) -> ModelResult:
    """``compare_model(item, ...)``, with an unexpected failure as this model's result.

    Example:
        >>> compare_one(SpecError("model 'x': broken"), "float32").status
        'error'
    """
    try:
        return compare_model(item, dtype=dtype, parity=parity, diagnostics=diagnostics, count=count)
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
) -> list[ModelResult]:
    """``[compare_model(item, dtype=..., parity=..., diagnostics=..., count=...) for item in
    items]``,
    computed in ``jobs`` processes.

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
