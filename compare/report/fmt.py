"""Small shared formatting helpers for every renderer (numbers, shapes, errors).

Example:
    >>> fmt_int(49378), fmt_shape((None, 40, 26, 26)), fmt_err(2.384e-07)
    ('49,378', '(None, 40, 26, 26)', '2.4e-07')
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

__all__ = [
    "VERDICT_MARK",
    "err_bucket",
    "fmt_counts",
    "fmt_err",
    "fmt_int",
    "fmt_shape",
    "fmt_stable_err",
    "fmt_weight",
    "input_shapes",
    "input_text",
    "is_layout",
    "sig2",
    "spec_text",
    "stable_err",
    "summary_text",
]


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
    if inp.get("dtype") == "int":
        return "x".join(str(n) for n in inp["size"]) + " token ids"
    return "x".join(str(n) for n in [*inp["size"], inp["channels"]])


def input_shapes(inp: dict[str, Any] | None) -> tuple[str, str]:
    """The input as PyTorch and Keras take it (batch axis ``None``): channels first
    and last; token ids (``dtype`` int) have no channel axis in either.

    Example:
        >>> input_shapes({"channels": 1, "size": [28, 28]})
        ('(None, 1, 28, 28)', '(None, 28, 28, 1)')
        >>> input_shapes({"channels": 1, "size": [12], "dtype": "int"})
        ('(None, 12)', '(None, 12)')
    """
    inp = inp or {"channels": 0, "size": []}
    channel = [] if inp.get("dtype") == "int" else [inp["channels"]]
    size = list(inp["size"])
    return fmt_shape([None, *channel, *size]), fmt_shape([None, *size, *channel])


def err_bucket(value: float | None) -> float | None:
    """The smallest power of ten at or above ``value``: a parity error as a stable bucket.

    Rounding-noise errors differ in their last digits between machines and library
    builds; their order of magnitude does not. None for unknown or non-finite values.

    Example:
        >>> err_bucket(2.4e-07), err_bucket(1e-06), err_bucket(0.0), err_bucket(None)
        (1e-06, 1e-06, 0.0, None)
    """
    if value is None or not math.isfinite(value):
        return None
    if value <= 0:
        return 0.0
    # Within 1e-9 (in log10) of a power of ten counts as that power: 1e-4 / 10 is 1e-05.
    power = math.ceil(math.log10(value) - 1e-9)
    return float(f"1e{power}")


def sig2(value: float | None) -> float | None:
    """``value`` rounded to two significant digits (None for unknown or non-finite).

    Example:
        >>> sig2(3.14159), sig2(0.000123456)
        (3.1, 0.00012)
    """
    if value is None or not math.isfinite(value):
        return None
    return float(f"{value:.2g}")


def stable_err(status: str, value: float | None, tolerance: float | None = None) -> float | None:
    """A parity error as report files hold it: an upper bound when ``ok``, else 2 digits.

    An ``ok`` error is rounding noise whose digits, and even whether it is exactly 0,
    differ between machines; it is written as the power of ten at or above the larger
    of the error and a tenth of the tolerance (``err_bucket``). A mismatch is the
    signal, written at two significant digits.

    Example:
        >>> stable_err("ok", 3.1e-07, 1e-4), stable_err("ok", 0.0, 1e-4)
        (1e-05, 1e-05)
        >>> stable_err("ok", 3.1e-05, 1e-4), stable_err("mismatch", 0.4271, 1e-4)
        (0.0001, 0.43)
    """
    if status != "ok":
        return sig2(value)
    if value is None:
        return None
    floor = tolerance / 10 if tolerance is not None and math.isfinite(tolerance) else 0.0
    return err_bucket(max(value, floor))


def fmt_stable_err(status: str, value: float | None, tolerance: float | None = None) -> str:
    """``stable_err`` for people: ``≤1e-05`` for a bound, two digits otherwise.

    Example:
        >>> fmt_stable_err("ok", 3.1e-07, 1e-4), fmt_stable_err("mismatch", 0.4271)
        ('≤1e-05', '0.43')
    """
    stable = stable_err(status, value, tolerance)
    if stable is None:
        return "-"
    if stable == 0:
        return "0"
    return f"≤{stable:.0e}" if status == "ok" else fmt_err(stable)


def spec_text(spec: dict[str, Any]) -> str:
    """A layer spec's kernel size and the fields that differ from their defaults, compactly.

    Example:
        >>> spec_text({"kind": "conv", "kernel_size": [3, 3], "strides": [1, 1],
        ...            "padding": "valid", "dilation": [1, 1], "use_bias": True,
        ...            "filters": 8, "groups": 1})
        'filters=8, kernel_size=3x3'
        >>> spec_text({"kind": "add", "name": "sum", "inputs": ["c2", "input"]})
        "name='sum', inputs=c2+input"
    """
    import dataclasses

    from compare.core import registry

    cls = registry.kinds().get(str(spec.get("kind")))
    defaults = {} if cls is None else {f.name: f.default for f in dataclasses.fields(cls)}
    first = ("name", "inputs", "filters", "units", "depth_multiplier")
    keys = sorted((k for k in spec if k != "kind"), key=lambda k: (k not in first, 0))
    parts = []
    for key in keys:
        value = spec[key]
        if key == "inputs":  # a graph node's connections: what it reads
            parts.append("inputs=" + "+".join(str(v) for v in value))
            continue
        values = value if isinstance(value, list) else [value]
        if key != "kernel_size" and key in defaults and all(v == defaults[key] for v in values):
            continue
        if isinstance(value, list):
            text = "x".join(str(v) for v in value)
        elif isinstance(value, str):
            text = repr(value)
        else:
            text = str(value).lower() if isinstance(value, bool) else str(value)
        parts.append(f"{key}={text}")
    return ", ".join(parts)


def is_layout(what: str) -> bool:
    """Whether a difference is a layout one (axis order: ``*_layout``), routine in any port.

    Reports highlight the other differences (padding, realisation, flatten order ...).

    Example:
        >>> is_layout("kernel_layout"), is_layout("flatten_dense")
        (True, False)
    """
    return what.endswith("_layout")


#: How each verdict reads at a glance (Markdown on GitHub renders these as emoji).
VERDICT_MARK = {"ok": "✅", "mismatch": "❌", "unsupported": "⚠️", "error": "⛔", "skipped": "➖"}


def summary_text(summary: Any) -> str:
    """The one-line batch summary (of a ``compare.batch.Summary``).

    Example:
        >>> from compare.batch import Summary
        >>> summary_text(Summary(2, 5, 3, 0, 1, 0))
        '2 models, 5 layers, 3 differences, 0 parity failures, 1 error, 0 unsupported'
    """
    s = summary

    def n(count: int, word: str, plural: str | None = None) -> str:
        return f"{count} {word if count == 1 else plural or word + 's'}"

    return ", ".join(
        [
            n(s.models, "model"),
            n(s.layers, "layer"),
            n(s.differences, "difference"),
            n(s.parity_failures, "parity failure"),
            n(s.errors, "error"),
            f"{s.unsupported} unsupported",
        ]
    )


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
