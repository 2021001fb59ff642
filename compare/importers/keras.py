"""Read a real Keras 3 model (``keras.Sequential`` or a functional chain) into a spec.

The model's layers are taken in order (nested models are opened); a one-sample probe
runs through them one after another to read each layer's real input and output shape.
That the graph is the chain the walk assumed is proved by the model's functional graph
(the same layers, called in this order, each on the tensor before it and nothing else),
or, where the graph cannot tell, by the model's own output on the same input, which
must equal the chain's. A graph that branches is read from its symbolic tensors.
Each layer is mapped through what the kinds register
(``compare.kinds.<family>.from_keras``): ``("keras", "layer", cls)`` maps a layer class
(a class outside the public API by its dotted name, ``"module.Class"``), every
``("keras", "refine", name)`` then reads what a mapped layer carries inside (the
``activation=`` of a conv or dense layer), and ``("keras", "id_range", cls)`` tells how
many token ids a layer takes (the probe's integer inputs stay below it). The pieces are
folded by ``compare.importers.base.assemble``. Only public Keras API.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import numpy as np

from compare.core import registry
from compare.core.registry import register_part
from compare.errors import SpecError
from compare.formulas import Shape
from compare.importers.base import (
    MAPPED,
    NO_CLASS,
    Imported,
    Piece,
    Reading,
    Refuse,
    UnmappableError,
    Unmapped,
    assemble,
    parse_input_shape,
    read_weights,
    step_ends,
)

__all__ = ["FROM_KERAS", "Tables", "channels_last", "from_keras", "read_keras", "roles", "tables"]

L = keras.layers
Mapper = Callable[[Any, Piece], Piece]

#: The module of every family that maps Keras layers to its specs.
FROM_KERAS = "from_keras"


def channels_last(layer: Any) -> None:
    """``Refuse`` a layer whose ``data_format`` is not ``channels_last``.

    Example:
        >>> channels_last(keras.layers.Flatten())  # channels_last: nothing to refuse
    """
    fmt = getattr(layer, "data_format", "channels_last")
    if fmt != "channels_last":
        raise Refuse(f"data_format={fmt!r}; compare reads channels_last Keras models")


def roles(layer: Any, **names: str) -> dict[str, Any]:
    """role -> (layer, attribute, None) for the weights the layer really has (the third
    item is the shape to read a weight as; None: as it is).

    Example:
        >>> layer = keras.layers.Dense(2, use_bias=False)
        >>> layer.build((None, 3))
        >>> sorted(roles(layer, kernel="kernel", bias="bias"))
        ['kernel']
    """
    return {
        role: (layer, attr, None)
        for role, attr in names.items()
        if getattr(layer, attr, None) is not None
    }


def _identity(layer: Any, piece: Piece) -> Piece:
    return piece


register_part("keras", "layer", L.Identity)(_identity)


@dataclass(frozen=True)
class Tables:
    """What the kinds register for the Keras importer, read once per import.

    Example:
        >>> keras.layers.Identity in tables().layers
        True
    """

    layers: dict[Any, Mapper] = field(default_factory=dict)
    refines: list[Mapper] = field(default_factory=list)  # by name
    id_ranges: dict[Any, Callable[[Any], int]] = field(default_factory=dict)


def tables() -> Tables:
    """Every family's ``from_keras`` module imported, and what they registered.

    Example:
        >>> keras.layers.Flatten in tables().layers
        True
    """
    registry.load_modules(FROM_KERAS)

    def found(what: str) -> dict[Any, Any]:
        return registry.parts("keras", what, families=())

    refines = [refine for _, refine in sorted(found("refine").items())]
    return Tables(found("layer"), refines, found("id_range"))


def _mapper(layer: Any, layers: dict[Any, Mapper]) -> Mapper | None:
    cls: Any = type(layer)
    if cls in layers:
        return layers[cls]
    for base in cls.__mro__[1:]:
        if base in layers and cls.call is base.call:
            return layers[base]
    # a class outside the public API (keras.applications' own layers), registered by
    # its dotted name so that nothing imports keras.src
    return layers.get(f"{cls.__module__}.{cls.__qualname__}")


def _qualname(layer: Any) -> str:
    cls = type(layer)
    module = cls.__module__
    return (
        f"keras.layers.{cls.__name__}"
        if module.startswith("keras")
        else f"{module}.{cls.__qualname__}"
    )


def _leaves(model: Any, prefix: str, found: Tables) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for layer in model.layers:
        if isinstance(layer, L.InputLayer):
            continue
        path = f"{prefix}{layer.name}"
        if isinstance(layer, keras.Model) and _mapper(layer, found.layers) is None:
            out += _leaves(layer, f"{path}/", found)
        else:
            out.append((path, layer))
    return out


def _inputs(layer: Any) -> int:
    """How many tensors the layer was called on in its model (1 if unknown)."""
    try:
        value = layer.input
    except (AttributeError, ValueError):
        return 1
    return len(value) if isinstance(value, list | tuple) else 1


def _shape(array: np.ndarray) -> Shape:
    if array.ndim == 2 and not np.issubdtype(array.dtype, np.floating):
        return Shape(1, (int(array.shape[1]),), dtype="int")  # token ids
    return Shape(int(array.shape[-1]), tuple(int(d) for d in array.shape[1:-1]))


def _input_shape(model: Any, input: Any) -> Shape:
    """The model's input as a neutral shape, from the model or ``input``: integer
    token ids when the model's input has an integer dtype."""
    given = parse_input_shape(input) if input is not None else None
    try:
        shape = tuple(model.inputs[0].shape[1:])
        dtype = str(model.inputs[0].dtype)
    except (AttributeError, IndexError, TypeError, ValueError):
        shape, dtype = (), "float32"
    if shape and all(d is not None for d in shape):
        if "int" in dtype and len(shape) == 1:
            own = Shape(1, (int(shape[0]),), dtype="int")
        else:
            own = Shape(int(shape[-1]), tuple(int(d) for d in shape[:-1]))
        if given is not None and given != own:
            raise SpecError(
                f"input={input!r} ({given.torch()[1:]} channels first, {given.dtype}) differs "
                f"from the model's {own.torch()[1:]} ({own.dtype})"
            )
        return own
    if given is None:
        raise SpecError(
            "the Keras model has no fixed input shape; give input= as channels first "
            "sizes, like '1x28x28', or 'int:12' for 12 integer token ids"
        )
    return given


