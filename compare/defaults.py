"""The defaults table: what each framework would choose for a hyperparameter left unset.

Framework-free. Each adapter reads its framework's own defaults (``inspect.signature``
of the class or function it builds, translated into the spec's convention) and the
initialisers of a freshly built layer; this module turns them into records and names
the ones that differ.
"""

from __future__ import annotations

import functools
import inspect
import math
from typing import Any

from compare.records import DefaultValue

__all__ = ["REQUIRED", "default_rows", "same_value"]

#: Marker for a framework parameter without a default (the user must give it).
REQUIRED = "required"


@functools.cache
def signature_default(obj: Any, param: str) -> Any:
    """The default of ``param`` in ``obj``'s signature: ``REQUIRED`` if it has none,
    None if there is no such parameter. Cached: a signature does not change within a
    process, and reading one is slow.

    Example:
        >>> signature_default(sorted, "reverse"), signature_default(sorted, "colour")
        (False, None)
    """
    p = inspect.signature(obj).parameters.get(param)
    if p is None:
        return None
    return REQUIRED if p.default is inspect.Parameter.empty else p.default


def same_value(a: Any, b: Any) -> bool:
    """Equality that treats close floats as equal (1 - 0.9 == 0.1).

    Example:
        >>> same_value(1 - 0.9, 0.1), same_value(0.01, 0.3)
        (True, False)
    """
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return bool(a == b)


def default_rows(
    spec: dict[str, Any], user_set: set[str], torch: dict[str, Any], keras: dict[str, Any]
) -> tuple[DefaultValue, ...]:
    """One row per hyperparameter either framework reports a default for.

    ``torch`` / ``keras`` map a spec field to that framework's default in the spec's
    convention (``REQUIRED`` when the framework has none); a field absent from one
    framework has no such parameter there (None in the row).

    Example:
        >>> rows = default_rows({"momentum": 0.1}, set(), {"momentum": 0.1}, {"momentum": 0.01})
        >>> rows[0].differs
        True
    """
    out = []
    for name in [*torch, *(k for k in keras if k not in torch)]:
        t, k = torch.get(name), keras.get(name)
        differs = not same_value(t, k)
        out.append(DefaultValue(name, spec.get(name), t, k, differs, name in user_set))
    return tuple(out)


def spec_values(layer: Any) -> dict[str, Any]:
    """The spec's value of every hyperparameter a defaults row may name.

    Besides the fields, an activation has derived rows: ``approximate`` (gelu_tanh)
    and ``axis`` (softmax acts on the channels).

    Example:
        >>> from compare.spec_layers import Activation
        >>> spec_values(Activation(activation="gelu"))["approximate"]
        False
    """
    out = layer.to_dict()
    if getattr(layer, "post_activation", False):  # to_dict leaves out a 'linear' activation
        out.setdefault("activation", getattr(layer, "activation", "linear"))
    if getattr(layer, "kind", "") == "activation":
        out["approximate"] = layer.activation == "gelu_tanh"
        out["axis"] = "channels"
    if "strides" in out and out.get("strides") == out.get("pool_size"):
        out["strides"] = "pool_size"
    for name, value in out.items():
        if isinstance(value, list) and value and len(set(value)) == 1:
            out[name] = value[0]
    return out


def user_set(layer: Any) -> set[str]:
    """Fields whose value differs from the spec's own default (what the user chose).

    Example:
        >>> from compare.spec_layers import BatchNorm
        >>> sorted(user_set(BatchNorm(epsilon=1e-3)))
        ['epsilon']
    """
    import dataclasses

    out = set()
    for f in dataclasses.fields(layer):
        if f.name == "rank" or f.default is dataclasses.MISSING:
            continue
        value, default = getattr(layer, f.name), f.default
        if isinstance(value, tuple) and isinstance(default, int):
            value = value[0] if len(set(value)) == 1 else value
        if f.name == "strides" and value == getattr(layer, "pool_size", None):
            continue
        if not same_value(value, default):
            out.add(f.name)
    return out


#: Why each named default matters, for the layer's differences.
EXPLAIN: dict[str, str] = {
    "momentum": (
        "the spec's momentum is the weight of the new batch statistic (PyTorch's "
        "convention); Keras' momentum weighs the old running value, so Keras gets "
        "1 - momentum. It acts only in training: inference uses the stored statistics"
    ),
    "epsilon": "added to the variance before the square root; it changes every output",
    "center": "whether a learned shift beta exists",
    "scale": "whether a learned scale gamma exists",
    "axes": "the axes a layer norm normalises over",
    "groups": "number of channel groups",
    "pool_size": "the pooling window",
    "strides": "the step between windows (both default to the window)",
    "padding": "PyTorch's padding is an integer (0), Keras' a mode ('valid')",
    "ceil_mode": "PyTorch can add a last, partial window; Keras has no such option",
    "count_include_pad": (
        "whether padded zeros count in the average's divisor; Keras has no parameter: "
        "its 'same' always excludes them"
    ),
    "keepdims": "whether the pooled spatial axes stay as size-1 axes",
    "dilation": "the spacing between kernel taps",
    "use_bias": "whether the layer adds a learned bias",
    "activation": "the function applied to the layer's output",
    "output_padding": (
        "rows added at the end of a transposed conv's output; Keras' None infers them "
        "(max(kernel, stride) - kernel with 'valid'), PyTorch's 0 adds none: a port that "
        "leaves both unset gets different output sizes when kernel < stride"
    ),
    "rate": "the fraction of units dropped in training",
    "negative_slope": "the slope of leaky_relu for negative inputs",
    "alpha": "the saturation value of elu for negative inputs",
    "approximate": "gelu as the exact erf form or the tanh approximation",
    "axis": (
        "the axis softmax normalises; Keras' -1 is the channels in its channels-last "
        "layout, PyTorch's nn.Softmax() without dim picks one implicitly (deprecated)"
    ),
}
