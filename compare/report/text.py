"""The terminal rendering of ``show``: a side-by-side table per model.

Example:
    >>> print(grid(["x"], [["a\\nb"]]))
    x
    -
    a
    b
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from compare.records import ModelResult
from compare.report.fmt import (
    fmt_counts,
    fmt_err,
    fmt_int,
    fmt_shape,
    fmt_weight,
    input_shapes,
    input_text,
)
from compare.report.safe import printable
from compare.report.work import work_table, work_title, work_totals

__all__ = ["grid", "render_model", "render_text"]


def grid(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A plain-text table whose cells may span several lines.

    Example:
        >>> print(grid(["a"], [["1"]]))
        a
        -
        1
    """
    table = [list(header), *[list(r) for r in rows]]
    widths = [
        max(len(line) for row in table for line in row[col].split("\n"))
        for col in range(len(header))
    ]

    def lines(row: Sequence[str]) -> list[str]:
        cells = [cell.split("\n") for cell in row]
        height = max(len(c) for c in cells)
        out = []
        for i in range(height):
            parts = [(c[i] if i < len(c) else "").ljust(w) for c, w in zip(cells, widths)]
            out.append(" | ".join(parts).rstrip())
        return out

    rule = "-+-".join("-" * w for w in widths)
    body = [lines(table[0]), [rule]] + [lines(r) for r in table[1:]]
    return "\n".join(line for block in body for line in block)


def _side(layer, name: str) -> str:  # type: ignore[no-untyped-def]
    fw = layer.frameworks[name]
    if not fw.supported:
        return f"UNSUPPORTED\n{fw.reason}"
    parts = ["+".join(fw.classes)]
    parts += [fmt_weight(w) for w in fw.weights]
    parts.append(f"-> {fmt_shape(fw.output_shape)}")
    return "\n".join(parts)


def _parity(p) -> str:  # type: ignore[no-untyped-def]
    if p.status in ("ok", "mismatch"):
        return f"{p.status}\n{fmt_err(p.max_abs_err)}"
    return p.status


def render_model(model: ModelResult) -> str:
    """One model's side-by-side table, totals, parity and differences.

    Example:
        >>> print(render_model(ModelResult("bad", None, (), error="layer 0: boom")))
        model 'bad': ERROR: layer 0: boom
    """
    if model.error is not None:
        return printable(f"model '{printable(model.name)}': ERROR: {model.error}", keep="\n")
    header = [
        "#",
        "kind",
        "params = formula",
        "PyTorch (channels-first)",
        "Keras (channels-last)",
        "parity\nmax|err|",
    ]
    rows = []
    for layer in model.layers:
        t, k = layer.frameworks["torch"], layer.frameworks["keras"]
        counts = f"torch {fmt_counts(t)}, keras {fmt_counts(k)}"
        if "(" in counts:  # non-trainable weights or buffers: one framework per line
            counts = counts.replace(", keras", "\nkeras")
        rows.append(
            [
                str(layer.index),
                layer.kind,
                f"{layer.expression}\n{counts}",
                _side(layer, "torch"),
                _side(layer, "keras"),
                _parity(layer.parity),
            ]
        )
    totals = model.totals()
    torch_input, keras_input = input_shapes(model.input)
    lines = [
        f"model '{printable(model.name)}': input {input_text(model.input)} ({model.dtype}; "
        f"torch {torch_input}, keras {keras_input})",
        grid(header, rows),
    ]
    for name in ("torch", "keras"):
        t = totals[name]
        lines.append(
            f"{name:>5} total: {fmt_int(t['params'])} params (trainable "
            f"{fmt_int(t['trainable_params'])}, "
            f"non-trainable {fmt_int(t['non_trainable_params'])}), "
            f"buffers {fmt_int(t['buffers'])}"
        )
    lines.append(f"formula total: {fmt_int(totals['formula_params'])} params")
    p = model.parity
    verdict = p.status + (
        f", max|err| {fmt_err(p.max_abs_err)} (tolerance {fmt_err(p.tolerance)})"
        if p.ok is not None
        else ""
    )
    lines.append(f"end-to-end parity: {verdict}" + (f" - {p.detail}" if p.detail else ""))
    lines += _defaults_lines(model)
    header, rows, notes = work_table(model)
    lines += [work_title(model.count_batch), grid(header, rows), *work_totals(model)]
    if notes:
        lines.append("why the counts differ:")
        lines += [f"  layer {index}: {note}" for index, note in notes]
    diffs = model.differences
    if diffs:
        lines.append("differences:")
        for index, d in diffs:
            naive = ""
            if d.measured:
                naive = (
                    f" [naive port: max|diff| {fmt_err(d.naive_max_abs_err)}: {d.naive_detail}]"
                    if d.naive_max_abs_err is not None
                    else f" [naive port: {d.naive_detail}]"
                )
            lines.append(f"  layer {index} {d.what}: {d.detail}{naive}")
    return printable("\n".join(lines), keep="\n")  # no escape sequence reaches a terminal


def _defaults_lines(model: ModelResult) -> list[str]:
    from compare.report.defaults import defaults_table, initialisers_table

    out = []
    for title, (header, rows) in (
        ("defaults (spec convention):", defaults_table(model)),
        (
            "initialisers (theoretical std / measured on the fresh layer):",
            initialisers_table(model),
        ),
    ):
        if rows:
            out += [title, grid(header, rows)]
    return out


def render_text(models: Iterable[ModelResult]) -> str:
    """Every model, separated by a blank line.

    Example:
        >>> render_text([])
        ''
    """
    return "\n\n".join(render_model(m) for m in models)
