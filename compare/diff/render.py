"""A ``Diff`` as plain text, Markdown or a standalone HTML page (strings last: the
records hold no formatting)."""

from __future__ import annotations

import html as _html
from typing import Any

from compare.diff.records import Diff, Difference

__all__ = ["render_html", "render_markdown", "render_text"]

#: Places listed per difference before "... and N more".
SHOWN = 6


def _value(v: Any) -> str:
    return "-" if v is None else str(v)


def _places(d: Difference) -> list[str]:
    shown = [str(p) for p in d.places[:SHOWN]]
    if len(d.places) > SHOWN:
        shown.append(f"... and {len(d.places) - SHOWN} more")
    return shown


def _count_rows(diff: Diff) -> list[tuple[str, str, str]]:
    r = diff.reconciliation
    t, k = r.torch, r.keras
    return [
        ("total parameters", f"{t.total:,}", f"{k.total:,}"),
        ("trainable", f"{t.trainable:,}", f"{k.trainable:,}"),
        ("non-trainable", f"{t.non_trainable:,}", f"{k.non_trainable:,}"),
        ("buffer elements", "-" if t.buffers is None else f"{t.buffers:,}", "-"),
    ]


def _summary(diff: Diff) -> str:
    d = diff.to_dict()
    return (
        f"{d['aligned']} nodes aligned, {d['only_torch']} only in torch, "
        f"{d['only_keras']} only in keras; {len(diff.differences)} differences"
    )


def render_text(diff: Diff) -> str:
    """Plain text: counts, the gap by cause, then every difference with its places.

    Example:
        >>> from compare.diff import Counts, Diff, Reconciliation
        >>> d = Diff("a", "b", "3x8x8", (), (), Reconciliation(Counts(5, 5, 0, 0),
        ...          Counts(5, 5, 0, None), ()))
        >>> print(render_text(d).splitlines()[0])
        diff: torch a vs keras b (input 3x8x8)
    """
    r = diff.reconciliation
    lines = [f"diff: torch {diff.torch_name} vs keras {diff.keras_name} (input {diff.input})"]
    lines.append(_summary(diff))
    lines.append("")
    lines.append(f"{'':<18} {'torch':>14} {'keras':>14}")
    lines += [f"{a:<18} {b:>14} {c:>14}" for a, b, c in _count_rows(diff)]
    lines.append(f"gap (keras - torch): {r.gap:+,}")
    for c in r.causes:
        lines.append(f"  {c.params:+,}  {c.name} ({c.places} places)")
    lines.append(f"  = {sum(c.params for c in r.causes):+,}")
    lines += _drift_lines(diff)
    for d in diff.differences:
        lines.append("")
        lines.append(f"[{d.category}] {d.key}: torch {_value(d.torch)}, keras {_value(d.keras)}")
        if d.note:
            lines.append(f"  ({d.note})")
        lines.append(f"  {len(d.places)} place{'s' * (len(d.places) != 1)}:")
        lines += [f"    {p}" for p in _places(d)]
    return "\n".join(lines) + "\n"


def _drift_lines(diff: Diff) -> list[str]:
    drift = diff.drift
    if drift is None:
        return []
    lines = ["", f"output drift, max |torch - keras| (outputs up to {drift.scale:.3g}):"]
    lines.append(f"  {drift.error:.3g}  every difference on ({drift.note})")
    lines += [f"  {s.error:.3g}  {s.key} switched off ({s.note})" for s in drift.switched]
    if drift.all_off is not None:
        lines.append(f"  {drift.all_off:.3g}  all of these switched off")
    return lines


def _cell(v: Any) -> str:
    return _value(v).replace("|", "\\|")


def render_markdown(diff: Diff) -> str:
    """Markdown: a counts table, the gap by cause, a table of differences.

    Example:
        >>> from compare.diff import Counts, Diff, Reconciliation
        >>> d = Diff("a", "b", "3x8x8", (), (), Reconciliation(Counts(5, 5, 0, 0),
        ...          Counts(5, 5, 0, None), ()))
        >>> render_markdown(d).splitlines()[0]
        '## diff: torch `a` vs keras `b` (input 3x8x8)'
    """
    r = diff.reconciliation
    out = [f"## diff: torch `{diff.torch_name}` vs keras `{diff.keras_name}` (input {diff.input})"]
    out += ["", _summary(diff), "", "| | torch | keras |", "|---|---:|---:|"]
    out += [f"| {a} | {b} | {c} |" for a, b, c in _count_rows(diff)]
    out += ["", f"Gap (keras - torch): **{r.gap:+,}**", "", "| cause | params | places |"]
    out += ["|---|---:|---:|"]
    out += [f"| {_cell(c.name)} | {c.params:+,} | {c.places} |" for c in r.causes]
    out += [f"| sum | {sum(c.params for c in r.causes):+,} | |"]
    out += [line if line else "" for line in _drift_lines(diff)]
    out += ["", "| category | key | torch | keras | places |", "|---|---|---|---|---|"]
    for d in diff.differences:
        places = "<br>".join(_cell(p) for p in _places(d))
        out.append(
            f"| {d.category} | `{d.key}` | {_cell(d.torch)} | {_cell(d.keras)} | "
            f"{len(d.places)}: {places} |"
        )
    return "\n".join(out) + "\n"


def render_html(diff: Diff) -> str:
    """A standalone HTML page with the same tables as ``markdown``; every value escaped.

    Example:
        >>> from compare.diff import Counts, Diff, Reconciliation
        >>> d = Diff("<a>", "b", "3x8x8", (), (), Reconciliation(Counts(5, 5, 0, 0),
        ...          Counts(5, 5, 0, None), ()))
        >>> "&lt;a&gt;" in render_html(d) and "<a>" not in render_html(d)
        True
    """
    e = _html.escape
    r = diff.reconciliation
    title = f"diff: torch {diff.torch_name} vs keras {diff.keras_name} (input {diff.input})"
    rows = "".join(
        f"<tr><th>{e(a)}</th><td>{e(b)}</td><td>{e(c)}</td></tr>" for a, b, c in _count_rows(diff)
    )
    causes = "".join(
        f"<tr><td>{e(c.name)}</td><td>{c.params:+,}</td><td>{c.places}</td></tr>" for c in r.causes
    )
    found = "".join(
        f"<tr><td>{e(d.category)}</td><td><code>{e(d.key)}</code></td>"
        f"<td>{e(_value(d.torch))}</td><td>{e(_value(d.keras))}</td>"
        f"<td>{len(d.places)}: {'<br>'.join(e(p) for p in _places(d))}</td></tr>"
        for d in diff.differences
    )
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        f"<title>{e(title)}</title></head><body>\n<h2>{e(title)}</h2>\n"
        f"<p>{e(_summary(diff))}</p>\n"
        f"<table><tr><th></th><th>torch</th><th>keras</th></tr>{rows}</table>\n"
        f"<p>Gap (keras - torch): <b>{r.gap:+,}</b></p>\n"
        f"<table><tr><th>cause</th><th>params</th><th>places</th></tr>{causes}"
        f"<tr><td>sum</td><td>{sum(c.params for c in r.causes):+,}</td><td></td></tr></table>\n"
        "<table><tr><th>category</th><th>key</th><th>torch</th><th>keras</th><th>places</th></tr>"
        f"{found}</table>\n"
        f"<pre>{e(chr(10).join(_drift_lines(diff)))}</pre>\n</body></html>\n"
    )
