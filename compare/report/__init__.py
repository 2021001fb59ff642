"""Renderers: records in, text out (terminal, Markdown, HTML, CSV, JSON).

Example:
    >>> from compare.report.text import grid
    >>> print(grid(["a", "b"], [["1", "2"]]))
    a | b
    --+--
    1 | 2
"""
