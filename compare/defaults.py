"""The defaults table: what each framework would choose for a hyperparameter left unset.

Framework-free. Each adapter reads its framework's own defaults (``inspect.signature``
of the class or function it builds, translated into the spec's convention) and the
initialisers of a freshly built layer; this module turns them into records and names
the ones that differ.

A family adds to them in its ``differences`` module, by kind:
``register_part(ANY, "explain", kind)`` maps a hyperparameter to why its default
matters, and ``register_part(ANY, "spec_values", kind)`` gives the spec's value of
rows derived from the fields (a function of the layer returning a dict).
"""

from __future__ import annotations

import functools
import inspect
import math
from typing import Any

from compare.core.registry import differences_part
from compare.records import DefaultValue

__all__ = ["REQUIRED", "default_rows", "explanation", "same_value", "spec_values", "user_set"]

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

    Besides the fields, a kind may derive rows of its own (``spec_values`` it
    registers); a post-activation that is 'linear' is named too.

    Example:
        >>> from compare.spec import Dense
        >>> spec_values(Dense(units=2))
        {'kind': 'dense', 'units': 2, 'use_bias': True, 'activation': 'linear'}
    """
    out = layer.to_dict()
    if getattr(layer, "post_activation", False):  # to_dict leaves out a 'linear' activation
        out.setdefault("activation", getattr(layer, "activation", "linear"))
    derived = differences_part("spec_values", getattr(layer, "kind", ""))
    if derived is not None:
        out.update(derived(layer))
    if "strides" in out and out.get("strides") == out.get("pool_size"):
        out["strides"] = "pool_size"
    for name, value in out.items():
        if isinstance(value, list) and value and len(set(value)) == 1:
            out[name] = value[0]
    return out


def user_set(layer: Any) -> set[str]:
    """Fields whose value differs from the spec's own default (what the user chose).

    Example:
        >>> from compare.spec import Dense
        >>> sorted(user_set(Dense(units=2, use_bias=False)))  # units: the field default is 0
        ['units', 'use_bias']
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


def explanation(kind: str, name: str) -> str:
    """Why the default of hyperparameter ``name`` matters for ``kind`` ('' when its
    family says nothing about it).

    Example:
        >>> explanation("no_such_kind", "epsilon")
        ''
    """
    texts: dict[str, str] = differences_part("explain", kind) or {}
    return texts.get(name, "")
