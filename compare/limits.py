"""Bounds on what one spec may cost, checked before a value is quoted or a layer built.

A spec is data from anywhere: a few hundred bytes of YAML aliases expand to a billion
values, a 5,000-digit integer makes ``repr`` raise, a deep nesting exhausts Python's
stack, ``size = [1073741824]`` asks both frameworks for tens of GB. Each bound below
turns such a spec into a ``SpecError`` naming the place, the value (abbreviated) and
the limit, and says how to lift the limits that a legitimate spec may meet.

* ``check_tree`` walks parsed data without recursion: nesting depth, number of values
  (YAML aliases counted at every use), string lengths, integers within int64, and
  field names that are strings.
* ``check_cost`` bounds the elements of every activation and every layer's weights
  before anything is built: ``COMPARE_MAX_ELEMENTS`` (default 2**26 = 67,108,864,
  256 MiB of float32) when both frameworks allocate and run, int64 in the shape-only
  mode (nothing is allocated there, but the frameworks count bytes in int64).
* ``max_spec_bytes`` bounds the size of a spec file: ``COMPARE_MAX_SPEC_BYTES``
  (default 8 MiB).

Example:
    >>> check_tree({"layers": [{"kind": "dense", "units": 2**64}]})
    Traceback (most recent call last):
    ...
    compare.errors.SpecError: layers[0].units=18446744073709551616 is beyond the 64-bit integers...
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Any

from compare.errors import SpecError, quote

__all__ = [
    "ELEMENTS_ENV",
    "INT64_MAX",
    "MAX_COUNT_BATCH",
    "MAX_DEPTH",
    "MAX_TEXT",
    "MAX_VALUES",
    "SPEC_BYTES_ENV",
    "check_cost",
    "check_tree",
    "max_elements",
    "max_spec_bytes",
]

#: Tables and lists nest at most this deep in a spec (a model is 4 levels).
MAX_DEPTH = 32
#: Values in one spec document, YAML aliases counted each time they are used.
MAX_VALUES = 1_000_000
#: Characters of one string (a name, a kind, a description).
MAX_TEXT = 4096
#: Every integer of a spec is a count or a size the frameworks hold in int64.
INT64_MAX = 2**63 - 1
#: The largest batch size the work and memory figures may be asked for at (the
#: counters run at batch 1 and are scaled, so the bound only keeps the figures
#: well inside int64).
MAX_COUNT_BATCH = 2**20
#: The environment variable that lifts the elements bound, and its default.
ELEMENTS_ENV = "COMPARE_MAX_ELEMENTS"
DEFAULT_MAX_ELEMENTS = 2**26
#: The environment variable that lifts the spec file size bound, and its default.
SPEC_BYTES_ENV = "COMPARE_MAX_SPEC_BYTES"
DEFAULT_MAX_SPEC_BYTES = 8 * 2**20


def _env_limit(name: str, default: int) -> int:
    text = os.environ.get(name)
    if text is None or not text.strip():
        return default
    try:
        value = int(text.strip().replace("_", ""))
    except ValueError:
        value = 0
    if value < 1:
        raise SpecError(f"{name}={quote(text)} must be a positive integer")
    return value


def max_elements() -> int:
    """The most elements one activation or one layer's weights may hold when a spec is
    built, ported and run (``COMPARE_MAX_ELEMENTS``, default 2**26).

    Example:
        >>> max_elements() >= 1
        True
    """
    return _env_limit(ELEMENTS_ENV, DEFAULT_MAX_ELEMENTS)


def max_spec_bytes() -> int:
    """The largest spec file read, in bytes (``COMPARE_MAX_SPEC_BYTES``, default 8 MiB).

    Example:
        >>> max_spec_bytes() >= 1
        True
    """
    return _env_limit(SPEC_BYTES_ENV, DEFAULT_MAX_SPEC_BYTES)


def _path(link: Any) -> str:
    """``models[0].layers[2]`` from the walk's (parent link, key) chain."""
    keys = []
    while link is not None:
        link, key = link
        keys.append(key)
    out = ""
    for key in reversed(keys):
        out += f"[{key}]" if isinstance(key, int) else (f".{key}" if out else str(key))
    return out or "the spec"


def _scalar_problem(value: Any) -> str | None:
    if type(value) is str:
        if len(value) > MAX_TEXT:
            return f"={quote(value)} is longer than {MAX_TEXT:,} characters"
    elif type(value) is int and not -INT64_MAX - 1 <= value <= INT64_MAX:
        return (
            f"={quote(value)} is beyond the 64-bit integers every number of a spec must "
            f"fit in (at most 2**63-1 = {INT64_MAX:,}; write a float as 1e400)"
        )
    return None


