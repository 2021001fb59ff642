"""Markdown report: reads well on GitHub (tables, totals, differences, parity).

Example:
    >>> render_markdown([]).splitlines()[0]
    '# compare report'
"""

from __future__ import annotations

from collections.abc import Iterable

from compare.records import ModelResult
from compare.report.fmt import fmt_counts, fmt_err, fmt_int, fmt_shape, fmt_weight, input_text

__all__ = ["render_markdown"]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", "<br>")


def _side(layer, name: str) -> str:  # type: ignore[no-untyped-def]
    fw = layer.frameworks[name]
    if not fw.supported:
        return _cell(f"**unsupported**: {fw.reason}")
    parts = ["`" + "+".join(fw.classes) + "`"]
    parts += [f"`{fmt_weight(w)}`" for w in fw.weights]
    parts.append(f"→ `{fmt_shape(fw.output_shape)}`")
    return "<br>".join(_cell(p) for p in parts)


def _model(model: ModelResult) -> list[str]:
    out = [f"## {_cell(model.name)}", ""]
    if model.error is not None:
        return [*out, f"**error**: {_cell(model.error)}", ""]
    out += [
        f"Input {input_text(model.input)} ({model.dtype}). End-to-end parity: "
        f"**{model.parity.status}**"
        + (
            f" (max abs err {fmt_err(model.parity.max_abs_err)})"
            if model.parity.ok is not None
            else ""
        )
        + (f" — {_cell(model.parity.detail)}" if model.parity.detail else ""),
        "",
        "| # | kind | params = formula | PyTorch | Keras | torch / keras params | parity |",
        "|---|---|---|---|---|---|---|",
    ]
    for layer in model.layers:
        t, k = layer.frameworks["torch"], layer.frameworks["keras"]
        p = layer.parity
        verdict = p.status + (f" {fmt_err(p.max_abs_err)}" if p.ok is not None else "")
        out.append(
            f"| {layer.index} | {layer.kind} | `{_cell(layer.expression)}` "
            f"| {_side(layer, 'torch')} | {_side(layer, 'keras')} "
            f"| {fmt_counts(t)} / {fmt_counts(k)} | {verdict} |"
        )
    totals = model.totals()
    out += [
        "",
        f"Totals: formula {fmt_int(totals['formula_params'])}; "
        + "; ".join(
            f"{name} {fmt_int(totals[name]['params'])} params (trainable "
            f"{fmt_int(totals[name]['trainable_params'])}, non-trainable "
            f"{fmt_int(totals[name]['non_trainable_params'])}, "
            f"buffers {fmt_int(totals[name]['buffers'])})"
            for name in ("torch", "keras")
        ),
        "",
    ]
    out += _defaults_lines(model)
    if model.differences:
        out += ["| layer | difference | detail | naive port |", "|---|---|---|---|"]
        for index, d in model.differences:
            naive = ""
            if d.measured:
                naive = (
                    f"max abs diff {fmt_err(d.naive_max_abs_err)}: {d.naive_detail}"
                    if d.naive_max_abs_err is not None
                    else str(d.naive_detail)
                )
            out.append(f"| {index} | {d.what} | {_cell(d.detail)} | {_cell(naive)} |")
        out.append("")
    return out


def _defaults_lines(model: ModelResult) -> list[str]:
    from compare.report.defaults import defaults_table, initialisers_table

    out: list[str] = []
    for title, (header, rows) in (
        ("Defaults (spec convention)", defaults_table(model)),
        ("Initialisers (theoretical std / measured on the fresh layer)", initialisers_table(model)),
    ):
        if rows:
            out += [f"**{title}**", "", "| " + " | ".join(header) + " |"]
            out.append("|" + "---|" * len(header))
            out += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
            out.append("")
    return out


def render_markdown(models: Iterable[ModelResult]) -> str:
    """The whole report as one Markdown document.

    Example:
        >>> "## bad" in render_markdown([ModelResult("bad", None, (), error="boom")])
        True
    """
    models = list(models)
    lines = ["# compare report", ""]
    if models:
        lines += ["| model | input | layers | status |", "|---|---|---|---|"]
        for m in models:
            lines.append(
                f"| {_cell(m.name)} | {input_text(m.input)} | {len(m.layers)} | {m.status} |"
            )
        lines.append("")
    for m in models:
        lines += _model(m)
    return "\n".join(lines).rstrip() + "\n"
