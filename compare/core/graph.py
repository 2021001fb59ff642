"""The model graph: named nodes, each a layer and the names of the values it reads.

A model is a DAG. ``Graph.inputs`` names the values fed from outside, each ``Node``
produces the value of its own name from the values named by its ``inputs``, and
``Graph.outputs`` names what the model returns. Nodes are kept in topological order,
checked when the graph is made, so one ``walk`` serves inference, building, running,
porting and parity: it keeps an environment keyed by value name (onnx2torch's
``torch_nodes[name]``, onnx2tf's ``tf_layers_dict[name]``). A chain is
``Graph.chain(layers)``: a graph with one path, not a second code path.

Framework-free, and it knows no kind: a node's ``layer`` is whatever the caller put
there.

Example:
    >>> g = Graph.chain(["conv", "relu"])
    >>> [(n.name, n.inputs) for n in g.nodes], g.outputs
    ([('0', ('input',)), ('1', ('0',))], ('1',))
    >>> g.walk(lambda node, values: values[0] + "+" + node.layer, {"input": "x"})["1"]
    'x+conv+relu'
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from compare.errors import SpecError

__all__ = ["Graph", "Node"]

V = TypeVar("V")


@dataclass(frozen=True)
class Node:
    """One layer of a graph: its ``name`` (the value it produces), the layer, and the
    names of the values it reads, in order.

    Example:
        >>> Node("add", "merge", ("a", "b")).inputs
        ('a', 'b')
    """

    name: str
    layer: Any
    inputs: tuple[str, ...]


@dataclass(frozen=True)
class Graph:
    """Named inputs, nodes in topological order, named outputs; checked when made.

    Example:
        >>> Graph(("x",), (Node("y", "f", ("z",)),), ("y",))
        Traceback (most recent call last):
        ...
        compare.errors.SpecError: node 'y': input 'z' is not a model input or an earlier node
    """

    inputs: tuple[str, ...]
    nodes: tuple[Node, ...]
    outputs: tuple[str, ...]

    def __post_init__(self) -> None:
        known: set[str] = set()
        for name in self.inputs:
            if name in known:
                raise SpecError(f"input {name!r} is named twice")
            known.add(name)
        for node in self.nodes:
            if node.name in known:
                raise SpecError(f"node {node.name!r}: the name is already used")
            if not node.inputs:
                raise SpecError(f"node {node.name!r}: it reads no input")
            for name in node.inputs:
                if name not in known:
                    raise SpecError(
                        f"node {node.name!r}: input {name!r} is not a model input or an "
                        "earlier node"
                    )
            known.add(node.name)
        if not self.outputs:
            raise SpecError("a graph needs at least one output")
        for name in self.outputs:
            if name not in known:
                raise SpecError(f"output {name!r} is not a model input or a node")

    @classmethod
    def chain(cls, layers: Iterable[Any], input_name: str = "input") -> Graph:
        """The graph of a stack: node ``i`` reads node ``i - 1`` (the first, the input).

        Example:
            >>> Graph.chain(["a", "b", "c"]).nodes[2]
            Node(name='2', layer='c', inputs=('1',))
        """
        nodes: list[Node] = []
        previous = input_name
        for index, layer in enumerate(layers):
            nodes.append(Node(str(index), layer, (previous,)))
            previous = nodes[-1].name
        return cls((input_name,), tuple(nodes), (previous,))

    @classmethod
    def ordered(cls, inputs: Iterable[str], nodes: Iterable[Node], outputs: Iterable[str]) -> Graph:
        """A graph from nodes in any order, sorted topologically (stable: nodes keep
        their given order where the edges allow); a cycle is named.

        Example:
            >>> g = Graph.ordered(["x"], [Node("b", "g", ("a",)), Node("a", "f", ("x",))], ["b"])
            >>> [n.name for n in g.nodes]
            ['a', 'b']
            >>> Graph.ordered(["x"], [Node("a", "f", ("b",)), Node("b", "g", ("a",))], ["b"])
            Traceback (most recent call last):
            ...
            compare.errors.SpecError: nodes 'a', 'b' form a cycle (each reads another of them)
        """
        inputs, pending, outputs = tuple(inputs), list(nodes), tuple(outputs)
        names = [n.name for n in pending]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise SpecError(f"node {duplicates[0]!r}: the name is used twice")
        produced = set(names) | set(inputs)
        for node in pending:
            for name in node.inputs:
                if name not in produced:
                    raise SpecError(
                        f"node {node.name!r}: input {name!r} is not a model input or a node"
                    )
        done: set[str] = set(inputs)
        order: list[Node] = []
        while pending:
            ready = [n for n in pending if all(name in done for name in n.inputs)]
            if not ready:
                cycle = ", ".join(repr(n.name) for n in pending)
                raise SpecError(f"nodes {cycle} form a cycle (each reads another of them)")
            for node in ready:
                order.append(node)
                done.add(node.name)
            pending = [n for n in pending if n.name not in done]
        return cls(inputs, tuple(order), outputs)

    @property
    def is_chain(self) -> bool:
        """Whether the graph is one path from its one input to its one output.

        Example:
            >>> Graph.chain(["a", "b"]).is_chain
            True
        """
        if len(self.inputs) != 1 or len(self.outputs) != 1:
            return False
        previous = self.inputs[0]
        for node in self.nodes:
            if node.inputs != (previous,):
                return False
            previous = node.name
        return self.outputs[0] == previous

    def consumers(self, name: str) -> list[Node]:
        """The nodes that read value ``name`` (a folding rewrite applies only where a
        value has one consumer and is not a model output).

        Example:
            >>> [n.name for n in Graph.chain(["a", "b"]).consumers("0")]
            ['1']
        """
        return [node for node in self.nodes if name in node.inputs]

    def node(self, name: str) -> Node:
        """The node producing value ``name``.

        Example:
            >>> Graph.chain(["a"]).node("0").layer
            'a'
        """
        for node in self.nodes:
            if node.name == name:
                return node
        raise KeyError(name)

    def walk(self, visit: Callable[[Node, list[V]], V], inputs: Mapping[str, V]) -> dict[str, V]:
        """Call ``visit(node, input values)`` on every node in order; return every value
        by name (the inputs' and each node's).

        Example:
            >>> Graph.chain([2, 3]).walk(lambda node, xs: xs[0] * node.layer, {"input": 1})
            {'input': 1, '0': 2, '1': 6}
        """
        missing = [name for name in self.inputs if name not in inputs]
        if missing:
            raise KeyError(f"no value for graph input(s) {', '.join(missing)}")
        env: dict[str, V] = dict(inputs)
        for node in self.nodes:
            env[node.name] = visit(node, [env[name] for name in node.inputs])
        return env
