"""A graph's nodes in an order that depends on its structure alone.

Two libraries write one network in different orders (``Add()([shortcut, x])`` against
``x + shortcut``) and under different names; the canonical order visits the nodes from
the outputs back, each node after its inputs, and takes the inputs of a commutative
merge (an add, a multiply ...) by a structural signature rather than by the order they
were written in. ``compare.testing`` pairs two graphs with it, ``compare.diff`` aligns
two graphs over it. Framework-free.
"""

from __future__ import annotations

import hashlib
from typing import Any

from compare.spec import Model

__all__ = ["canonical_order", "commutes"]


def commutes(layer: Any) -> bool:
    """Whether a merge gives the same value whatever the order of its inputs.

    Example:
        >>> from compare.spec import Dense
        >>> commutes(Dense(units=2))
        False
    """
    return bool(getattr(layer, "commutative", False))


def canonical_order(model: Model, *, sizes: bool = True) -> list[int]:
    """The indices of ``model``'s layers in canonical order (a chain: ``0 .. n-1``).

    The signature that orders a merge's inputs is each node's kind, output channels
    and, with ``sizes``, output spatial size, over the signatures of its inputs.
    ``sizes=False`` keeps the order when two implementations place a stride on
    different layers of a branch (the branch's sizes differ, its structure does not).

    Example:
        >>> from compare.spec import Dense, Input
        >>> canonical_order(Model("m", Input(3), (Dense(units=2), Dense(units=1))))
        [0, 1]
    """
    if not model.wiring:
        return list(range(len(model.layers)))
    nodes = model.graph.nodes
    position = {node.name: i for i, node in enumerate(nodes)}
    formulas = model.formulas
    shape: dict[str, str] = {"input": "input"}
    for i, node in enumerate(nodes):  # a structural signature, in topological order
        ins = [shape[name] for name in node.inputs]
        if commutes(node.layer):
            ins.sort()
        out = formulas[i].output
        size = out.size if sizes else ""
        text = f"{node.layer.kind}{out.channels}x{size}({','.join(ins)})"
        shape[node.name] = hashlib.sha1(text.encode()).hexdigest()[:12]
    order: list[int] = []
    seen: set[str] = {"input"}
    for output in model.graph.outputs:
        stack: list[tuple[str, bool]] = [(output, False)]
        while stack:
            name, expanded = stack.pop()
            if name in seen and not expanded:
                continue
            if expanded:
                order.append(position[name])
                continue
            seen.add(name)
            node = nodes[position[name]]
            ins = list(node.inputs)
            if commutes(node.layer):
                ins.sort(key=lambda n: shape[n])
            stack.append((name, True))
            stack += [(n, False) for n in reversed(ins) if n not in seen]
    return order