def _id_range(layer: Any, found: Tables) -> int | None:
    """How many token ids ``layer`` takes, if its class (or a base) registers it."""
    cls = next((c for c in type(layer).__mro__ if c in found.id_ranges), None)
    return None if cls is None else int(found.id_ranges[cls](layer))


#: Samples in the probe: one is enough to read every shape (the batch axis is not
#: read), and a second would double the cost of running a large model through it.
PROBE_SAMPLES = 1


def _batch(model: Any) -> int:
    """The probe's samples: the model's own batch size where its input fixes one (a
    stateful RNN refuses any other), else ``PROBE_SAMPLES``."""
    try:
        fixed = model.inputs[0].shape[0]
    except (AttributeError, IndexError, TypeError, ValueError):
        fixed = None
    return int(fixed) if fixed is not None else PROBE_SAMPLES


def _probe(
    shape: Shape, leaves: list[tuple[str, Any]], found: Tables, batch: int = PROBE_SAMPLES
) -> np.ndarray:
    """A random input of ``batch`` samples: normal floats, or token ids below the first
    vocabulary (the first layer that registers an ``id_range``: an embedding)."""
    rng = np.random.default_rng(0)
    if shape.dtype == "int":
        ranges = (_id_range(ly, found) for _, ly in leaves)
        vocab = next((r for r in ranges if r is not None), 2)
        return rng.integers(0, vocab, (batch, *shape.size)).astype("int32")
    return rng.standard_normal((batch, *shape.size, shape.channels)).astype("float32")


def _is_chain_graph(model: Any, leaves: list[tuple[str, Any]], found: Tables) -> bool:
    """Whether the model's own graph proves that running ``leaves`` one after another is
    the model: its nodes (nested models opened as ``_leaves`` opens them) call exactly
    these layers, each once, in this order, each on the one tensor before it with no
    other argument, and no tensor carries a mask. (``_branches`` already found one
    input, one output, one tensor per node and no tensor read twice.) False when it
    cannot tell: the model is then run whole and its output compared."""
    graph = getattr(model, "_functional", None) or model
    if not hasattr(graph, "_nodes_by_depth"):
        return False
    steps = _flat(graph, "", found)
    nodes = [node for kind, node, _ in steps if kind == "node"]
    if [id(node.operation) for node in nodes] != [id(layer) for _, layer in leaves]:
        return False
    last = id(graph.inputs[0])  # the tensor the next node must read
    for kind, node, to in steps:
        if kind == "alias":
            last = to if node == last else last
            continue
        args = node.arguments
        if args.kwargs or len(args.args) != 1 or len(node.outputs) != 1:
            return False
        if id(args.args[0]) != last or getattr(node.outputs[0], "_keras_mask", None) is not None:
            return False
        last = id(node.outputs[0])
    return last == id(graph.outputs[0])


