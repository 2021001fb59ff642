"""Read a real ``torch.nn.Module`` into a spec (with its weights).

The module is walked as a chain of steps: an ``nn.Sequential`` by its children (nested
ones too), a mapped or built-in ``torch.nn`` module as one step, any other module by
tracing its ``forward`` with ``torch.fx`` (which must be a straight chain: every
operation uses only the one before it). A probe tensor runs through the steps to read
every step's real input and output shape. Each step is then mapped through what the
kinds register (``compare.kinds.<family>.from_torch``): ``("torch", "module", cls)``
for a module class, ``("torch", "function", fn)`` for a traced function or a tensor
method's name, and the pieces are folded by ``compare.importers.base.assemble``. The
user's module is never changed: the walk works on a deep copy in eval mode.

Sequences. A module registered as ``("torch", "sequence_opener", cls)`` (a
``batch_first`` RNN) takes (N, steps, features) and returns a tuple that the steps
after it (``("torch", "tuple_reader", cls)`` modules, traced indexing or ``squeeze``)
reduce to one tensor; the walk tracks whether the running tensor is in that layout,
and a kind's ``("torch", "sequence_layout", kind)`` says how its piece meets it.
"""

from __future__ import annotations

import copy
import operator
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import torch
from torch import fx, nn

from compare.adapters.torch_modules import MoveAxis
from compare.core import registry
from compare.core.registry import register_part
from compare.errors import SpecError
from compare.formulas import Shape
from compare.hints import input_hint
from compare.importers.base import (
    MAPPED,
    NO_CLASS,
    NO_FUNCTION,
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

__all__ = ["FROM_TORCH", "Tables", "arg", "from_torch", "read_torch", "roles", "tables"]

Mapper = Callable[[Any, Piece], Piece]
#: (piece, features last?, the step's input, the step's module or node, its run)
#: -> (the piece, features last after it)
Layout = Callable[[Piece, bool, torch.Tensor, Any, Callable[[Any], Any]], tuple[Piece, bool]]
#: (module, its traced call) -> a traceable module computing the same from its children
Expander = Callable[[Any, fx.Node], nn.Module]
#: (a module's traced call) -> the tensor nodes it reads, in the spec's input order
CallReader = Callable[[fx.Node], list[fx.Node]]

#: The module of every family that maps torch modules and functions to its specs.
FROM_TORCH = "from_torch"


def roles(module: nn.Module, **names: str) -> dict[str, Any]:
    """role -> (module, attribute) for the parameters the module really has.

    Example:
        >>> sorted(roles(nn.Linear(2, 3, bias=False), kernel="weight", bias="bias"))
        ['kernel']
    """
    return {
        role: (module, attr) for role, attr in names.items() if getattr(module, attr) is not None
    }


def arg(node: fx.Node, index: int, name: str, default: Any) -> Any:
    """Argument ``name`` of a traced call (after the chain value), positional or keyword.

    Example:
        >>> graph = fx.symbolic_trace(lambda x: torch.flatten(x, 1)).graph
        >>> node = next(n for n in graph.nodes if n.op == "call_function")
        >>> arg(node, 0, "start_dim", 0), arg(node, 1, "end_dim", -1)
        (1, -1)
    """
    args = node.args[1:]
    return node.kwargs.get(name, args[index] if len(args) > index else default)


def _move(module: Any, piece: Piece) -> Piece:
    moves = {(1, -1): "last", (-1, 1): "first"}
    key = (module.source, module.destination)
    if key not in moves:
        raise Refuse(f"moves axis {module.source} to {module.destination}")
    return replace(piece, move=moves[key])


def _identity(module: Any, piece: Piece) -> Piece:
    return piece


def _fn_move(node: fx.Node, piece: Piece) -> Piece:
    """``x.permute(0, 2, 3, 1)`` / ``torch.movedim(x, 1, -1)`` (channels last) and back:
    a structural piece that a kind may take in (``Absorb`` ``"move"``)."""
    args: list[Any] = list(node.args[1:])
    kwargs: dict[str, Any] = dict(node.kwargs)
    n = piece.in_shape.rank + 2
    if node.target == "permute" or node.target is torch.permute:
        dims = kwargs.get("dims", args[0] if len(args) == 1 else args)
        order = tuple(int(d) % n for d in dims)
    else:
        source = int(kwargs.get("source", args[0] if args else 0)) % n
        destination = int(kwargs.get("destination", args[1] if len(args) > 1 else 0)) % n
        rest = [d for d in range(n) if d != source]
        rest.insert(destination, source)
        order = tuple(rest)
    moves = {(0, *range(2, n), 1): "last", (0, n - 1, *range(1, n - 1)): "first"}
    if order not in moves or n < 3:
        raise Refuse(
            f"permutes the axes to {order}; only moving the channels last and back is read"
        )
    return replace(piece, move=moves[order])


register_part("torch", "module", nn.Identity)(_identity)
register_part("torch", "module", MoveAxis)(_move)
register_part(
    "torch",
    "function",
    torch.permute,
    "permute",
    torch.movedim,
    torch.moveaxis,
    "movedim",
    "moveaxis",
)(_fn_move)


@dataclass(frozen=True)
class Tables:
    """What the kinds register for the torch importer, read once per import.

    Example:
        >>> nn.Identity in tables().modules
        True
    """

    modules: dict[Any, Mapper] = field(default_factory=dict)
    functions: dict[Any, Mapper] = field(default_factory=dict)
    openers: dict[Any, Any] = field(default_factory=dict)
    readers: dict[Any, Any] = field(default_factory=dict)
    layouts: dict[str, Layout] = field(default_factory=dict)
    #: module class -> (module, its traced call) -> an ``nn.Module`` fx can trace that
    #: computes the same from the module's own children (read as their graph)
    expanders: dict[Any, Expander] = field(default_factory=dict)
    #: module class -> (its traced call) -> the tensors it reads, in the spec's order
    calls: dict[Any, CallReader] = field(default_factory=dict)
    #: function -> (call, piece, owner, attribute): the call with a parameter of the
    #: model as an operand (``x + self.pos``)
    parameters: dict[Any, Any] = field(default_factory=dict)


def tables() -> Tables:
    """Every family's ``from_torch`` module imported, and what they registered.

    Example:
        >>> "flatten" in tables().functions
        True
    """
    registry.load_modules(FROM_TORCH)

    def found(what: str) -> dict[Any, Any]:
        return registry.parts("torch", what, families=())

    return Tables(
        found("module"),
        found("function"),
        found("sequence_opener"),
        found("tuple_reader"),
        found("sequence_layout"),
        found("expand"),
        found("call"),
        found("parameter"),
    )


def _qualname(obj: Any) -> str:
    cls = obj if isinstance(obj, type) else type(obj)
    module = cls.__module__
    if module.startswith("torch.nn.modules"):
        module = "torch.nn"
    return f"{module}.{cls.__qualname__}"


def _mapper(module: nn.Module, modules: dict[Any, Mapper]) -> Mapper | None:
    """The mapper of the module's class, or of a base class whose forward it keeps."""
    cls = type(module)
    if cls in modules:
        return modules[cls]
    for base in cls.__mro__[1:]:
        if base in modules and cls.forward is base.forward:  # type: ignore[attr-defined]
            return modules[base]
    return None


def _registered(obj: Any, table: dict[Any, Any]) -> bool:
    """Whether ``obj`` is an instance of a class in ``table`` (subclasses too)."""
    return any(cls in table for cls in type(obj).__mro__)


class _Tracer(fx.Tracer):
    """Keeps mapped modules (and built-in ones) whole, so each is one step."""

    def __init__(self, modules: dict[Any, Mapper], expanders: dict[Any, Any] | None = None) -> None:
        super().__init__()
        self.modules = modules
        self.expanders = expanders or {}

    def is_leaf_module(self, m: nn.Module, module_qualified_name: str) -> bool:
        if isinstance(m, nn.Sequential) and type(m).forward is nn.Sequential.forward:
            return False
        if _registered(m, self.expanders):  # read as its graph, once its call is seen
            return True
        return _mapper(m, self.modules) is not None or super().is_leaf_module(
            m, module_qualified_name
        )


@dataclass
class _Step:
    path: str
    cls: str
    run: Callable[[torch.Tensor], torch.Tensor]
    obj: Any
    mapper: Mapper | None
    problem: str | None = None


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _call(node: fx.Node, env: dict[fx.Node, Any]) -> Any:
    """Evaluate one traced call with its input nodes looked up in ``env``."""
    args: Any = fx.node.map_arg(node.args, env.__getitem__)
    kwargs: Any = fx.node.map_arg(node.kwargs, env.__getitem__)
    if node.op == "call_method":
        return getattr(args[0], str(node.target))(*args[1:], **kwargs)
    target: Any = node.target
    return target(*args, **kwargs)


def _fn_runner(
    node: fx.Node, current: fx.Node, sides: list[fx.Node]
) -> Callable[[torch.Tensor], torch.Tensor]:
    """Run ``node`` on the chain value, recomputing the shape reads it uses from it."""

    def run(x: torch.Tensor) -> torch.Tensor:
        env: dict[fx.Node, Any] = {current: x}
        for side in sides:
            env[side] = _call(side, env)
        return _call(node, env)

    return run


def _is_shape_read(node: fx.Node, current: fx.Node, sides: list[fx.Node]) -> bool:
    """``x.size(0)``, ``x.shape``, ``x.shape[0]``: reads of the chain value's shape."""
    used = node.all_input_nodes
    if node.op == "call_method" and node.target in ("size", "dim"):
        return used == [current]
    if node.op == "call_function" and node.target is getattr:
        return used == [current] and node.args[1:] == ("shape",)
    if node.op == "call_function" and node.target is operator.getitem:
        return bool(used) and all(n in sides for n in used)
    return False


Chain = list[tuple[fx.Node, fx.Node, list[fx.Node]]]

#: How a step that branches is named; a model with one is read as a graph.
NOT_A_CHAIN = "its forward is not a straight chain"
#: How a module call with several values ends; such a model is read as a graph too.
MORE_THAN_ONE = "with more than the chain value"
#: A forward that uses a parameter itself (``x + self.pos``): read as a graph too.
READS_ATTRIBUTE = "its forward reads the attribute"


def _chain(graph: fx.Graph) -> tuple[Chain, str | None]:
    """(node, the chain value it takes, the shape reads it uses) per step, or a problem."""
    nodes = list(graph.nodes)
    inputs = [n for n in nodes if n.op == "placeholder"]
    if len(inputs) != 1:
        return [], f"its forward takes {len(inputs)} inputs; a chain takes one"
    current, sides, steps = inputs[0], list[fx.Node](), []
    branches: list[str] = []  # every place the forward is not a chain, named at once
    for node in nodes[1:]:
        used = node.all_input_nodes
        if node.op == "get_attr":
            return [], f"{READS_ATTRIBUTE} {node.target!r} directly"
        if _is_shape_read(node, current, sides):
            sides.append(node)
            continue
        allowed = [current, *sides] if node.op in ("call_function", "call_method") else [current]
        if current not in used or any(n not in allowed for n in used):
            names = ", ".join(n.name for n in used) or "no earlier value"
            target = getattr(node.target, "__name__", node.target)
            branches.append(
                f"{node.name!r} ({node.op} {target}) uses {names}, not just {current.name!r}"
            )
            current, sides = node, []
            continue
        if node.op == "call_module" and (len(node.args) != 1 or node.kwargs):
            return [], f"its forward calls {node.target!r} {MORE_THAN_ONE}"
        if node.op != "output":
            steps.append((node, current, [s for s in sides if s in _needed(node, sides)]))
        current, sides = node, []
    if branches:
        where = "; ".join(branches)
        places = f" in {len(branches)} places" if len(branches) > 1 else ""
        return [], f"{NOT_A_CHAIN}{places}: {where}"
    return steps, None


def _needed(node: fx.Node, sides: list[fx.Node]) -> set[fx.Node]:
    """The shape reads ``node`` depends on, directly or through other reads."""
    out: set[fx.Node] = set()
    todo = [n for n in node.all_input_nodes if n in sides]
    while todo:
        n = todo.pop()
        if n not in out:
            out.add(n)
            todo += [m for m in n.all_input_nodes if m in sides]
    return out


def _steps(module: nn.Module, path: str, found: Tables) -> list[_Step]:
    cls = _qualname(module)
    if isinstance(module, nn.Sequential) and type(module).forward is nn.Sequential.forward:
        return [
            s
            for name, child in module.named_children()
            for s in _steps(child, _join(path, name), found)
        ]
    mapper = _mapper(module, found.modules)
    if mapper is not None or _Tracer(found.modules, found.expanders).is_leaf_module(module, path):
        return [_Step(path or type(module).__name__, cls, module, module, mapper)]
    try:
        graph = _Tracer(found.modules, found.expanders).trace(module)
    except Exception as exc:
        reason = f"not an nn.Sequential, and torch.fx cannot trace its forward: {exc}"
        return [
            _Step(
                path or type(module).__name__, cls, module, module, None, " ".join(reason.split())
            )
        ]
    for node in reversed(list(graph.nodes)):  # unused reads, like `_` in `out, _ = lstm(x)`
        if node.op == "call_function" and node.target is operator.getitem and not node.users:
            graph.erase_node(node)
    chain, problem = _chain(graph)
    if problem is not None:
        return [_Step(path or type(module).__name__, cls, module, module, None, problem)]
    out: list[_Step] = []
    for node, current, sides in chain:
        if node.op == "call_module":
            sub = module.get_submodule(str(node.target))
            out += _steps(sub, _join(path, str(node.target)), found)
        else:
            key = node.target
            name = key if isinstance(key, str) else getattr(key, "__name__", str(key))
            fn_cls = f"Tensor.{name}" if node.op == "call_method" else _fn_name(key)
            runner = _fn_runner(node, current, sides)
            mapper = found.functions.get(key)
            out.append(_Step(_join(path, node.name), fn_cls, runner, node, mapper))
    return out


def _graph_step(step: _Step, found: Tables) -> bool:
    """A step only the graph reader reads: a forward that branches or calls a module on
    more than one value (an attention's ``attn(x, x, x)``), or a module read as its graph
    (``nn.TransformerEncoderLayer``)."""
    if _registered(step.obj, found.expanders):
        return True
    problem = step.problem or ""
    return problem.startswith((NOT_A_CHAIN, READS_ATTRIBUTE)) or problem.endswith(MORE_THAN_ONE)


def _batch_first_chain(
    work: nn.Module, input_shape: Shape, steps: list[_Step], found: Tables
) -> bool:
    """A chain that takes its rank-1 float input as (N, steps, features) without a
    ``batch_first`` RNN first (``fc(ln(x))`` on a sequence): it fails on the
    channels-first probe and runs on that one. The graph reader follows that layout."""
    if input_shape.dtype != "float" or input_shape.rank != 1 or _opens(steps, 0, found):
        return False
    with torch.no_grad():
        for last in (False, True):
            try:
                work(_probe(work, input_shape, steps_last=last))
            except Exception:
                continue
            return last
    return False


def _fn_name(fn: Any) -> str:
    module = getattr(fn, "__module__", None) or "torch"
    return f"{module}.{getattr(fn, '__name__', fn)}"


def _shape(t: torch.Tensor) -> Shape:
    return Shape(int(t.shape[1]), tuple(int(d) for d in t.shape[2:]))


def _no_mapper(obj: Any, found: Tables) -> str:
    if isinstance(obj, fx.Node):
        return NO_FUNCTION  # the mapped names are listed once, by UnmappableError
    return NO_CLASS


def _mapped_names() -> dict[str, list[str]]:
    """The public classes and functions this importer maps (compare's helpers left out)."""
    found = tables()
    classes = {k.__name__ for k in found.modules if not k.__module__.startswith("compare.")}
    functions = {k if isinstance(k, str) else k.__name__ for k in found.functions}
    return {NO_CLASS: sorted(classes), NO_FUNCTION: sorted(functions)}


MAPPED["torch"] = _mapped_names


# -- sequences: a module that takes (N, steps, features) and returns a tuple ----------
def _opens(steps: list[_Step], index: int, found: Tables) -> bool:
    return index < len(steps) and _registered(steps[index].obj, found.openers)


def _read_shape(t: torch.Tensor, last: bool) -> Shape:
    """The neutral shape of a probe tensor: channels-first, or (N, steps, features)."""
    if not t.is_floating_point() and t.dim() == 2:
        return Shape(1, (int(t.shape[1]),), dtype="int")  # token ids
    if last and t.dim() == 3:
        return Shape(int(t.shape[2]), (int(t.shape[1]),))
    return _shape(t) if t.dim() >= 2 else Shape(1)


def _channels_first(t: torch.Tensor) -> torch.Tensor:
    return torch.movedim(t, -1, 1)


def _steps_last(t: torch.Tensor) -> torch.Tensor:
    return torch.movedim(t, 1, -1)


def _reads_tuple(step: _Step, found: Tables) -> bool:
    """A step that picks a tensor out of an RNN's (output, state): a registered tuple
    reader (``RnnOutput``), an index (``out[0]``, ``out[:, -1]``, ``h_n[-1]``) or
    ``h_n.squeeze(0)``."""
    if _registered(step.obj, found.readers):
        return True
    node = step.obj
    return isinstance(node, fx.Node) and node.target in (operator.getitem, "squeeze")


def _tuple_readers(steps: list[_Step], index: int, found: Tables) -> int:
    used = 0
    while index + used < len(steps) and _reads_tuple(steps[index + used], found):
        used += 1
    return used


def _fuse(opener: _Step, readers: list[_Step]) -> _Step:
    """The module that returns a tuple and the steps that read it, as one step."""
    if not readers:
        problem = "its (output, state) tuple is not reduced to one tensor"
        try:  # the module's own options first: they say more
            assert opener.mapper is not None
            opener.mapper(opener.obj, Piece(opener.path, opener.cls, Shape(1), Shape(1)))
        except Refuse as exc:
            problem = str(exc)
        return replace(opener, problem=problem)

    def run(x: torch.Tensor) -> Any:
        y: Any = opener.run(x)
        for reader in readers:
            y = reader.run(y)
        return y

    return replace(opener, run=run)


def _sequence_layout(
    piece: Piece, last: bool, x: torch.Tensor, step: _Step, opener_next: bool, found: Tables
) -> tuple[Piece, bool]:
    """Settle a mapped piece in the sequence layout; return it and the layout after it."""
    layer = piece.layer
    layout = found.layouts.get(layer.kind) if layer is not None else None
    if layout is not None:
        return layout(piece, last, x, step.obj, step.run)
    if piece.move is not None and x.dim() == 3 and (last or opener_next):
        return replace(piece, move=None), not last  # a layout change only
    if last and (layer is not None or piece.move or piece.pad or piece.crop):
        raise Refuse(
            f"it gets a (N, steps, features) sequence {tuple(x.shape)}, as a batch_first RNN "
            "or an embedding returns it, but the spec reads this layer channels-first; "
            "move the features to axis 1 first (x.movedim(-1, 1))"
        )
    return piece, last


def _probe(work: nn.Module, shape: Shape, *, steps_last: bool) -> torch.Tensor:
    """A zero batch of one in the module's float dtype: token ids, a sequence as
    (1, steps, features) when ``steps_last`` (a batch_first RNN opens it), or a
    channels-first map."""
    param = next(work.parameters(), None)
    dtype = param.dtype if param is not None and param.is_floating_point() else torch.float32
    if shape.dtype == "int":
        return torch.zeros((1, *shape.size), dtype=torch.long)
    if steps_last:
        return torch.zeros((1, shape.size[0], shape.channels), dtype=dtype)
    return torch.zeros((1, shape.channels, *shape.size), dtype=dtype)


def read_torch(module: nn.Module, input: Any, name: str | None = None) -> Reading:
    """Read ``module`` into a ``Reading`` (the import, plus a private copy of the module
    to run layer by layer and reach the weights of).

    ``input`` is the channels-first shape (``"16x10"``: 16 features, 10 steps) or token
    ids (``"int:12"``). A module that opens with a ``batch_first`` RNN takes its
    sequence as (N, steps, features), the layout such a module is written for.

    Example:
        >>> reading = read_torch(nn.Sequential(nn.Flatten()), "2x3")
        >>> [layer.kind for layer in reading.imported.model.layers]
        ['flatten']
    """
    if not isinstance(module, nn.Module):
        raise SpecError(f"from_torch needs a torch.nn.Module, got {type(module).__name__}")
    input_shape = parse_input_shape(input)
    work = copy.deepcopy(module).eval()
    found = tables()
    steps = _steps(work, "", found)
    if any(_graph_step(s, found) for s in steps) or _batch_first_chain(
        work, input_shape, steps, found
    ):
        return _read_graph(work, input_shape, found, name or type(module).__name__)
    # -- sequence layout: is the running tensor (N, steps, features)? ------------------
    opens = input_shape.dtype == "float" and input_shape.rank == 1 and _opens(steps, 0, found)
    last = opens
    x = _probe(work, input_shape, steps_last=last)
    pieces: list[Piece] = []
    runs: list[Callable[[Any], Any]] = []
    lasts: list[bool] = []
    i = 0
    with torch.no_grad():
        while i < len(steps):
            step, i = steps[i], i + 1
            in_shape = _read_shape(x, last)
            try:
                y = step.run(x)
                if _registered(step.obj, found.openers) and not isinstance(y, torch.Tensor):
                    used = _tuple_readers(steps, i, found)
                    step = _fuse(step, steps[i : i + used])
                    i += used
                    y = step.run(x)
                if not isinstance(y, torch.Tensor) or y.dim() < 2 or y.shape[0] != 1:
                    raise TypeError(
                        "its output is not one tensor that keeps the batch axis, got "
                        f"{type(y).__name__} {tuple(getattr(y, 'shape', ()))}"
                    )
            except Exception as exc:
                text = " ".join(str(exc).split())[:300]
                reason = step.problem or f"it fails on an input of shape {tuple(x.shape)}: {text}"
                if not pieces and step.problem is None:  # the first layer: the input's fault?
                    reason += input_hint((input_shape.channels, *input_shape.size))
                pieces.append(
                    Piece(step.path, step.cls, in_shape, in_shape, step.obj, problem=reason)
                )
                runs.append(step.run)
                lasts.append(last)
                break  # no shape to carry on with
            out_shape = _read_shape(y, last)
            piece = Piece(step.path, step.cls, in_shape, out_shape, step.obj, problem=step.problem)
            if piece.problem is None and step.mapper is None:
                piece.problem = _no_mapper(step.obj, found)
            if piece.problem is None:
                assert step.mapper is not None
                try:
                    piece = step.mapper(step.obj, piece)
                    opener_next = _opens(steps, i, found)
                    piece, last = _sequence_layout(piece, last, x, step, opener_next, found)
                except (Refuse, SpecError) as exc:  # SpecError: a value the spec rejects
                    piece.problem = str(exc)
            piece.out_shape = _read_shape(y, last)
            x = y
            pieces.append(piece)
            runs.append(step.run)
            lasts.append(last)
    model, parts = assemble(
        pieces,
        input_shape,
        name=name or type(module).__name__,
        source="torch",
    )
    imported, builts = read_weights(model, parts, "torch")
    ends = step_ends(pieces, parts)
    views: list[Callable[[Any], Any] | None] = [_channels_first if lasts[e] else None for e in ends]
    if opens:
        runs, ends = [_steps_last, *runs], [e + 1 for e in ends]
    return Reading(imported, builts, runs, ends, views)


# -- graphs: the whole forward traced once, every node a piece that names its sources --
def _is_value(value: Any) -> bool:
    """A tensor of the model: a batch (the probe's batch of one) of a map or vector."""
    return isinstance(value, torch.Tensor) and value.dim() >= 2 and value.shape[0] == 1


def _module_path(node: fx.Node) -> str:
    """The module a traced function call was made in (``layer1.0``), or ''."""
    stack = node.meta.get("nn_module_stack") or {}
    if not stack:
        return ""
    last = list(stack.values())[-1]
    return str(last[0] if isinstance(last, tuple) else last)


class _Run:
    """Runs a traced graph node by node in an environment keyed by node."""

    def __init__(self, root: nn.Module) -> None:
        self.root = root

    def __call__(self, node: fx.Node, env: dict[fx.Node, Any]) -> Any:
        if node.op == "call_module":
            args: Any = fx.node.map_arg(node.args, env.__getitem__)
            kwargs: Any = fx.node.map_arg(node.kwargs, env.__getitem__)
            return self.root.get_submodule(str(node.target))(*args, **kwargs)
        if node.op == "get_attr":
            value: Any = self.root
            for name in str(node.target).split("."):
                value = getattr(value, name)
            return value
        return _call(node, env)


def _tensor_args(node: fx.Node) -> list[fx.Node]:
    """The nodes a call reads, in order; a function's repeated operand (``x * x``)
    repeated, a module's not (``attention(x, x, x)`` reads one tensor)."""
    if node.op == "call_module":
        return list(node.all_input_nodes)
    found: list[fx.Node] = []
    fx.node.map_arg((node.args, node.kwargs), lambda n: found.append(n) or n)  # type: ignore[func-returns-value]
    return found


def _tensor_parts(node: fx.Node, value: Any, reads: list[fx.Node]) -> bool:
    """Whether ``node`` is a function or method call that splits one tensor of the model
    into a tuple of tensors (``x.chunk(2, dim=1)``, ``torch.split``): its items are read
    by the mapper registered for the call."""
    return (
        node.op in ("call_function", "call_method")
        and len(reads) == 1
        and isinstance(value, tuple | list)
        and bool(value)
        and all(_is_value(v) for v in value)
    )


def _is_item(node: fx.Node, held: Any, value: Any) -> bool:
    """Whether ``node`` takes one item of a function's tuple (``_tensor_parts``)."""
    return (
        isinstance(held, fx.Node)
        and node.target is operator.getitem
        and isinstance(node.args[1], int)
        and _is_value(value)
    )


def _registered_part(obj: Any, table: dict[Any, Any]) -> Any:
    """What ``table`` holds for the class of ``obj`` or its nearest base, or None."""
    return next((table[cls] for cls in type(obj).__mro__ if cls in table), None)


def _trace_root(work: nn.Module, found: Tables, name: str) -> fx.Graph:
    """The traced forward; a model that is itself one module read whole (an
    ``nn.TransformerEncoderLayer``) is a graph of that one call."""
    tracer = _Tracer(found.modules, found.expanders)
    if _registered(work, found.expanders):
        graph = fx.Graph()
        graph.output(graph.call_module("", (graph.placeholder("x"),)))
        return graph
    try:
        return tracer.trace(work)
    except Exception as exc:
        reason = " ".join(f"torch.fx cannot trace its forward: {exc}".split())[:300]
        raise UnmappableError("torch", [Unmapped(name, _qualname(work), reason)]) from exc


def _run_all(graph: fx.Graph, run: _Run, x: Any) -> tuple[dict[fx.Node, Any], bool]:
    """Every node's value on ``x``, up to the first that fails; and whether none failed."""
    env: dict[fx.Node, Any] = {}
    with torch.no_grad():
        for node in graph.nodes:
            if node.op == "placeholder":
                env[node] = x
            elif node.op != "output":
                try:
                    env[node] = run(node, env)
                except Exception:
                    return env, False
    return env, True


def _takes_sequences(module: nn.Module, found: Tables) -> bool:
    """A module that takes (N, steps, features): a batch_first RNN, an attention, a
    transformer layer."""
    return any(_registered(module, t) for t in (found.openers, found.calls, found.expanders))


def _input_last(
    graph: fx.Graph, work: nn.Module, run: _Run, input_shape: Shape, found: Tables
) -> bool:
    """Whether the model takes its rank-1 float input as (N, steps, features): it feeds
    a module that takes sequences so, or its forward fails on the channels-first
    (N, features, steps) probe and runs on that one."""
    if input_shape.dtype != "float" or input_shape.rank != 1:
        return False
    placeholder = next(n for n in graph.nodes if n.op == "placeholder")
    for user in placeholder.users:
        if user.op == "call_module" and _takes_sequences(
            work.get_submodule(str(user.target)), found
        ):
            return True
    if _run_all(graph, run, _probe(work, input_shape, steps_last=False))[1]:
        return False
    return _run_all(graph, run, _probe(work, input_shape, steps_last=True))[1]


def _inline(graph: fx.Graph, node: fx.Node, inner: fx.Graph, cls: type) -> None:
    """Put ``inner`` (the traced graph of the module ``node`` calls) in place of ``node``,
    its module paths prefixed with that module's."""
    prefix = str(node.target)
    placeholder = next(n for n in inner.nodes if n.op == "placeholder")
    val_map: dict[fx.Node, fx.Node] = {placeholder: node.args[0]}  # type: ignore[dict-item]
    with graph.inserting_before(node):
        out = graph.graph_copy(inner, val_map)
    for old, new in val_map.items():
        if old is placeholder:
            continue
        if old.op in ("call_module", "get_attr"):
            new.target = _join(prefix, str(old.target))
        else:
            stack = old.meta.get("nn_module_stack") or {}
            here = {prefix: (prefix, cls)} if prefix else {}
            new.meta["nn_module_stack"] = here | {
                _join(prefix, str(k)): (
                    _join(prefix, str(v[0] if isinstance(v, tuple) else v)),
                    v[1] if isinstance(v, tuple) else cls,
                )
                for k, v in stack.items()
            }
    node.replace_all_uses_with(out)  # type: ignore[arg-type]
    graph.erase_node(node)


def _check_expansion(module: nn.Module, sub: nn.Module, x: torch.Tensor) -> None:
    """``Refuse`` unless ``sub`` (the module's children as a graph) computes what the
    module's own forward computes, on a random batch shaped like ``x``."""
    gen = torch.Generator().manual_seed(0)
    probe = torch.randn((2, *x.shape[1:]), generator=gen, dtype=x.dtype)
    with torch.no_grad():
        want, got = module(probe), sub(probe)
    err = float((want - got).abs().max()) if want.shape == got.shape else float("inf")
    scale = max(float(want.abs().max()), 1.0)
    if not err <= 1e-4 * scale:
        raise Refuse(
            f"its children, read as a graph, compute other values than its forward "
            f"(max abs difference {err:.3g} on a random input)"
        )


def _expand(graph: fx.Graph, work: nn.Module, run: _Run, x: Any, found: Tables) -> dict[str, str]:
    """Replace each call of a module registered ``("torch", "expand", cls)`` by the graph
    of its children that the expander gives (nested ones too: an encoder of encoder
    layers), each checked against the module's own forward; module path -> why one
    could not be read so."""
    failed: dict[str, str] = {}
    for _ in range(16):  # one round per level of nesting
        todo = [
            n
            for n in graph.nodes
            if n.op == "call_module"
            and str(n.target) not in failed
            and _registered(work.get_submodule(str(n.target)), found.expanders)
        ]
        if not todo:
            break
        env, _ok = _run_all(graph, run, x)  # the input of each, to check it on
        for node in todo:
            module = work.get_submodule(str(node.target))
            expander = _registered_part(module, found.expanders)
            try:
                sub = expander(module, node)
                inner = _Tracer(found.modules, found.expanders).trace(sub)
                value = env.get(node.args[0]) if node.args else None  # type: ignore[call-overload]
                if isinstance(value, torch.Tensor) and value.is_floating_point():
                    _check_expansion(module, sub, value)
            except (Refuse, SpecError) as exc:
                failed[str(node.target)] = str(exc)
                continue
            except Exception as exc:  # a forward fx cannot trace
                text = " ".join(str(exc).split())[:200]
                failed[str(node.target)] = f"its children cannot be read as a graph: {text}"
                continue
            _inline(graph, node, inner, type(module))
    return failed


def _with_parameter(
    node: fx.Node, held: dict[fx.Node, tuple[nn.Module, str]], found: Tables
) -> Mapper | None:
    """The mapper of a call with one of the model's parameters as an operand
    (``x + self.pos``), registered ``("torch", "parameter", fn)``; None for any other."""
    params = [n for n in _tensor_args(node) if n in held]
    read = found.parameters.get(node.target)
    if len(params) != 1 or read is None:
        return None
    owner, attr = held[params[0]]

    def mapper(obj: Any, piece: Piece) -> Piece:
        return read(obj, piece, owner, attr)  # type: ignore[no-any-return]

    return mapper


def _commutes(node: fx.Node, reads: list[fx.Node], env: dict[fx.Node, Any], run: _Run) -> bool:
    """Whether ``node`` computes the same on its (N, steps, features) inputs as on them
    with the features moved to axis 1 (an add, an elementwise activation, a dropout),
    measured on random inputs: then the spec's channels-first layer is this one."""
    gen = torch.Generator().manual_seed(0)
    base = {n: torch.randn(env[n].shape, generator=gen, dtype=env[n].dtype) for n in reads}
    try:
        with torch.no_grad():
            a = run(node, {**env, **{n: t.clone() for n, t in base.items()}})
            b = run(node, {**env, **{n: torch.movedim(t, -1, 1).clone() for n, t in base.items()}})
    except Exception:
        return False
    if not isinstance(a, torch.Tensor) or not isinstance(b, torch.Tensor) or a.dim() != 3:
        return False
    a = torch.movedim(a, -1, 1)
    return a.shape == b.shape and bool(torch.allclose(a, b, rtol=1e-5, atol=1e-6))


def _settle(
    piece: Piece,
    node: fx.Node,
    reads: list[fx.Node],
    last: dict[fx.Node, bool],
    env: dict[fx.Node, Any],
    run: _Run,
    found: Tables,
) -> tuple[Piece, bool]:
    """Settle a graph piece in the sequence layout: the piece, and whether its value is
    (N, steps, features). A kind's ``sequence_layout`` decides for it; a layer without
    one reads such a sequence only when it commutes with moving the features to axis 1;
    the user's own ``movedim`` / ``permute`` of a sequence changes the layout only."""
    ins = [last.get(n, False) for n in reads]
    if len(set(ins)) > 1:
        raise Refuse("it reads (N, steps, features) sequences and channels-first tensors together")
    is_last = bool(ins) and ins[0]
    value = env[node]
    layer = piece.layer
    hook = found.layouts.get(layer.kind) if layer is not None else None
    if hook is not None:
        x = env[reads[0]]

        def one(t: Any) -> Any:
            return run(node, {**env, reads[0]: t})

        return hook(piece, is_last, x, piece.obj, one)
    if piece.move is not None and value.dim() == 3:
        if is_last:
            return replace(piece, move=None), False  # the user's x.movedim(-1, 1)
        if any(
            u.op == "call_module" and _takes_sequences(run.root.get_submodule(str(u.target)), found)
            for u in node.users
        ):
            return replace(piece, move=None), True  # features last, for an attention
    if not is_last:
        return piece, False
    if layer is None and not (piece.pad or piece.crop or piece.move):
        return piece, True  # an identity
    if layer is not None and _commutes(node, reads, env, run):
        return piece, True
    raise Refuse(
        f"it gets a (N, steps, features) sequence {tuple(env[reads[0]].shape)}, but the "
        "spec reads this layer channels-first and it computes otherwise on the features "
        "moved to axis 1; move them first (x.movedim(-1, 1))"
    )


def _read_graph(work: nn.Module, input_shape: Shape, found: Tables, name: str) -> Reading:
    """Read a module whose forward branches: traced whole by ``torch.fx`` (mapped modules
    kept whole, modules registered ``("torch", "expand", cls)`` replaced by the graph of
    their children), run node by node on a probe, every node that gives a tensor a piece
    reading the pieces its tensors come from. Sequences: a value may be
    (N, steps, features), as attention and transformer layers take it; the kinds'
    ``sequence_layout`` say how a piece meets that layout."""
    cls = _qualname(work)
    graph = _trace_root(work, found, name)
    for node in reversed(list(graph.nodes)):  # unused reads, like `_` in `out, _ = lstm(x)`
        if node.op == "call_function" and node.target is operator.getitem and not node.users:
            graph.erase_node(node)
    placeholders = [n for n in graph.nodes if n.op == "placeholder"]
    if len(placeholders) != 1:
        reason = f"its forward takes {len(placeholders)} inputs; compare reads models of one"
        raise UnmappableError("torch", [Unmapped(name, cls, reason)])
    run = _Run(work)
    input_last = _input_last(graph, work, run, input_shape, found)
    x = _probe(work, input_shape, steps_last=input_last)
    failed = _expand(graph, work, run, x, found)
    env: dict[fx.Node, Any] = {placeholders[0]: x}
    last: dict[fx.Node, bool] = {placeholders[0]: input_last}
    index: dict[fx.Node, int] = {placeholders[0]: -1}
    # module call (or a split) -> (its module or node, the tensors it reads, why it
    # cannot be read)
    tuples: dict[fx.Node, tuple[Any, list[fx.Node], str | None]] = {}
    held: dict[fx.Node, tuple[nn.Module, str]] = {}  # get_attr -> (module, attribute)
    pieces: list[Piece] = []
    at: list[fx.Node] = []  # the node of each piece
    outputs: list[int] = []
    with torch.no_grad():
        for node in graph.nodes:
            if node.op == "placeholder":
                continue
            if node.op == "output":
                outputs = [index[n] for n in node.all_input_nodes if n in index]
                break
            reads = [n for n in _tensor_args(node) if n in index or n in tuples]
            opened = [n for n in reads if n in tuples]
            problem: str | None = None
            if node.op == "call_module":
                obj: Any = work.get_submodule(str(node.target))
                path, what = str(node.target) or name, _qualname(obj)
                mapper = _mapper(obj, found.modules)
                reader = _registered_part(obj, found.calls)
                if reader is not None:
                    try:
                        reads = [n for n in reader(node) if n in index]
                    except Refuse as exc:
                        problem = str(exc)
                problem = failed.get(str(node.target), problem)
            else:
                obj = node
                key = node.target
                label = key if isinstance(key, str) else getattr(key, "__name__", str(key))
                what = f"Tensor.{label}" if node.op == "call_method" else _fn_name(key)
                path = _join(_module_path(node), node.name)
                mapper = _with_parameter(node, held, found) or found.functions.get(key)
            try:
                value = run(node, env)
            except Exception as exc:
                text = " ".join(str(exc).split())[:300]
                shapes = [tuple(env[n].shape) for n in reads if isinstance(env[n], torch.Tensor)]
                reason = f"it fails on inputs of shapes {shapes}: {text}"
                pieces.append(Piece(path, what, Shape(1), Shape(1), obj, problem=reason))
                break
            env[node] = value
            if node.op == "get_attr":  # a parameter or buffer: read by the call using it
                owner, _, attr = str(node.target).rpartition(".")
                held[node] = (work.get_submodule(owner), attr)
                continue
            if opened:  # an index into a module's tuple (an RNN's, an attention's output)
                module_node = opened[0]
                module, sources, problem = tuples[module_node]
                if _is_item(node, module, value):  # a function's part (x.chunk(2, 1)[0])
                    mapper, reads = found.functions.get(module_node.target), sources
                elif node.target is operator.getitem and node.args[1] == 0 and _is_value(value):
                    obj, path, what = module, str(module_node.target), _qualname(module)
                    mapper, reads = _mapper(module, found.modules), sources
                else:
                    continue  # the other items: only their readers are named
            elif not _is_value(value):
                if node.op == "call_module" and isinstance(value, tuple | list):
                    tuples[node] = (obj, reads, problem)
                elif _tensor_parts(node, value, reads):
                    tuples[node] = (node, reads, problem)
                continue  # a size, a shape read, a constant: part of the nodes that use it
            if problem is not None:
                pass
            elif not reads:
                problem = "it makes a tensor from no input of the model"
            elif _registered(obj, found.openers):
                problem = "a recurrent layer in a branching model is not read yet"
            else:
                problem = None if mapper is not None else _no_mapper(obj, found)
            shapes_in = [_read_shape(env[n], last.get(n, False)) for n in reads]
            piece = Piece(
                path,
                what,
                shapes_in[0] if shapes_in else _read_shape(value, False),
                _read_shape(value, False),
                obj,
                problem=problem,
                sources=tuple(index[n] for n in reads if n in index),
                in_shapes=tuple(shapes_in) if len(shapes_in) > 1 else (),
            )
            value_last = any(last.get(n, False) for n in reads)
            if problem is None:
                assert mapper is not None
                try:
                    piece = mapper(obj, piece)
                    piece, value_last = _settle(piece, node, reads, last, env, run, found)
                except (Refuse, SpecError) as exc:
                    piece.problem = str(exc)
            value_last = value_last and value.dim() == 3 and value.is_floating_point()
            last[node] = value_last
            piece.out_shape = _read_shape(value, value_last)
            index[node] = len(pieces)
            pieces.append(piece)
            at.append(node)
    model, parts = assemble(pieces, input_shape, name=name, source="torch", outputs=outputs)
    imported, builts = read_weights(model, parts, "torch")
    wanted = [at[part.id] for part in parts]

    def collect(x: Any) -> list[Any]:
        """Every part's value, channels-first (a sequence's features moved to axis 1)."""
        start = _steps_last(x) if input_last else x
        values: dict[fx.Node, Any] = {placeholders[0]: start}
        keep: dict[fx.Node, Any] = {}
        targets = set(wanted)
        for node in graph.nodes:
            if node.op in ("placeholder", "output"):
                continue
            values[node] = run(node, values)
            if node in targets:  # copied at once: an in-place op after it would change it
                value = values[node]
                keep[node] = (_channels_first(value) if last[node] else value).clone()
        return [keep[node] for node in wanted]

    return Reading(imported, builts, [], [], collect=collect)


def from_torch(module: nn.Module, input: Any, name: str | None = None) -> Imported:
    """See ``compare.from_torch``."""
    return read_torch(module, input, name).imported
