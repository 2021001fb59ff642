"""Records -> one tidy pandas DataFrame. Column names live here and only here.

Example:
    >>> COLUMNS[:4]
    ('model', 'index', 'kind', 'framework')
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from compare.records import FRAMEWORKS, ModelResult

__all__ = ["COLUMNS", "rows", "to_frame"]

#: One row per layer per framework; the names match the JSON document's keys.
COLUMNS = (
    "model",
    "index",
    "kind",
    "framework",
    "supported",
    "reason",
    "classes",
    "weights",
    "trainable_params",
    "non_trainable_params",
    "params",
    "buffers",
    "output_shape",
    "flops",
    "param_bytes",
    "buffer_bytes",
    "activation_bytes",
    "formula_params",
    "expression",
    "formula_macs",
    "macs_expression",
    "parity_status",
    "parity_ok",
    "max_abs_err",
    "max_rel_err",
    "tolerance",
    "differences",
    "naive_max_abs_err",
    "error",
)


def _weights_text(weights: Iterable[Any]) -> str:
    return "; ".join(
        f"{w.name} {tuple(w.shape)}" + (f" [{','.join(w.axes)}]" if w.axes else "") for w in weights
    )


def rows(models: Iterable[ModelResult]) -> list[dict[str, Any]]:
    """Plain dict rows in ``COLUMNS`` order (what ``to_frame`` wraps).

    Example:
        >>> rows([ModelResult("bad", None, (), error="boom")])[0]["error"]
        'boom'
    """
    out: list[dict[str, Any]] = []
    for model in models:
        if model.error is not None:
            row = dict.fromkeys(COLUMNS)
            row.update(model=model.name, parity_status="error", error=model.error)
            out.append(row)
            continue
        for layer in model.layers:
            naive = [d.naive_max_abs_err for d in layer.differences if d.naive_max_abs_err]
            for name in FRAMEWORKS:
                fw = layer.frameworks[name]
                out.append(
                    {
                        "model": model.name,
                        "index": layer.index,
                        "kind": layer.kind,
                        "framework": name,
                        "supported": fw.supported,
                        "reason": fw.reason,
                        "classes": "+".join(fw.classes),
                        "weights": _weights_text(fw.weights),
                        "trainable_params": fw.trainable_params,
                        "non_trainable_params": fw.non_trainable_params,
                        "params": fw.params,
                        "buffers": fw.buffers,
                        "output_shape": None
                        if fw.output_shape is None
                        else str(tuple(fw.output_shape)),
                        "flops": fw.flops,
                        "param_bytes": fw.param_bytes,
                        "buffer_bytes": fw.buffer_bytes,
                        "activation_bytes": fw.activation_bytes,
                        "formula_params": layer.params,
                        "expression": layer.expression,
                        "formula_macs": layer.macs,
                        "macs_expression": None if layer.work is None else layer.work.expression,
                        "parity_status": layer.parity.status,
                        "parity_ok": layer.parity.ok,
                        "max_abs_err": layer.parity.max_abs_err,
                        "max_rel_err": layer.parity.max_rel_err,
                        "tolerance": layer.parity.tolerance,
                        "differences": ", ".join(d.what for d in layer.differences),
                        "naive_max_abs_err": max(naive) if naive else None,
                        "error": None,
                    }
                )
    return out


def to_frame(models: Iterable[ModelResult]) -> Any:
    """A ``pandas.DataFrame`` with ``COLUMNS``: one row per layer per framework.

    Example:
        >>> to_frame([]).columns.tolist() == list(COLUMNS)
        True
    """
    import pandas as pd

    frame = pd.DataFrame(rows(models), columns=list(COLUMNS))
    for column in (
        "index",
        "trainable_params",
        "non_trainable_params",
        "params",
        "buffers",
        "flops",
        "param_bytes",
        "buffer_bytes",
        "activation_bytes",
        "formula_macs",
    ):
        frame[column] = frame[column].astype("Int64")
    return frame