def _mapped(layer: Any, piece: Piece, found: Tables) -> Piece:
    """``piece`` mapped through the mapper of ``layer``'s class and every refine; a
    layer no kind maps, or a value the spec rejects, becomes the piece's problem."""
    mapper = _mapper(layer, found.layers)
    if mapper is None:
        piece.problem = NO_CLASS  # the mapped names are listed once, by UnmappableError
        return piece
    try:
        piece = mapper(layer, piece)
        for refine in found.refines:
            piece = refine(layer, piece)
    except (Refuse, SpecError) as exc:  # SpecError: a value the spec rejects
        piece.problem = str(exc)
    return piece


def _mapped_names() -> dict[str, list[str]]:
    """The Keras layer classes this importer maps."""
    names = {k if isinstance(k, str) else k.__name__ for k in tables().layers}
    return {NO_CLASS: sorted(n.rsplit(".", 1)[-1] for n in names)}


MAPPED["keras"] = _mapped_names


def read_keras(model: Any, input: Any = None, name: str | None = None) -> Reading:
    """Read ``model`` into a ``Reading`` (the import, plus the model's layers in order to
    run it layer by layer and reach its weights).

    Example:
        >>> m = keras.Sequential([keras.Input((3, 2)), L.Flatten()])
        >>> [layer.kind for layer in read_keras(m).imported.model.layers]
        ['flatten']
    """
    if not isinstance(model, keras.Model):
        raise SpecError(f"from_keras needs a keras.Model, got {type(model).__name__}")
    input_shape = _input_shape(model, input)
    if not model.built:
        model.build(input_shape.keras())
    found = tables()
    if _branches(model):
        return _read_graph(model, input_shape, found, name or model.name)
    leaves = _leaves(model, "", found)
    probe = _probe(input_shape, leaves, found, _batch(model))
    x: Any = probe
    pieces: list[Piece] = []
    merged = False  # after a merge no chain shape carries on: only further merges are named
    for path, layer in leaves:
        in_shape = _shape(np.asarray(x))
        inputs = _inputs(layer)
        if inputs > 1:
            reason = f"it takes {inputs} inputs (a merge); a chain passes one tensor on"
            pieces.append(Piece(path, _qualname(layer), in_shape, in_shape, layer, problem=reason))
            merged = True
            continue
        if merged:
            continue
        try:
            y = keras.ops.convert_to_numpy(layer(x))
        except Exception as exc:
            text = re.sub(r"\x1b\[[0-9;]*m", "", " ".join(str(exc).split()))[:200]
            reason = f"it fails on an input of shape {tuple(np.shape(x))}: {text}"
            pieces.append(Piece(path, _qualname(layer), in_shape, in_shape, layer, problem=reason))
            break
        piece = Piece(path, _qualname(layer), in_shape, _shape(y), layer)
        x = y
        pieces.append(_mapped(layer, piece, found))
    else:
        whole = x if _is_chain_graph(model, leaves, found) else None
        if whole is None:
            whole = keras.ops.convert_to_numpy(model(probe))
        if whole.shape != np.shape(x) or not np.allclose(whole, x, rtol=1e-5, atol=1e-5):
            pieces.append(
                Piece(
                    model.name,
                    _qualname(model),
                    _shape(probe),
                    _shape(whole),
                    model,
                    problem="its graph is not a chain: its layers applied one after another "
                    "do not give the model's own output (a branch, a merge or a shared layer)",
                )
            )

    spec, parts = assemble(
        pieces,
        input_shape,
        name=name or model.name,
        source="keras",
    )
    imported, builts = read_weights(spec, parts, "keras")
    runs = [layer for _, layer in leaves]
    return Reading(imported, builts, runs, step_ends(pieces, parts))