def check_tree(data: Any, path: str = "") -> None:
    """Raise ``SpecError`` naming the place if parsed spec data is hostile: nested
    deeper than ``MAX_DEPTH``, more than ``MAX_VALUES`` values, a string longer than
    ``MAX_TEXT``, an integer outside int64, or a field name that is not a string.

    The walk is iterative and stops at the first problem, so its cost is bounded by
    the limits, not by the data (a YAML alias bomb stops at ``MAX_VALUES``).

    Example:
        >>> check_tree({"name": "m", "layers": [{"kind": "flatten"}]})
        >>> check_tree({"layers": [{5: 1}]})
        Traceback (most recent call last):
        ...
        compare.errors.SpecError: layers[0]: field name 5 must be a string
    """
    root = None if not path else (None, path)
    if not isinstance(data, Mapping | list | tuple):
        problem = _scalar_problem(data)
        if problem is not None:
            raise SpecError(_path(root) + problem)
        return
    stack: list[tuple[Any, int, Any]] = [(data, 0, root)]
    seen = 0
    while stack:
        value, depth, link = stack.pop()
        if depth >= MAX_DEPTH:
            raise SpecError(
                f"{_path(link)}: tables and lists nest deeper than {MAX_DEPTH} levels "
                "(a model needs 4)"
            )
        if isinstance(value, Mapping):
            items: Any = value.items()
            seen += len(value)
            for key in value:
                if type(key) is not str:
                    raise SpecError(f"{_path(link)}: field name {quote(key)} must be a string")
        else:
            items = enumerate(value)
            seen += len(value)
        if seen > MAX_VALUES:
            raise SpecError(
                f"the spec holds more than {MAX_VALUES:,} values (YAML aliases counted at "
                "every use): refused as too large to check"
            )
        for key, item in items:
            kind = type(item)
            if kind is str:
                if len(item) <= MAX_TEXT:
                    continue
            elif kind is int:
                if -INT64_MAX - 1 <= item <= INT64_MAX:
                    continue
            elif kind is float or kind is bool or item is None:
                continue
            elif isinstance(item, Mapping | list | tuple):
                stack.append((item, depth + 1, (link, key)))
                continue
            problem = _scalar_problem(item)
            if problem is not None:
                raise SpecError(_path((link, key)) + problem)


def _elements(shape: Any, batch: int) -> int:
    if shape.dtype == "int":
        return batch * math.prod(shape.size)
    return batch * shape.channels * math.prod(shape.size)


def check_cost(
    model: Any,
    formulas: Any,
    *,
    shape_only: bool = False,
    batch: int = 2,
) -> None:
    """Raise ``SpecError`` if an activation (``batch`` samples) or a layer's weights of a
    ``compare.spec.Model`` (with its ``compare.formulas.infer`` formulas)
    would hold more elements than may be allocated: ``max_elements()`` when the model
    is built with weights and run, int64 in the shape-only mode.

    Example:
        >>> from compare.spec import Input, Model, Flatten
        >>> from compare.formulas import infer
        >>> big = Model("big", Input(1, (2**30,)), (Flatten(),))
        >>> check_cost(big, infer(big), shape_only=True)
        >>> check_cost(big, infer(big))
        Traceback (most recent call last):
        ...
        compare.errors.SpecError: model 'big': the input holds 2,147,483,648 elements ...
    """
    limit = INT64_MAX // 8 if shape_only else max_elements()
    how = (
        "the shape-only mode counts bytes in int64"
        if shape_only
        else f"the limit is {limit:,} elements per activation or layer weights; set "
        f"{ELEMENTS_ENV} to raise it, or compare shapes only (--no-parity, parity=False)"
    )
    prefix = f"model {quote(model.name)}"
    if formulas:
        n = _elements(formulas[0].input, batch)
        if n > limit:
            raise SpecError(f"{prefix}: the input holds {n:,} elements ({batch} samples); {how}")
    for index, (layer, formula) in enumerate(zip(model.layers, formulas)):
        where = f"{prefix}, layer {index} ({layer.kind})"
        n = _elements(formula.output, batch)
        if n > limit:
            raise SpecError(f"{where}: its output holds {n:,} elements ({batch} samples); {how}")
        weights = formula.params + formula.state
        if weights > limit:
            raise SpecError(f"{where}: its weights hold {weights:,} elements; {how}")
