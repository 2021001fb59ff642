"""Small shared formatting helpers for every renderer (numbers, shapes, errors).

Example:
    >>> fmt_int(49378), fmt_shape((None, 40, 26, 26)), fmt_err(2.384e-07)
    ('49,378', '(None, 40, 26, 26)', '2.4e-07')
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["fmt_counts", "fmt_err", "fmt_int", "fmt_shape", "fmt_weight", "input_text"]


def fmt_int(value: int | None) -> str:
    """Thousands separators; '-' for unknown.

    Example:
        >>> fmt_int(None)
        '-'
    """
    return "-" if value is None else f"{value:,}"


def fmt_shape(shape: Sequence[int | None] | None) -> str:
    """A shape as Python prints a tuple, the batch axis as None.

    Example:
        >>> fmt_shape([None, 10])
        '(None, 10)'
    """
    if shape is None:
        return "-"
    items = ["None" if d is None else str(d) for d in shape]
    return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"


def fmt_err(value: float | None) -> str:
    """An error at a fixed precision (two significant digits) so reports are stable.

    Example:
        >>> fmt_err(0.0)
        '0'
    """
    if value is None:
        return "-"
    if value == 0:
        return "0"
    return f"{value:.1e}" if value < 0.01 else f"{value:.2g}"


def fmt_weight(w: Any) -> str:
    """``name (shape) [axes]`` for a weight fact.

    Example:
        >>> from compare.adapters.base import WeightFact
        >>> fmt_weight(WeightFact("weight", (8, 40, 3, 3), ("O", "I", "H", "W"), True))
        'weight (8, 40, 3, 3) [O,I,H,W]'
    """
    axes = f" [{','.join(w.axes)}]" if w.axes else ""
    return f"{w.name} {fmt_shape(w.shape)}{axes}"


def input_text(inp: dict[str, Any] | None) -> str:
    """A model input as ``28x28x1`` (size then channels).

    Example:
        >>> input_text({"channels": 1, "size": [28, 28]})
        '28x28x1'
    """
    if inp is None:
        return "-"
    return "x".join(str(n) for n in [*inp["size"], inp["channels"]])


def fmt_counts(fw: Any) -> str:
    """A framework's parameter count as its own summary gives it, with the parts that
    differ between frameworks spelled out (non-trainable weights, buffers).

    Example:
        >>> from compare.records import FrameworkLayer
        >>> fmt_counts(FrameworkLayer("keras", True, trainable_params=8,
        ...                           non_trainable_params=8, buffers=0))
        '16 (8 non-trainable)'
        >>> fmt_counts(FrameworkLayer("torch", True, trainable_params=8,
        ...                           non_trainable_params=0, buffers=9))
        '8 (+9 buffer elements)'
    """
    parts = []
    if fw.non_trainable_params:
        parts.append(f"{fmt_int(fw.non_trainable_params)} non-trainable")
    if fw.buffers:
        parts.append(f"+{fmt_int(fw.buffers)} buffer elements")
    return fmt_int(fw.params) + (f" ({', '.join(parts)})" if parts else "")