# -- graphs: a functional model's real DAG, node by node ------------------------------
def _nodes(model: Any) -> list[Any]:
    """The model's nodes (one per call of a layer or ``keras.ops`` operation) in an
    order that computes each after what it reads: deepest first, as Keras runs them."""
    by_depth = model._nodes_by_depth  # Keras' own run order (``Function._run_through_graph``)
    return [node for depth in sorted(by_depth, reverse=True) for node in by_depth[depth]]


def _branches(model: Any) -> bool:
    """Whether a model's graph (its nested models' too) is more than a chain of layers:
    a node reading several tensors, a tensor read by several nodes, a ``keras.ops``
    call (not among ``model.layers``), or several inputs or outputs."""
    graph = getattr(model, "_functional", None) or model  # a Sequential runs a Functional
    if not hasattr(graph, "_nodes_by_depth"):
        return False
    if len(graph.inputs) != 1 or len(graph.outputs) != 1:
        return True
    reads: dict[int, int] = {}
    for node in _nodes(graph):
        if node.is_input:
            continue
        if len(node.input_tensors) > 1 or not isinstance(node.operation, L.Layer):
            return True  # several inputs, or a keras.ops call model.layers does not list
        if isinstance(node.operation, keras.Model) and _branches(node.operation):
            return True
        for tensor in node.input_tensors:
            reads[id(tensor)] = reads.get(id(tensor), 0) + 1
    return any(n > 1 for n in reads.values())


def _inner(op: Any, found: Tables) -> Any:
    """The functional graph of a nested model that no kind maps, else None."""
    if not isinstance(op, keras.Model) or _mapper(op, found.layers) is not None:
        return None
    graph = getattr(op, "_functional", None) or op  # a Sequential runs a Functional
    return graph if hasattr(graph, "_nodes_by_depth") else None


#: A step of a flattened graph: ("node", node, path) or ("alias", from id, to id).
Step = tuple[str, Any, Any]


def _flat(model: Any, prefix: str, found: Tables) -> list[Step]:
    """The model's nodes in run order, nested models opened: their inputs and outputs
    become aliases of the tensors the outer node reads and gives."""
    steps: list[Step] = []
    for node in _nodes(model):
        if node.is_input:
            continue
        inner = _inner(node.operation, found)
        if inner is None or len(inner.inputs) != len(node.input_tensors):
            steps.append(("node", node, f"{prefix}{node.operation.name}"))
            continue
        steps += [("alias", id(a), id(b)) for a, b in zip(node.input_tensors, inner.inputs)]
        steps += _flat(inner, f"{prefix}{node.operation.name}/", found)
        steps += [("alias", id(a), id(b)) for a, b in zip(inner.outputs, node.outputs)]
    return steps


def _run_node(node: Any, values: dict[int, Any]) -> list[Any]:
    """One node run on the values of the tensors it reads (keyed by tensor id)."""
    args, kwargs = node.arguments.fill_in(values)
    y = node.operation(*args, **kwargs)
    outs = y if isinstance(y, list | tuple) else [y]
    for tensor, value in zip(node.outputs, outs):
        values[id(tensor)] = value
    return list(outs)


def _tensor_shape(tensor: Any) -> Shape | None:
    """A symbolic tensor's shape as Keras computed it when the graph was built, read as
    ``_shape`` reads an array; None where an axis besides the batch is not fixed."""
    dims = tuple(tensor.shape)[1:]
    if not dims or any(d is None for d in dims):
        return None
    if len(dims) == 1 and not np.issubdtype(np.dtype(tensor.dtype), np.floating):
        return Shape(1, (int(dims[0]),), dtype="int")  # token ids
    return Shape(int(dims[-1]), tuple(int(d) for d in dims[:-1]))


def _graph_shapes(steps: list[Step], first: Any) -> dict[int, Shape] | None:
    """Every tensor's shape (by id) from the functional graph's own symbolic tensors,
    which Keras computed layer by layer when the model was built: nothing needs to run.
    None when some shape is not fixed (the graph is then run on the probe)."""
    shapes: dict[int, Shape] = {}
    own = _tensor_shape(first)
    if own is None:
        return None
    shapes[id(first)] = own
    for kind, node, path in steps:
        if kind == "alias":
            if node in shapes:
                shapes[path] = shapes[node]
            continue
        for tensor in node.outputs:
            shape = _tensor_shape(tensor)
            if shape is None:
                return None
            shapes[id(tensor)] = shape
    return shapes


