"""Weight-port statements found from what the adapters really do, not from tables.

Every weight port between the frameworks moves values without arithmetic beyond sums:
a transpose, a reshape, a gate reorder, a split or a stack, two biases summed, a zero
bias. So the port is probed: each source array in turn holds the numbers 1..n (the
others zeros), the comparison's own port writes them into the other framework, and each
target element then names the source element it came from. ``decode`` turns such an
index map into one numpy expression (``np.transpose(w["weight"], (2, 3, 1, 0))``,
``w["kernel"].reshape(3, 8, 4)[[1, 0, 2]]`` ...); ``Expr.apply`` computes exactly what
the expression says, so the statements can be checked against the real port.

Framework-free (numpy only).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Assign", "Expr", "decode", "decode_target"]

Box = tuple[tuple[int, int], ...]  # (start, stop) per axis

#: An axis whose blocks are reordered (a GRU's 3 gates) has at most this many blocks;
#: a longer reordering is not a statement anyone would write.
MAX_REORDERED = 8


def _shape_text(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


def _index_text(box: Box, shape: tuple[int, ...]) -> str:
    parts = []
    for (a, b), n in zip(box, shape):
        parts.append(":" if (a, b) == (0, n) else str(a) if b == a + 1 else f"{a}:{b}")
    while parts and parts[-1] == ":":
        parts.pop()
    return "[" + ", ".join(parts) + "]" if parts else ""


def _index(box: Box, shape: tuple[int, ...]) -> tuple[Any, ...]:
    return tuple(
        slice(None) if (a, b) == (0, n) else a if b == a + 1 else slice(a, b)
        for (a, b), n in zip(box, shape)
    )


@dataclass(frozen=True)
class Expr:
    """One source array's contribution to one target array, as numpy operations:
    select a block, reshape, transpose, reorder blocks of an axis, reshape.

    Example:
        >>> e = Expr("weight", (2, 3), None, None, (1, 0), (), None)
        >>> e.text, e.apply({"weight": np.arange(6).reshape(2, 3)}).shape
        ('np.transpose(w["weight"], (1, 0))', (3, 2))
    """

    source: str
    source_shape: tuple[int, ...]
    select: Box | None
    split: tuple[int, ...] | None
    perm: tuple[int, ...] | None
    takes: tuple[tuple[int, tuple[int, ...]], ...]
    shape: tuple[int, ...] | None

    @property
    def text(self) -> str:
        """The expression as Python (``w`` holds the source arrays, ``np`` is numpy)."""
        e = f"w[{self.source!r}]".replace("'", '"')
        if self.select is not None:
            e += _index_text(self.select, self.source_shape)
        if self.split is not None:
            e = f"{e}.reshape{_shape_text(self.split)}"
        if self.perm is not None:
            e = f"np.transpose({e}, {_shape_text(self.perm)})"
        for axis, order in self.takes:
            e = f"np.take({e}, {list(order)}, axis={axis})"
        if self.shape is not None:
            e = f"{e}.reshape{_shape_text(self.shape)}"
        return e

    def apply(self, w: dict[str, np.ndarray]) -> np.ndarray:
        """What the expression computes on the source arrays ``w``."""
        x = np.asarray(w[self.source])
        if self.select is not None:
            x = x[_index(self.select, self.source_shape)]
        if self.split is not None:
            x = x.reshape(self.split)
        if self.perm is not None:
            x = np.transpose(x, self.perm)
        for axis, order in self.takes:
            x = np.take(x, list(order), axis=axis)
        if self.shape is not None:
            x = x.reshape(self.shape)
        return x


@dataclass(frozen=True)
class Assign:
    """A target array as the sum, or the concatenation along one axis, of contributions;
    zeros when it has none.

    Example:
        >>> a = Assign((2,), "float32", ((None, Expr("b", (2,), None, None, None, (), None)),))
        >>> a.text
        'w["b"]'
    """

    shape: tuple[int, ...]
    dtype: str
    parts: tuple[tuple[Box | None, Expr], ...]

    @property
    def _axis(self) -> int | None:
        boxes = [b for b, _ in self.parts if b is not None]
        if not boxes:
            return None
        axes = {i for b in boxes for i, (a, z) in enumerate(b) if (a, z) != (0, self.shape[i])}
        return axes.pop() if len(axes) == 1 else -1

    @property
    def text(self) -> str:
        """The target array as one Python expression."""
        if not self.parts:
            return f"np.zeros({_shape_text(self.shape)}, dtype=np.{self.dtype})"
        axis = self._axis
        if axis is None:
            return " + ".join(e.text for _, e in self.parts)
        ordered = sorted(self.parts, key=lambda p: p[0][axis][0] if p[0] else 0)  # type: ignore[index]
        inner = ", ".join(e.text for _, e in ordered)
        return f"np.concatenate([{inner}], axis={axis})"

    def apply(self, w: dict[str, np.ndarray]) -> np.ndarray:
        if not self.parts:
            return np.zeros(self.shape, dtype=self.dtype)
        axis = self._axis
        if axis is None:
            return np.asarray(sum(e.apply(w) for _, e in self.parts))
        ordered = sorted(self.parts, key=lambda p: p[0][axis][0] if p[0] else 0)  # type: ignore[index]
        return np.concatenate([e.apply(w) for _, e in ordered], axis=axis)


def _box(mask: np.ndarray) -> Box | None:
    """The block ``mask`` fills exactly, or None if it is not one block."""
    where = np.nonzero(mask)
    box = tuple((int(ix.min()), int(ix.max()) + 1) for ix in where)
    if math.prod(b - a for a, b in box) != int(mask.sum()):
        return None
    return box


def _divisors(n: int, most: int) -> list[int]:
    return [d for d in range(2, min(n, most) + 1) if n % d == 0]


def _factors(p: np.ndarray) -> list[list[Any]] | None:
    """Mixed-radix factors (length, source stride, order or None), innermost first,
    of a permutation ``p`` (target flat index -> source flat index)."""
    out: list[list[Any]] = []
    q = p
    while q.size > 1:
        found = False
        d = int(q[1] - q[0])
        if d > 0:
            diffs = np.diff(q)
            bad = np.nonzero(diffs != d)[0]
            run = int(bad[0]) + 1 if bad.size else int(q.size)
            for length in sorted(_divisors(math.gcd(run, q.size), run), reverse=True):
                rows = q.reshape(-1, length)
                if np.array_equal(rows, rows[:, :1] + d * np.arange(length)):
                    out.append([length, d, None])
                    q, found = rows[:, 0], True
                    break
        if not found:
            for length in _divisors(q.size, MAX_REORDERED):
                rows = q.reshape(-1, length)
                offsets = rows - rows.min(axis=1, keepdims=True)
                if not np.array_equal(offsets, np.broadcast_to(offsets[0], offsets.shape)):
                    continue
                ordered = np.sort(offsets[0])
                step = int(ordered[1])
                if step > 0 and np.array_equal(ordered, step * np.arange(length)):
                    out.append([length, step, tuple(int(o) // step for o in offsets[0])])
                    q, found = rows.min(axis=1), True
                    break
        if not found:
            return None
    if q.size != 1 or int(q[0]) != 0:
        return None
    stride = 1
    for length, s, _ in sorted(out, key=lambda f: f[1]):
        if s != stride:
            return None
        stride *= length
    return out


def _strides(shape: tuple[int, ...]) -> set[int]:
    out, acc = set(), 1
    for n in reversed(shape):
        acc *= n
        out.add(acc)
    return out


def _refine(factors: list[list[Any]], source: tuple[int, ...], target: tuple[int, ...]) -> None:
    """Split merged factors where an axis of either shape begins, so each factor is one
    axis (or part of one) in both: ``(O, I*H*W)`` reads as ``(O, I, H, W)``."""
    changed = True
    while changed:
        changed = False
        t = 1
        for index, (length, s, order) in enumerate(factors):
            if order is None:
                cuts = [b // s for b in _strides(source) if s < b < s * length and b % s == 0]
                cuts += [b // t for b in _strides(target) if t < b < t * length and b % t == 0]
                cuts = [c for c in cuts if length % c == 0]
                if cuts:
                    c = min(cuts)
                    factors[index : index + 1] = [[c, s, None], [length // c, s * c, None]]
                    changed = True
                    break
            t *= length


def decode(
    p: np.ndarray, source: tuple[int, ...], target: tuple[int, ...], name: str
) -> Expr | None:
    """The expression whose result, shaped ``target``, holds at flat position ``j`` the
    source element ``p[j]`` (a permutation of the source's flat indices), or None.

    Example:
        >>> p = np.arange(24).reshape(2, 3, 4).transpose(1, 2, 0).ravel()
        >>> decode(p, (2, 3, 4), (3, 4, 2), "kernel").text
        'np.transpose(w["kernel"], (1, 2, 0))'
    """
    if p.size == 1:
        return Expr(name, source, None, None, None, (), None if source == target else target)
    factors = _factors(np.asarray(p, dtype=np.int64))
    if factors is None:
        return None
    _refine(factors, source, target)
    inner_first = factors  # target order is outermost first
    by_stride = sorted(range(len(inner_first)), key=lambda i: -inner_first[i][1])
    split = tuple(inner_first[i][0] for i in by_stride)
    axis_of = {i: k for k, i in enumerate(by_stride)}
    target_order = list(reversed(range(len(inner_first))))
    perm = tuple(axis_of[i] for i in target_order)
    takes = tuple(
        (pos, inner_first[i][2])
        for pos, i in enumerate(target_order)
        if inner_first[i][2] is not None
    )
    shaped = tuple(inner_first[i][0] for i in target_order)
    return Expr(
        name,
        source,
        None,
        None if split == source else split,
        None if perm == tuple(range(len(perm))) else perm,
        takes,
        None if shaped == target else target,
    )


def decode_target(
    ids: dict[str, np.ndarray],
    sources: dict[str, tuple[int, ...]],
    shape: tuple[int, ...],
    dtype: str,
) -> Assign | None:
    """The ``Assign`` of one target array from its probes: ``ids[name]`` is the target
    after the port with source ``name`` holding 1..n (0: no element of that source).

    Example:
        >>> ids = {"b1": np.array([1.0, 2.0]), "b2": np.array([1.0, 2.0])}
        >>> decode_target(ids, {"b1": (2,), "b2": (2,)}, (2,), "float32").text
        'w["b1"] + w["b2"]'
    """
    parts: list[tuple[Box | None, Expr]] = []
    for name, values in ids.items():
        index = np.rint(values).astype(np.int64)
        if not np.array_equal(index, values) or index.min() < 0:
            return None
        mask = index > 0
        if not mask.any():
            continue
        box = None if mask.all() else _box(mask)
        if box is None and not mask.all():
            return None
        block = index[tuple(slice(a, b) for a, b in box)] if box else index
        flat = block.ravel() - 1
        src_shape = sources[name]
        n = math.prod(src_shape)
        select: Box | None = None
        src_view = src_shape
        if flat.size != n or np.unique(flat).size != flat.size:
            if np.unique(flat).size != flat.size:
                return None
            coords = np.unravel_index(flat, src_shape)
            select = tuple((int(c.min()), int(c.max()) + 1) for c in coords)
            view = tuple(b - a for a, b in select)
            if math.prod(view) != flat.size:
                return None
            local = tuple(c - a for c, (a, _) in zip(coords, select))
            flat = np.ravel_multi_index(local, view)
            # an integer index drops its axis (a full axis of size 1 stays, as ``:``)
            src_view = tuple(
                b - a for (a, b), size in zip(select, src_shape) if b != a + 1 or size == 1
            )
        out_shape = tuple(b - a for a, b in box) if box else shape
        expr = decode(flat, src_view, out_shape, name)
        if expr is None:
            return None
        if select is not None:
            expr = Expr(name, src_shape, select, expr.split, expr.perm, expr.takes, expr.shape)
        parts.append((box, expr))
    assign = Assign(shape, dtype, tuple(parts))
    if assign._axis == -1:  # blocks along more than one axis: no one concatenation
        return None
    return assign
