"""Inline SVG charts: parameters per layer per framework, where a picture beats a table.

Plain SVG text, no script and no external resource; every label is escaped. Bars sit
on whole pixels in flat colours (``COLOURS``), so a screenshot can find them.

Example:
    >>> svg = params_chart([("0 conv", 400, 400), ("1 dense", 10, None)])
    >>> svg.startswith("<svg") and svg.count("<rect") == 5
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape as _html_escape

from compare.report.safe import printable

__all__ = ["COLOURS", "params_chart"]

#: Bar colours per framework (also in the legend).
COLOURS = {"torch": "#e8590c", "keras": "#1c7ed6"}
_LABELS = {"torch": "PyTorch", "keras": "Keras"}

_WIDTH, _LEFT, _RIGHT, _TOP, _ROW, _BAR = 640, 150, 90, 34, 30, 11


def escape(text: str) -> str:
    """A label for SVG text: control characters visible, markup escaped."""
    return _html_escape(printable(text))


def params_chart(rows: Sequence[tuple[str, int | None, int | None]], title: str = "") -> str:
    """A horizontal grouped bar chart: one ``(label, torch, keras)`` row per layer.

    ``None`` marks a layer the framework does not support (drawn as a note, not a bar).
    The scale is linear, shared by both frameworks, so the bars show where a model
    keeps its parameters.

    Example:
        >>> "unsupported" in params_chart([("0 conv", 400, None)])
        True
    """
    values = [v for _, t, k in rows for v in (t, k) if v is not None]
    top = max(values, default=0) or 1
    span = _WIDTH - _LEFT - _RIGHT
    height = _TOP + _ROW * len(rows) + 8
    label = escape(title or "Parameters per layer")
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_WIDTH}" height="{height}" '
        f'viewBox="0 0 {_WIDTH} {height}" role="img" aria-label="{label}" class="chart">',
        f"<title>{label}</title>",
        f'<text x="0" y="14" class="chart-title">{label}</text>',
    ]
    for i, fw in enumerate(COLOURS):
        x = _LEFT + 110 * i
        out.append(
            f'<rect x="{x}" y="20" width="10" height="10" fill="{COLOURS[fw]}"/>'
            f'<text x="{x + 14}" y="29">{_LABELS[fw]}</text>'
        )
    for row, (name, torch, keras) in enumerate(rows):
        y = _TOP + _ROW * row
        out.append(f'<text x="0" y="{y + _BAR + 5}" class="chart-label">{escape(name)}</text>')
        for j, (fw, value) in enumerate((("torch", torch), ("keras", keras))):
            by = y + 2 + j * (_BAR + 2)
            if value is None:
                out.append(
                    f'<text x="{_LEFT}" y="{by + _BAR - 1}" class="chart-note">'
                    f"{_LABELS[fw]}: unsupported</text>"
                )
                continue
            width = round(span * value / top)
            out.append(
                f'<rect x="{_LEFT}" y="{by}" width="{width}" height="{_BAR}" '
                f'fill="{COLOURS[fw]}"><title>{_LABELS[fw]} {escape(name)}: {value:,}</title>'
                "</rect>"
                f'<text x="{_LEFT + width + 4}" y="{by + _BAR - 1}" class="chart-value">'
                f"{value:,}</text>"
            )
    out.append("</svg>")
    return "\n".join(out)
