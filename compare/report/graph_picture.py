"""An inline SVG picture of a graph model: one box per node, coloured by its parity
verdict, an arrow from each value to the nodes that read it.

The layout is computed here, not by an external tool, so a report is the same on every
machine: a node sits one row below the deepest node it reads (the input is row 0), in
the order of the model's nodes within its row. Plain SVG, no script; every label is
escaped. A chain gets no picture (its table is the picture).

Example:
    >>> svg = graph_svg([("a", "conv", ("input",), "ok"), ("b", "add", ("a", "input"), "ok")])
    >>> svg.startswith("<svg") and svg.count("<rect") == 3 and svg.count("<line") == 3
    True
"""

from __future__ import annotations

from collections.abc import Sequence

from compare.report.chart import escape

__all__ = ["VERDICT_COLOURS", "graph_svg"]

#: Box fill per parity verdict (as the report's badges).
VERDICT_COLOURS = {
    "ok": "#d3f9d8",
    "mismatch": "#ffc9c9",
    "unsupported": "#fff3bf",
    "error": "#ff8787",
    "skipped": "#e9ecef",
}

_BOX_W, _BOX_H, _GAP_X, _ROW_H, _PAD = 150, 22, 16, 40, 10

Node = tuple[str, str, Sequence[str], str]  # name, kind, inputs, verdict


def graph_svg(nodes: Sequence[Node], title: str = "") -> str:
    """The picture of ``nodes`` (name, kind, the names it reads, verdict), in order.

    Example:
        >>> "skipped" in graph_svg([("x", "dense", ("input",), "skipped")], "t")
        True
    """
    row: dict[str, int] = {"input": 0}
    for name, _, inputs, _ in nodes:
        row[name] = 1 + max((row.get(i, 0) for i in inputs), default=0)
    columns: dict[int, int] = {0: 1}
    place: dict[str, tuple[int, int]] = {"input": (0, 0)}
    for name, _, _, _ in nodes:
        r = row[name]
        place[name] = (r, columns.get(r, 0))
        columns[r] = columns.get(r, 0) + 1
    width = _PAD * 2 + max(columns.values()) * (_BOX_W + _GAP_X)
    top = 24 if title else _PAD
    height = top + (max(row.values()) + 1) * _ROW_H + _PAD

    def xy(name: str) -> tuple[int, int]:
        r, c = place[name]
        return _PAD + c * (_BOX_W + _GAP_X), top + r * _ROW_H

    parts = [
        f'<svg class="graph" xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title or "model graph")}">'
    ]
    if title:
        parts.append(f'<text x="{_PAD}" y="16" class="chart-title">{escape(title)}</text>')
    for name, _, inputs, _ in nodes:  # edges first, under the boxes
        x2, y2 = xy(name)
        for source in inputs:
            if source not in place:
                continue
            x1, y1 = xy(source)
            parts.append(
                f'<line x1="{x1 + _BOX_W // 2}" y1="{y1 + _BOX_H}" x2="{x2 + _BOX_W // 2}" '
                f'y2="{y2}" stroke="#868e96" stroke-width="1"/>'
            )
    boxes = [("input", "input", (), "skipped"), *nodes]
    for name, kind, _, verdict in boxes:
        x, y = xy(name)
        fill = VERDICT_COLOURS.get(verdict, "#ffffff")
        label = kind if name == "input" else f"{name}: {kind}"
        short = label if len(label) <= 24 else label[:23] + "…"
        parts.append(
            f"<g><title>{escape(f'{label} ({verdict})')}</title>"
            f'<rect x="{x}" y="{y}" width="{_BOX_W}" height="{_BOX_H}" rx="3" '
            f'fill="{fill}" stroke="#495057" stroke-width="1"/>'
            f'<text x="{x + 5}" y="{y + 15}">{escape(short)}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)