def _read_graph(model: Any, input_shape: Shape, found: Tables, name: str) -> Reading:
    """Read a functional model whose graph branches: each node (a layer's call, a
    ``keras.ops`` operation, a merge layer; the nodes of a nested model) taken in
    Keras' own order, with the shapes of its symbolic tensors (or, where one is not
    fixed, run on a probe), and mapped into a piece that reads the pieces its input
    tensors come from."""
    cls = _qualname(model)
    if len(model.inputs) != 1:
        reason = f"it takes {len(model.inputs)} inputs; compare reads models of one"
        raise UnmappableError("keras", [Unmapped(name, cls, reason)])
    steps = _flat(getattr(model, "_functional", None) or model, "", found)
    ops = [(path, node.operation) for kind, node, path in steps if kind == "node"]
    probe = _probe(input_shape, ops, found, _batch(model))
    first = model.inputs[0]
    known = _graph_shapes(steps, first)
    values: dict[int, Any] = {id(first): probe}
    index: dict[int, int] = {id(first): -1}
    pieces: list[Piece] = []
    at: list[int] = []  # the id of each piece's output tensor
    for kind, node, path in steps:
        if kind == "alias":
            if node in values:
                values[path] = values[node]
            if node in index:
                index[path] = index[node]
            continue
        op = node.operation
        what = _qualname(op)
        reads = [t for t in node.input_tensors if id(t) in index]
        if known is not None:
            shapes = [known[id(t)] for t in reads]
            in_shape = shapes[0] if shapes else known[id(first)]
            out_shape = known[id(node.outputs[0])]
        else:
            shapes = [_shape(np.asarray(values[id(t)])) for t in reads]
            in_shape = shapes[0] if shapes else _shape(probe)
            try:
                outs = _run_node(node, values)
                out_shape = _shape(keras.ops.convert_to_numpy(outs[0]))
            except Exception as exc:
                text = re.sub(r"\x1b\[[0-9;]*m", "", " ".join(str(exc).split()))[:200]
                reason = f"it fails on inputs of shapes {[s.keras() for s in shapes]}: {text}"
                pieces.append(Piece(path, what, in_shape, in_shape, op, problem=reason))
                break
        problem: str | None = None
        if len(node.outputs) != 1:
            problem = f"it returns {len(node.outputs)} tensors; compare reads layers of one"
        elif isinstance(op, keras.Model) and _mapper(op, found.layers) is None:
            problem = "a nested model with several inputs is not opened"
        elif len(op._inbound_nodes) > 1:
            problem = (
                f"the layer is called {len(op._inbound_nodes)} times (shared weights); "
                "compare reads each layer once"
            )
        elif not reads:
            problem = "it makes a tensor from no input of the model"
        piece = Piece(
            path,
            what,
            in_shape,
            out_shape,
            op,
            problem=problem,
            sources=tuple(index[id(t)] for t in reads),
            in_shapes=tuple(shapes) if len(shapes) > 1 else (),
        )
        if piece.problem is None:
            piece = _mapped(op, piece, found)
        index[id(node.outputs[0])] = len(pieces)
        pieces.append(piece)
        at.append(id(node.outputs[0]))
    outputs = [index[id(t)] for t in model.outputs if id(t) in index]
    spec, parts = assemble(pieces, input_shape, name=name, source="keras", outputs=outputs)
    imported, builts = read_weights(spec, parts, "keras")
    wanted = [at[part.id] for part in parts]

    def collect(x: Any) -> list[Any]:
        run: dict[int, Any] = {id(first): keras.ops.convert_to_tensor(x)}
        keep = set(wanted)
        kept: dict[int, Any] = {}
        for kind, node, path in steps:
            if kind == "alias":
                if node in run:
                    run[path] = run[node]
                continue
            _run_node(node, run)
            for tensor in node.outputs:
                if id(tensor) in keep:
                    kept[id(tensor)] = keras.ops.convert_to_numpy(run[id(tensor)])
        return [kept[i] for i in wanted]

    return Reading(imported, builts, [], [], collect=collect)


def from_keras(model: Any, input: Any = None, name: str | None = None) -> Imported:
    """See ``compare.from_keras``."""
    return read_keras(model, input, name).imported
