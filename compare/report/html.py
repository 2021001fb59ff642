"""A self-contained HTML report: inline CSS, inline SVG, no script, no network.

Every string that reaches the page goes through ``html.escape`` (``_e``): model names,
error messages, and framework facts alike. Rows with named differences are highlighted;
each verdict has its colour; each model has a chart of parameters per layer.

Example:
    >>> page = render_html([ModelResult("<b>x</b>", None, (), error="boom")])
    >>> "&lt;b&gt;x&lt;/b&gt;" in page and "<b>x</b>" not in page
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

from compare.records import LayerResult, ModelResult, Parity
from compare.report.chart import params_chart
from compare.report.fmt import (
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
from compare.report.graph_picture import graph_svg
from compare.report.safe import printable

__all__ = ["render_html"]

CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #212529;
       margin: 24px auto; max-width: 1400px; padding: 0 16px; }
h1 { font-size: 24px; } h2 { font-size: 19px; margin-top: 36px;
     border-bottom: 1px solid #dee2e6; padding-bottom: 4px; }
table { border-collapse: collapse; margin: 10px 0; }
th, td { border: 1px solid #ced4da; padding: 4px 8px; vertical-align: top; text-align: left; }
th { background: #e9ecef; }
td.params { white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
code, .fact { font: 12px ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; }
.fact { display: block; white-space: nowrap; }
tr.notable td { background: #fff9db; }
tr.notable td:first-child { box-shadow: inset 4px 0 0 #f59f00; }
.chip { display: inline-block; background: #e9ecef; border-radius: 3px; padding: 0 4px;
        margin: 1px 0; font: 12px ui-monospace, monospace; }
.chip.notable { background: #ffd43b; font-weight: 600; }
.disagree { color: #c92a2a; font-weight: 600; }
.v { font-weight: 600; white-space: nowrap; border-radius: 3px; padding: 1px 6px; }
.v-ok { background: #d3f9d8; color: #1b5e20; }
.v-mismatch { background: #ffc9c9; color: #862e2e; }
.v-unsupported { background: #ffec99; color: #7a5a00; }
.v-error { background: #ff8787; color: #3b0000; }
.v-skipped { background: #e9ecef; }
td.unsupported { background: #fff3bf; color: #7a5a00; }
.error { background: #ffe3e3; border-left: 4px solid #e03131; padding: 6px 10px;
         white-space: pre-wrap; }
.muted { color: #6c757d; }
.summary { font-size: 15px; font-weight: 600; }
caption { text-align: left; font-weight: 600; padding: 4px 0; }
tr.differs td { background: #fff9db; }
svg.chart { display: block; margin: 8px 0 4px; font: 12px system-ui, sans-serif; }
svg .chart-title { font-weight: 600; }
svg .chart-note { fill: #7a5a00; font-style: italic; }
"""


def _e(text: Any) -> str:
    return escape(printable(str(text), keep="\n"), quote=True)


#: Verdict marks in glyphs every text font has (no colour-emoji font needed).
MARKS = {"ok": "✓", "mismatch": "✗", "unsupported": "⚠", "error": "✖"}


def _badge(status: str) -> str:
    return f'<span class="v v-{_e(status)}">{MARKS.get(status, "")} {_e(status)}</span>'


def _chip(what: str) -> str:
    cls = "chip" if is_layout(what) else "chip notable"
    return f'<span class="{cls}">{_e(what)}</span>'


def _side(layer: LayerResult, name: str) -> str:
    fw = layer.frameworks[name]
    if not fw.supported:
        return f'<td class="unsupported"><b>unsupported</b>: {_e(fw.reason)}</td>'
    facts = ["+".join(fw.classes), *[fmt_weight(w) for w in fw.weights]]
    facts.append(f"→ {fmt_shape(fw.output_shape)}")
    return "<td>" + "".join(f'<span class="fact">{_e(f)}</span>' for f in facts) + "</td>"


def _parity(p: Parity) -> str:
    err = (
        ""
        if p.ok is None
        else f"<br><code>{_e(fmt_stable_err(p.status, p.max_abs_err, p.tolerance))}</code>"
    )
    return f"<td>{_badge(p.status)}{err}</td>"


