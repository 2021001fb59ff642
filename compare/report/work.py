"""The work and memory table every report shows: per layer the formula's MACs, what
is listed apart from them, each framework counter's FLOPs and the output bytes; per
model the totals and the peak activation memory.

Example:
    >>> work_title(8).startswith("work at batch 8")
    True
"""

from __future__ import annotations

from compare.records import ModelResult
from compare.report.fmt import fmt_int

__all__ = ["work_table", "work_title", "work_totals", "work_totals_table"]


def work_title(batch: int) -> str:
    """The heading of the work and memory table, stating the batch size and the
    counting convention.

    Example:
        >>> work_title(1)[:16]
        'work at batch 1 '
    """
    return (
        f"work at batch {batch} (formula: 1 MAC = one multiply-add, bias adds and "
        "element-wise work apart; counters: FLOPs, 2 per MAC):"
    )


def _apart(work) -> str:  # type: ignore[no-untyped-def]
    if work is None:
        return ""
    parts = [
        (work.bias_adds, "bias adds"),
        (work.activations, "activations"),
        (work.other, "other"),
    ]
    return ", ".join(f"{fmt_int(n)} {what}" for n, what in parts if n)


def work_table(model: ModelResult) -> tuple[list[str], list[list[str]], list[tuple[int, str]]]:
    """Header, rows and notes of a model's work and memory table: per layer the
    formula's MACs, what is listed apart, each counter's FLOPs and the output bytes.

    Example:
        >>> work_table(ModelResult("m", None, ()))[0][2]
        'MACs = formula'
    """
    header = [
        "#",
        "kind",
        "MACs = formula",
        "apart from MACs",
        "PyTorch FLOPs\n(FlopCounterMode)",
        "TensorFlow FLOPs\n(profiler)",
        "output bytes\ntorch / keras",
    ]
    rows, notes = [], []
    for layer in model.layers:
        t, k = layer.frameworks["torch"], layer.frameworks["keras"]
        rows.append(
            [
                str(layer.index),
                layer.kind,
                "?" if layer.work is None else layer.work.expression,
                _apart(layer.work),
                fmt_int(t.flops),
                fmt_int(k.flops),
                f"{fmt_int(t.activation_bytes)} / {fmt_int(k.activation_bytes)}",
            ]
        )
        notes += [(layer.index, note) for note in layer.count_notes]
    return header, rows, notes


def work_totals(model: ModelResult) -> list[str]:
    """The totals under the work table: MACs, FLOPs per counter, and memory.

    Example:
        >>> work_totals(ModelResult("m", None, ()))[0]
        'total: - MACs; PyTorch - FLOPs; TensorFlow - FLOPs'
    """
    totals = model.totals()
    t, k = totals["torch"], totals["keras"]
    lines = [
        f"total: {fmt_int(totals['formula_macs'])} MACs; PyTorch {fmt_int(t['flops'])} FLOPs; "
        f"TensorFlow {fmt_int(k['flops'])} FLOPs"
    ]
    for name in ("torch", "keras"):
        m = totals[name]
        lines.append(
            f"{name:>5} memory: parameters {fmt_int(m['param_bytes'])} B, buffers "
            f"{fmt_int(m['buffer_bytes'])} B, peak activations "
            f"{fmt_int(m['peak_activation_bytes'])} B (batch {model.count_batch})"
        )
    return lines


def work_totals_table(model: ModelResult) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the totals of the work table (formula, PyTorch, Keras).

    Example:
        >>> work_totals_table(ModelResult("m", None, ()))[1][0]
        ['MACs', '-', '', '']
    """
    totals = model.totals()
    t, k = totals["torch"], totals["keras"]
    rows = [["MACs", fmt_int(totals["formula_macs"]), "", ""]]
    for label, key in (
        ("FLOPs (the framework's counter)", "flops"),
        ("parameter bytes", "param_bytes"),
        ("buffer bytes", "buffer_bytes"),
        (f"peak activation bytes (batch {model.count_batch})", "peak_activation_bytes"),
    ):
        rows.append([label, "", fmt_int(t[key]), fmt_int(k[key])])
    return ["total", "formula", "PyTorch", "Keras"], rows
