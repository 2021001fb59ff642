"""Markdown report: reads well on GitHub (overview, side-by-side tables, differences).

User strings (model names, error messages) are escaped for Markdown and HTML, so a
name cannot inject markup. Parity errors use the stable buckets of ``compare.report.fmt``.

Example:
    >>> render_markdown([]).splitlines()[0]
    '# compare report'
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import Any

from compare.records import LayerResult, ModelResult, Parity
from compare.report.fmt import (
    VERDICT_MARK,
    fmt_counts,
    fmt_err,
    fmt_int,
    fmt_shape,
    fmt_stable_err,
    fmt_weight,
    input_shapes,
    input_text,
    is_layout,
    sig2,
    spec_text,
    summary_text,
)
from compare.report.safe import printable

__all__ = ["md_text", "render_markdown"]

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|#~])")
_PLAIN = re.compile(  # nothing to escape: no markup and no control or bidi character
    r"[^\\`*_\[\]|#~&<>"
    r"\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]*"
)


@functools.lru_cache(maxsize=4096)  # a report repeats its cells ("1", "valid", "False")
def md_text(text: str) -> str:
    """Plain text made safe for a Markdown table cell or heading.

    Example:
        >>> md_text("<b>a|b</b>")
        '&lt;b&gt;a\\\\|b&lt;/b&gt;'
    """
    if _PLAIN.fullmatch(text):  # most cells: nothing to escape
        return text
    text = printable(text, keep="\n")  # a carriage return would end the table row
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", text).replace("\n", "<br>")


def _code(text: str) -> str:
    """Framework facts (classes, weight names, shapes) as inline code, safe in a cell."""
    return "`" + printable(text).replace("`", "'").replace("|", "\\|") + "`"


def _side(layer: LayerResult, name: str) -> str:
    fw = layer.frameworks[name]
    if not fw.supported:
        return f"**unsupported**: {md_text(str(fw.reason))}"
    parts = [_code("+".join(fw.classes))]
    parts += [_code(fmt_weight(w)) for w in fw.weights]
    parts.append(f"→ {_code(fmt_shape(fw.output_shape))}")
    return "<br>".join(parts)


def _parity(p: Parity) -> str:
    mark = VERDICT_MARK.get(p.status, "")
    if p.ok is None:
        return f"{mark} {p.status}"
    return f"{mark} {p.status} {fmt_stable_err(p.status, p.max_abs_err, p.tolerance)}"


def _params(layer: LayerResult) -> str:
    t, k = layer.frameworks["torch"], layer.frameworks["keras"]
    line = f"{fmt_counts(t)} / {fmt_counts(k)}"
    differ = t.params is not None and k.params is not None and t.params != k.params
    return f"{_code(layer.expression)}<br>{f'**{line}**' if differ else line}"


def anchor(index: int, name: str) -> str:
    """The GitHub anchor of the heading ``{index}. {name}``.

    Example:
        >>> anchor(3, "Seed model v2")
        '3-seed-model-v2'
    """
    text = f"{index}. {name}".lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _model(number: int, model: ModelResult, verdict: str) -> list[str]:
    out = [f"## {number}. {md_text(model.name)}", ""]
    if model.error is not None:
        return [*out, f"{VERDICT_MARK['error']} **error**: {md_text(model.error)}", ""]
    torch_input, keras_input = input_shapes(model.input)
    p = model.parity
    end = f"end-to-end parity **{p.status}**"
    if p.ok is not None:
        end += (
            f", max abs err {fmt_stable_err(p.status, p.max_abs_err, p.tolerance)} "
            f"(tolerance {fmt_err(sig2(p.tolerance))})"
        )
    if p.detail:
        end += f" — {md_text(p.detail)}"
    out += [
        f"Input {input_text(model.input)} ({model.dtype}): PyTorch "
        f"{_code(torch_input)}, Keras {_code(keras_input)}.  ",
        f"Verdict {VERDICT_MARK.get(verdict, '')} **{verdict}**: {end}.",
        "",
        "| # | layer | params: formula<br>PyTorch / Keras | PyTorch (channels-first) "
        "| Keras (channels-last) | differences | parity |",
        "|---|---|---|---|---|---|---|",
    ]
    for layer in model.layers:
        spec = spec_text(layer.spec)
        kind = f"**{layer.kind}**" + (f"<br>{md_text(spec)}" if spec else "")
        diffs = "<br>".join(
            _code(d.what) if is_layout(d.what) else f"**{_code(d.what)}**"
            for d in layer.differences
        )
        out.append(
            f"| {layer.index} | {kind} | {_params(layer)} | {_side(layer, 'torch')} "
            f"| {_side(layer, 'keras')} | {diffs} | {_parity(layer.parity)} |"
        )
    totals = model.totals()
    out += ["", "| total | formula | PyTorch | Keras |", "|---|---|---|---|"]
    for key in ("params", "trainable_params", "non_trainable_params", "buffers"):
        formula = fmt_int(totals["formula_params"]) if key == "params" else ""
        out.append(
            f"| {key.replace('_', ' ')} | {formula} | {fmt_int(totals['torch'][key])} "
            f"| {fmt_int(totals['keras'][key])} |"
        )
    out.append("")
    out += _defaults_lines(model)
    out += _work_lines(model)
    if model.differences:
        out += ["| layer | difference | detail | naive port |", "|---|---|---|---|"]
        for index, d in model.differences:
            naive = ""
            if d.measured:
                naive = (
                    f"max abs diff **{fmt_err(sig2(d.naive_max_abs_err))}**: "
                    if d.naive_max_abs_err is not None
                    else ""
                ) + md_text(str(d.naive_detail))
            out.append(f"| {index} | {_code(d.what)} | {md_text(d.detail)} | {naive} |")
        out.append("")
    return out


def _work_lines(model: ModelResult) -> list[str]:
    """The work and memory tables (``compare.report.work``) and why the counts differ."""
    from compare.report.work import work_table, work_title, work_totals_table

    header, rows, notes = work_table(model)
    out = [f"**{md_text(work_title(model.count_batch).rstrip(':'))}**", ""]
    for head, body in ((header, rows), work_totals_table(model)):
        out.append("| " + " | ".join(h.replace("\n", " ") for h in head) + " |")
        out.append("|" + "---|" * len(head))
        out += ["| " + " | ".join(md_text(c) for c in row) + " |" for row in body]
        out.append("")
    if notes:
        out += [f"- layer {index}: {md_text(note)}" for index, note in notes]
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
            out += ["| " + " | ".join(md_text(c) for c in row) + " |" for row in rows]
            out.append("")
    return out


def render_markdown(
    models: Sequence[ModelResult],
    *,
    sources: Sequence[str] = (),
    summary: Any = None,
) -> str:
    """The whole report as one Markdown document.

    ``sources`` are the spec files' names as shown; ``summary`` a
    ``compare.batch.Summary`` (computed from ``models`` when None).

    Example:
        >>> "## 1. bad" in render_markdown([ModelResult("bad", None, (), error="boom")])
        True
    """
    from compare.batch import summarize, verdict

    summary = summary or summarize(models)
    verdicts = [verdict(m) for m in models]
    lines = ["# compare report", ""]
    if sources:
        lines += ["Spec files: " + ", ".join(_code(s) for s in sources) + ".", ""]
    lines += [f"**{summary_text(summary)}.**", ""]
    if models:
        lines += [
            "| # | model | input | layers | params PyTorch / Keras | differences | verdict |",
            "|---|---|---|---|---|---|---|",
        ]
        for number, (m, v) in enumerate(zip(models, verdicts), start=1):
            totals = m.totals()
            params = (
                "-"
                if m.error is not None
                else f"{fmt_int(totals['torch']['params'])} / {fmt_int(totals['keras']['params'])}"
            )
            lines.append(
                f"| {number} | [{md_text(m.name)}](#{anchor(number, m.name)}) "
                f"| {input_text(m.input)} | {len(m.layers)} | {params} "
                f"| {len(m.differences)} | {VERDICT_MARK.get(v, '')} {v} |"
            )
        lines += [
            "",
            "Parity: PyTorch and Keras run the same input after the weights are ported; an "
            "error that passes is shown as an upper bound (≤1e-05: the power of ten at or "
            "above the error and a tenth of the tolerance), a failing one at two "
            "significant digits. Differences in bold are more than a layout (axis order) "
            "difference. Naive port: what ignoring a difference costs, measured.",
            "",
        ]
    for number, (m, v) in enumerate(zip(models, verdicts), start=1):
        lines += _model(number, m, v)
    return "\n".join(lines).rstrip() + "\n"