def _layer_row(layer: LayerResult) -> str:
    counts = [layer.frameworks[n].params for n in ("torch", "keras")]
    agree = all(c is None or c == layer.params for c in counts)
    count_text = f"{fmt_int(counts[0])} / {fmt_int(counts[1])}"
    counts_html = (
        _e(count_text) if agree else f'<span class="disagree">{_e(count_text)} ≠ formula</span>'
    )
    spec = spec_text(layer.spec)
    diffs = "<br>".join(_chip(d.what) for d in layer.differences)
    notable = any(not is_layout(d.what) for d in layer.differences)
    cls = ' class="notable"' if notable else ""
    return (
        f"<tr{cls}><td class='num'>{layer.index}</td>"
        f"<td><b>{_e(layer.kind)}</b>" + (f"<br><code>{_e(spec)}</code>" if spec else "") + "</td>"
        f'<td class="params"><code>{_e(layer.expression)}</code><br>{counts_html}</td>'
        f"{_side(layer, 'torch')}{_side(layer, 'keras')}<td>{diffs}</td>{_parity(layer.parity)}"
        "</tr>"
    )


def _model(number: int, model: ModelResult, verdict: str) -> list[str]:
    out = [
        f'<section id="m-{number}">',
        f"<h2>{number}. {_e(model.name)} {_badge(verdict)}</h2>",
    ]
    if model.error is not None:
        return [*out, f'<p class="error">{_e(model.error)}</p>', "</section>"]
    torch_input, keras_input = input_shapes(model.input)
    p = model.parity
    end = f"end-to-end parity {_badge(p.status)}"
    if p.ok is not None:
        end += (
            f" max abs err <code>{_e(fmt_stable_err(p.status, p.max_abs_err, p.tolerance))}</code> "
            f"(tolerance {_e(fmt_err(sig2(p.tolerance)))})"
        )
    if p.detail:
        end += f' <span class="muted">— {_e(p.detail)}</span>'
    out += [
        f"<p>Input {_e(input_text(model.input))} ({_e(model.dtype)}): PyTorch "
        f"<code>{_e(torch_input)}</code>, Keras <code>{_e(keras_input)}</code>; {end}</p>",
        '<table class="layers"><thead><tr><th>#</th><th>layer</th>'
        "<th>params: formula<br>PyTorch / Keras</th><th>PyTorch (channels-first)</th>"
        "<th>Keras (channels-last)</th><th>differences</th><th>parity</th></tr></thead><tbody>",
        *[_layer_row(layer) for layer in model.layers],
        "</tbody></table>",
        *_picture(model),
    ]
    totals = model.totals()
    out.append(
        '<table class="totals"><thead><tr><th>total</th><th>formula</th><th>PyTorch</th>'
        "<th>Keras</th></tr></thead><tbody>"
    )
    for key in ("params", "trainable_params", "non_trainable_params", "buffers"):
        formula = fmt_int(totals["formula_params"]) if key == "params" else ""
        out.append(
            f"<tr><td>{_e(key.replace('_', ' '))}</td><td class='num'>{_e(formula)}</td>"
            f"<td class='num'>{_e(fmt_int(totals['torch'][key]))}</td>"
            f"<td class='num'>{_e(fmt_int(totals['keras'][key]))}</td></tr>"
        )
    out.append("</tbody></table>")
    chart_rows = [
        (
            f"{layer.index} {layer.kind}",
            layer.frameworks["torch"].params if layer.frameworks["torch"].supported else None,
            layer.frameworks["keras"].params if layer.frameworks["keras"].supported else None,
        )
        for layer in model.layers
    ]
    out.append(params_chart(chart_rows, f"Parameters per layer: {model.name}"))
    if model.differences:
        out.append(
            '<table class="differences"><thead><tr><th>layer</th><th>difference</th>'
            "<th>detail</th><th>naive port</th></tr></thead><tbody>"
        )
        for index, d in model.differences:
            naive = ""
            if d.measured:
                if d.naive_max_abs_err is not None:
                    naive = f"max abs diff <b>{_e(fmt_err(sig2(d.naive_max_abs_err)))}</b>: "
                naive += _e(d.naive_detail)
            out.append(
                f"<tr><td class='num'>{index}</td><td>{_chip(d.what)}</td>"
                f"<td>{_e(d.detail)}</td><td>{naive}</td></tr>"
            )
        out.append("</tbody></table>")
    out += _defaults_tables(model)
    out += _work_tables(model)
    out.append("</section>")
    return out


