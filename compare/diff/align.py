"""Two graphs aligned node by node, by structure and shapes alone (never by names).

Each side's nodes are put in canonical order (``canonical_order`` with ``sizes=False``,
so that a stride placed on another layer of a branch does not reorder the branch) and
the two orders are aligned by a global sequence alignment (Needleman-Wunsch): a pair of
nodes of one kind scores by what they share (channels, spatial size, kernel size,
strides), a node left unpaired costs a gap, and two nodes of different kinds at one
place score a little above two gaps (one node of another kind), unless one of them is
the identity at inference (a dropout is a node one side lacks). Framework-free.
"""

from __future__ import annotations

from typing import Any

from compare.diff.canonical import canonical_order
from compare.spec import Model

__all__ = ["GAP", "align", "score"]

#: The cost of a node left unpaired.
GAP = -1.0
#: Two nodes of different kinds at one place: a little better than two gaps.
_OTHER_KIND = -1.5
#: A node that is the identity at inference against another kind: never paired.
_NEVER = -3.0


def _signature(model: Model, index: int) -> tuple[Any, ...]:
    layer, out = model.layers[index], model.formulas[index].output
    return (
        layer.kind,
        bool(layer.inference_identity),
        out.channels,
        out.size,
        getattr(layer, "kernel_size", None),
        getattr(layer, "strides", None),
    )


def score(a: tuple[Any, ...], b: tuple[Any, ...]) -> float:
    """How well two node signatures ``(kind, identity at inference, channels, size,
    kernel, strides)`` match.

    Example:
        >>> a = ("conv", False, 8, (16, 16), (1, 1), (1, 1))
        >>> score(a, ("conv", False, 8, (32, 32), (1, 1), (2, 2)))
        5.0
        >>> score(a, ("dense", False, 8, (16, 16), None, None))
        -1.5
        >>> score(a, ("dropout", True, 8, (16, 16), None, None))
        -3.0
    """
    if a[0] != b[0]:
        return _NEVER if a[1] or b[1] else _OTHER_KIND
    return 2.0 + 2.0 * (a[2] == b[2]) + sum(x == y for x, y in zip(a[3:], b[3:]))


def align(a: Model, b: Model) -> list[tuple[int | None, int | None]]:
    """Pairs ``(i, j)`` of layer indices of ``a`` and ``b``; ``None`` on the side that
    has no counterpart. Pairs come in ``a``'s canonical order.

    Example:
        >>> from compare.spec import Dense, Dropout, Input
        >>> a = Model("a", Input(3), (Dense(units=4), Dropout(rate=0.5), Dense(units=2)))
        >>> b = Model("b", Input(3), (Dense(units=4), Dense(units=2)))
        >>> align(a, b)
        [(0, 0), (1, None), (2, 1)]
    """
    oa, ob = canonical_order(a, sizes=False), canonical_order(b, sizes=False)
    sa = [_signature(a, i) for i in oa]
    sb = [_signature(b, j) for j in ob]
    n, m = len(sa), len(sb)
    best = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(1, n + 1):
        best[i][0] = i * GAP
    for j in range(1, m + 1):
        best[0][j] = j * GAP
    for i in range(1, n + 1):
        row, prev = best[i], best[i - 1]
        for j in range(1, m + 1):
            row[j] = max(prev[j - 1] + score(sa[i - 1], sb[j - 1]), prev[j] + GAP, row[j - 1] + GAP)
    pairs: list[tuple[int | None, int | None]] = []
    i, j = n, m
    while i or j:
        if i and j and best[i][j] == best[i - 1][j - 1] + score(sa[i - 1], sb[j - 1]):
            pairs.append((oa[i - 1], ob[j - 1]))
            i, j = i - 1, j - 1
        elif i and best[i][j] == best[i - 1][j] + GAP:
            pairs.append((oa[i - 1], None))
            i -= 1
        else:
            pairs.append((None, ob[j - 1]))
            j -= 1
    pairs.reverse()
    return pairs
