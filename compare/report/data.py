"""The report for programs: JSON and CSV with stable keys, columns and numbers.

Both hold the same records as ``ModelResult.to_dict()`` and ``compare.table.rows``,
with every float made stable so the same inputs give byte-identical files on any
machine: a parity error that passed is an upper bound (``stable_err``: it is rounding
noise), a failing one and every other float two significant digits (``sig2``). The
Python API keeps the raw values.

Example:
    >>> render_csv([]).splitlines()[0].split(",")[:3]
    ['model', 'index', 'kind']
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from compare.records import ModelResult
from compare.report.fmt import sig2, stable_err
from compare.report.safe import csv_cell, json_text
from compare.table import COLUMNS, rows

__all__ = ["PRECISION", "render_csv", "render_json", "stable"]

#: How report files round floats (stated in the JSON document itself).
PRECISION = {
    "parity_errors": "max_abs_err and max_rel_err: when the status is ok, an upper bound, "
    "the power of ten at or above the larger of the error and a tenth of the tolerance; "
    "otherwise two significant digits",
    "other_floats": "two significant digits",
}
_ERRORS = ("max_abs_err", "max_rel_err")


def stable(value: Any) -> Any:
    """``value`` (a JSON-ready structure) with every float made stable.

    A mapping with a ``status`` holds parity errors: bucketed when ``ok``.

    Example:
        >>> stable({"status": "ok", "max_abs_err": 2.3e-07, "tolerance": 0.000123})
        {'status': 'ok', 'max_abs_err': 0.0001, 'tolerance': 0.00012}
    """
    if isinstance(value, dict):
        status = value.get("status")
        return {
            k: stable_err(str(status), v, value.get("tolerance"))
            if k in _ERRORS and isinstance(v, float) and status is not None
            else stable(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [stable(v) for v in value]
    if isinstance(value, float):
        return sig2(value)
    return value


def render_json(
    models: Sequence[ModelResult],
    *,
    sources: Sequence[str] = (),
    summary: dict[str, Any] | None = None,
) -> str:
    """The JSON document: sources, precision, summary and ``models`` (see ``to_dict``).

    Each model gains a ``verdict`` (``compare.batch.verdict``).

    Example:
        >>> doc = json.loads(render_json([ModelResult("bad", None, (), error="boom")]))
        >>> doc["models"][0]["verdict"], doc["models"][0]["error"]
        ('error', 'boom')
    """
    from compare.batch import verdict

    doc = {
        "sources": list(sources),
        "precision": PRECISION,
        "summary": summary,
        "models": [{**m.to_dict(), "verdict": verdict(m)} for m in models],
    }
    text = json.dumps(stable(doc), indent=2, allow_nan=False, ensure_ascii=False)
    return json_text(text) + "\n"  # C1 controls and bidi characters as \u escapes


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):  # user text: no formula, no control character
        return csv_cell(value)
    return str(value)


def render_csv(models: Sequence[ModelResult]) -> str:
    """One row per layer per framework (an invalid model: one row with its error).

    Columns are ``compare.table.COLUMNS``; empty cells are unknown values; booleans
    are ``True`` / ``False`` as pandas reads them.

    Example:
        >>> render_csv([ModelResult("bad", None, (), error="boom")]).splitlines()[1][:4]
        'bad,'
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows(models):
        status = str(row["parity_status"])
        fixed = {
            **row,
            "max_abs_err": stable_err(status, row["max_abs_err"], row["tolerance"]),
            "max_rel_err": stable_err(status, row["max_rel_err"], row["tolerance"]),
            "tolerance": sig2(row["tolerance"]),
            "naive_max_abs_err": sig2(row["naive_max_abs_err"]),
        }
        writer.writerow([_csv_value(fixed[c]) for c in COLUMNS])
    return out.getvalue()