def _picture(model: ModelResult) -> list[str]:
    """The graph drawn, nodes coloured by verdict (a chain: none)."""
    if not any("inputs" in layer.spec for layer in model.layers):
        return []
    nodes = [
        (
            str(layer.spec.get("name", layer.index)),
            layer.kind,
            tuple(str(i) for i in layer.spec.get("inputs", ())),
            str(layer.parity.status),
        )
        for layer in model.layers
    ]
    return [graph_svg(nodes, f"Graph: {model.name}")]


def _work_tables(model: ModelResult) -> list[str]:
    """The work and memory tables (``compare.report.work``) and why the counts differ."""
    from compare.report.work import work_table, work_title, work_totals_table

    header, rows, notes = work_table(model)
    out = []
    title = _e(work_title(model.count_batch).rstrip(":"))
    for i, (head, body) in enumerate(((header, rows), work_totals_table(model))):
        caption = f"<caption>{title}</caption>" if i == 0 else ""
        cells = "".join(f"<th>{_e(h).replace(chr(10), '<br>')}</th>" for h in head)
        out.append(f'<table class="work">{caption}<thead><tr>{cells}</tr></thead><tbody>')
        for row in body:
            out.append("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>")
        out.append("</tbody></table>")
    if notes:
        out.append('<ul class="work-notes">')
        out += [f"<li>layer {index}: {_e(note)}</li>" for index, note in notes]
        out.append("</ul>")
    return out


def _defaults_tables(model: ModelResult) -> list[str]:
    """The defaults and initialisers tables (only for layers that have them)."""
    from compare.report.defaults import defaults_table, initialisers_table

    out: list[str] = []
    for title, (header, rows) in (
        ("Defaults (spec convention)", defaults_table(model)),
        ("Initialisers (theoretical std / measured on the fresh layer)", initialisers_table(model)),
    ):
        if not rows:
            continue
        out.append(f'<table class="defaults"><caption>{_e(title)}</caption><thead><tr>')
        out.append("".join(f"<th>{_e(h)}</th>" for h in header) + "</tr></thead><tbody>")
        for row in rows:
            flagged = ' class="differs"' if row and row[-1] == "differs" else ""
            out.append(f"<tr{flagged}>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>")
        out.append("</tbody></table>")
    return out


def render_html(
    models: Sequence[ModelResult],
    *,
    sources: Sequence[str] = (),
    summary: Any = None,
) -> str:
    """The whole report as one self-contained HTML page.

    Example:
        >>> render_html([]).startswith("<!DOCTYPE html>")
        True
    """
    from compare.batch import summarize, verdict

    summary = summary or summarize(models)
    verdicts = [verdict(m) for m in models]
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>compare report</title>",
        f"<style>{CSS}</style></head><body>",
        "<h1>compare report</h1>",
    ]
    if sources:
        out.append("<p>Spec files: " + ", ".join(f"<code>{_e(s)}</code>" for s in sources) + "</p>")
    out.append(f'<p class="summary">{_e(summary_text(summary))}</p>')
    if models:
        out.append(
            '<table class="overview"><thead><tr><th>#</th><th>model</th><th>input</th>'
            "<th>layers</th><th>params PyTorch / Keras</th><th>differences</th>"
            "<th>verdict</th></tr></thead><tbody>"
        )
        for number, (m, v) in enumerate(zip(models, verdicts), start=1):
            totals = m.totals()
            params = (
                "-"
                if m.error is not None
                else f"{fmt_int(totals['torch']['params'])} / {fmt_int(totals['keras']['params'])}"
            )
            out.append(
                f"<tr><td class='num'>{number}</td>"
                f'<td><a href="#m-{number}">{_e(m.name)}</a></td>'
                f"<td>{_e(input_text(m.input))}</td><td class='num'>{len(m.layers)}</td>"
                f"<td class='num'>{_e(params)}</td><td class='num'>{len(m.differences)}</td>"
                f"<td>{_badge(v)}</td></tr>"
            )
        out.append("</tbody></table>")
        out.append(
            '<p class="muted">Parity: PyTorch and Keras run the same input after the weights '
            "are ported; an error that passes is shown as an upper bound (≤1e-05: the power of "
            "ten at or above the error and a tenth of the tolerance), a failing one at two "
            "significant digits. Every difference is named; the grey ones are layout "
            "(axis order) differences every port handles, highlighted rows hold the others. "
            "The naive port column measures what ignoring one costs.</p>"
        )
    for number, (m, v) in enumerate(zip(models, verdicts), start=1):
        out += _model(number, m, v)
    out.append("</body></html>")
    return "\n".join(out) + "\n"
