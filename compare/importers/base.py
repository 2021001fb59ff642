"""Reading real models into specs: the records and the framework-free assembly.

A framework importer (``compare.importers.torch`` / ``.keras``) walks a real model as a
chain of steps, runs a probe through them to read every step's real input and output
shape, and maps each step through the parts the kinds register for its class into a
``Piece``: a spec layer with its weight roles, or a structural piece (explicit
padding, a crop, the channel axis moved last or back, an identity). ``assemble`` then
folds the pieces into spec layers, the same way for both frameworks and knowing no
kind by name:

* padding joins the layer after it, a crop the layer before it, a channel move the
  layer it surrounds, when that layer's kind registers an ``Absorb`` for it
  (``("any", "pad" | "crop" | "move", kind)``); anything else is named as unmappable;
* then every ``Fold`` registered as ``("any", "fold", name)`` rewrites the parts (a
  grouped conv that is a depthwise one, an activation joining the layer before it ...).

The kinds' absorbers and folds are framework-free and live in each family's ``folds``
module (``compare.kinds.<family>.folds``). Nothing here imports torch or keras.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np

from compare.core import registry
from compare.errors import SpecError
from compare.formulas import LayerFormula, Shape, infer
from compare.spec import Input, Layer, Model

_T = TypeVar("_T")

__all__ = [
    "FOLDS",
    "Absorb",
    "Fold",
    "Imported",
    "Mismatch",
    "Part",
    "Piece",
    "Reading",
    "Refuse",
    "UnmappableError",
    "Unmapped",
    "absorbers",
    "add_pads",
    "assemble",
    "fold_pairs",
    "parse_input",
    "parse_input_shape",
    "spec_differences",
]

Pads = tuple[tuple[int, int], ...]

#: The module of every family that holds its framework-free absorbers and folds.
FOLDS = "folds"


@dataclass(frozen=True)
class Unmapped:
    """A part of a real model that has no faithful spec: where, what, and why.

    Example:
        >>> str(Unmapped("features.1", "torch.nn.Hardswish", "no importer for this class"))
        'features.1 (torch.nn.Hardswish): no importer for this class'
    """

    path: str
    cls: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path} ({self.cls}): {self.reason}"


#: Reasons of a part no importer maps; ``UnmappableError`` lists the mapped names once.
NO_CLASS = "no importer maps this class"
NO_FUNCTION = "no importer maps this function or method"
#: source framework -> {reason: the names that importer maps}, registered by each importer.
MAPPED: dict[str, Callable[[], dict[str, list[str]]]] = {}


class UnmappableError(SpecError):
    """A real model holds parts that cannot be read into a spec; ``.items`` names them all.

    Where parts have no importer, the names that are mapped follow once, after the list.

    Example:
        >>> err = UnmappableError("torch", [Unmapped("1", "torch.nn.Hardswish", "no importer")])
        >>> print(err)
        cannot read the torch model into a spec (1 part not mapped):
          1 (torch.nn.Hardswish): no importer
    """

    def __init__(self, source: str, items: Sequence[Unmapped]) -> None:
        self.source = source
        self.items = tuple(items)
        n = len(self.items)
        lines = [f"  {item}" for item in self.items]
        mapped = MAPPED[source]() if source in MAPPED else {}
        for reason, what in ((NO_CLASS, "classes"), (NO_FUNCTION, "functions and methods")):
            if mapped.get(reason) and any(item.reason == reason for item in self.items):
                lines.append(f"  mapped {what}: {', '.join(mapped[reason])}")
        body = "\n".join(lines)
        super().__init__(
            f"cannot read the {source} model into a spec ({n} part{'s' * (n != 1)} "
            f"not mapped):\n{body}"
        )


@dataclass(frozen=True, eq=False)
class Imported:
    """A spec read from a real model, carrying that model's weights.

    ``weights[i]`` maps each weight role of layer ``i`` (``kernel``, ``bias`` ...) to the
    array as the ``source`` framework holds it; ``paths[i]`` and ``classes[i]`` name the
    source modules / layers that layer ``i`` was read from. ``compare.build`` and
    ``compare.compare`` accept it and start from these weights.

    Example:
        >>> from compare.spec import Input, Model, Dense
        >>> m = Model("m", Input(3), (Dense(units=2, use_bias=False),))
        >>> imp = Imported(m, ({"kernel": np.zeros((2, 3))},), "torch", (("fc",),), (("Linear",),))
        >>> imp.describe()
        ['0 dense <- fc (Linear)']
        >>> imp.where(0)
        'fc (Linear)'
    """

    model: Model
    weights: tuple[dict[str, np.ndarray], ...]
    source: str
    paths: tuple[tuple[str, ...], ...] = ()
    classes: tuple[tuple[str, ...], ...] = ()
    #: ``Built`` views of the user's own layers per layer (what ``weights`` was read
    #: from), which a comparison may take as the source side's build (Keras imports;
    #: empty where the source adapter cannot adopt layers).
    views: tuple[Any, ...] = field(default=(), repr=False)

    def __post_init__(self) -> None:
        if self.source not in ("torch", "keras"):
            raise SpecError(f"source={self.source!r} must be 'torch' or 'keras'")
        if len(self.weights) != len(self.model.layers):
            raise SpecError(
                f"weights has {len(self.weights)} entries but the model has "
                f"{len(self.model.layers)} layers"
            )

    def where(self, index: int) -> str:
        """The source modules layer ``index`` came from, joined with ``+``."""
        if not self.paths:
            return f"layer {index}"
        classes = self.classes[index] if self.classes else ("?",) * len(self.paths[index])
        return " + ".join(f"{p} ({c})" for p, c in zip(self.paths[index], classes))

    def describe(self) -> list[str]:
        """One line per layer: index, kind, source paths and classes."""
        return [f"{i} {layer.kind} <- {self.where(i)}" for i, layer in enumerate(self.model.layers)]


@dataclass
class Piece:
    """What one step of a real model contributes, before folding (internal)."""

    path: str
    cls: str
    in_shape: Shape
    out_shape: Shape
    obj: Any = None
    layer: Layer | None = None
    roles: dict[str, Any] = field(default_factory=dict)
    pad: Pads | None = None
    pad_value: float = 0.0  # what the explicit padding pads with (-inf before a max pool)
    crop: Pads | None = None
    move: str | None = None  # "last": channels moved last, "first": moved back
    #: A vector given size-1 spatial axes (Keras' ``Reshape((1, 1, C))``): read as
    #: part of the layer before it that registers ``("any", "expand", kind)``.
    expand: int | None = None
    last_axis: bool = False  # acts on the last axis (nn.Linear), not on channels
    problem: str | None = None
    #: The pieces whose values this one reads, by index in the list given to ``assemble``
    #: (-1: the model input), in order; None: the piece before it (a chain).
    sources: tuple[int, ...] | None = None
    #: Every input's shape, for a piece that reads several (a merge); empty: ``in_shape``.
    in_shapes: tuple[Shape, ...] = ()
    # Set by ``assemble``: the piece's index, the parts it reads, whether it is an output.
    index: int = -1
    feeds: tuple[int, ...] = ()
    is_output: bool = False


class Refuse(Exception):
    """Raised by a mapper: this step has no faithful spec; ``str()`` is the reason."""


@dataclass
class Part:
    """One spec layer assembled from pieces, with its source objects and weight roles."""

    layer: Layer
    roles: dict[str, Any]
    pieces: list[Piece]
    in_shape: Shape
    out_shape: Shape

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(p.path for p in self.pieces)

    @property
    def classes(self) -> tuple[str, ...]:
        return tuple(p.cls.rsplit(".", 1)[-1] for p in self.pieces)

    @property
    def objs(self) -> list[Any]:
        return [p.obj for p in self.pieces]

    @property
    def id(self) -> int:
        """The index of the piece that gives the part's value (its last one)."""
        return self.pieces[-1].index

    @property
    def inputs(self) -> tuple[int, ...]:
        """The ids of the parts it reads (-1: the model input), in order."""
        return self.pieces[0].feeds

    @property
    def in_shapes(self) -> tuple[Shape, ...]:
        """Every input's shape (one for all but the merges)."""
        return self.pieces[0].in_shapes or (self.in_shape,)


@dataclass
class Reading:
    """An import plus what is needed to run the source model layer by layer (internal).

    ``runs`` are the source model's steps in order (each takes and returns one
    tensor in the source layout; the first takes the channels-first input);
    ``ends[i]`` is the step after which layer ``i`` is complete; ``builts[i]`` reaches
    layer ``i``'s weights in the (copied) source model. ``views[i]``, when given, turns
    the value after layer ``i`` into the source framework's usual layout (a PyTorch RNN's
    (N, steps, features) into channels-first).
    """

    imported: Imported
    builts: list[Any]
    runs: list[Callable[[Any], Any]]
    ends: list[int]
    views: list[Callable[[Any], Any] | None] = field(default_factory=list)
    #: For a graph: the input -> the value of every layer, in the source layout
    #: (``runs`` and ``ends`` are then empty).
    collect: Callable[[Any], list[Any]] | None = None

    def values(self, x: Any) -> list[Any]:
        """The value after each layer of the import, run in the source framework."""
        if self.collect is not None:
            return self.collect(x)
        out: list[Any] = [None] * len(self.ends)
        views = self.views or [None] * len(self.ends)
        for step, run in enumerate(self.runs):
            x = run(x)
            for index, end in enumerate(self.ends):
                if end == step:
                    view = views[index]
                    out[index] = view(x) if view is not None else x
        return out


def step_ends(pieces: list[Piece], parts: list[Part]) -> list[int]:
    """Index of the last piece of each part (pieces are one per step, in order)."""
    index = {id(p): k for k, p in enumerate(pieces)}
    return [max(index[id(p)] for p in part.pieces) for part in parts]


def read_both(readers: Sequence[tuple[str, Callable[[], _T]]]) -> dict[str, _T]:
    """Each side's reading, by side: every reader runs, so that the problems of both
    are reported. One side's ``SpecError`` is raised as it is; both sides' are joined
    into one that names each side.

    Example:
        >>> read_both([("torch", lambda: 1), ("keras", lambda: 2)])
        {'torch': 1, 'keras': 2}
    """
    read: dict[str, _T] = {}
    problems: dict[str, SpecError] = {}
    for side, reader in readers:
        try:
            read[side] = reader()
        except SpecError as exc:
            problems[side] = exc
    if len(problems) == 1:
        raise next(iter(problems.values()))
    if problems:
        raise SpecError(
            "neither model can be read:\n"
            + "\n".join(f"{side}: {exc}" for side, exc in problems.items())
        ) from next(iter(problems.values()))
    return read


def parse_input(value: Any) -> tuple[int, ...]:
    """A channels-first input shape without the batch axis: ``"1x28x28"`` or ``(1, 28, 28)``.

    Example:
        >>> parse_input("1x28x28"), parse_input([3, 32])
        ((1, 28, 28), (3, 32))
    """
    if isinstance(value, str):
        parts = [p.strip() for p in value.lower().split("x")]
        if not all(p.isdigit() for p in parts):
            raise SpecError(
                f"input={value!r} must be channels then sizes joined by 'x', like '1x28x28'"
            )
        dims = tuple(int(p) for p in parts)
    elif isinstance(value, Sequence) or hasattr(value, "__iter__"):
        dims = tuple(value)
    else:
        raise SpecError(f"input={value!r} must be a tuple like (1, 28, 28) or a string '1x28x28'")
    if not 1 <= len(dims) <= 4 or any(
        isinstance(d, bool) or not isinstance(d, int | np.integer) or d < 1 for d in dims
    ):
        raise SpecError(
            f"input={value!r} must be 1 to 4 positive integers: channels, then 0-3 sizes"
        )
    return tuple(int(d) for d in dims)


def parse_input_shape(value: Any) -> Shape:
    """The input as a ``Shape``: channels-first dims like ``parse_input``, or integer token
    ids written ``"int:12"`` (12 steps) or given as ``compare.spec.Input(1, (12,), "int")``.

    Example:
        >>> parse_input_shape("int:12")
        Shape(channels=1, size=(12,), flattened_from=None, dtype='int')
        >>> parse_input_shape("16x10").size
        (10,)
    """
    if isinstance(value, Input):
        return Shape(value.channels, value.size, dtype=value.dtype)
    if isinstance(value, str) and value.strip().lower().startswith("int:"):
        text = value.strip()[4:].strip()
        if not text.isdigit() or int(text) < 1:
            raise SpecError(
                f"input={value!r} must be 'int:' and the number of steps, like 'int:12' "
                "(a sequence of integer token ids)"
            )
        return Shape(1, (int(text),), dtype="int")
    dims = parse_input(value)
    return Shape(dims[0], dims[1:])


def add_pads(a: Pads, b: Pads) -> Pads:
    """Two explicit paddings applied one after the other, as one.

    Example:
        >>> add_pads(((1, 0), (0, 2)), ((1, 1), (0, 0)))
        ((2, 1), (0, 2))
    """
    return tuple((p + r, q + s) for (p, q), (r, s) in zip(a, b))


@dataclass(frozen=True)
class Absorb:
    """How a kind takes a neighbouring structural piece into its own layer.

    Registered as ``("any", "pad", kind)`` (explicit padding before the layer: ``fold``
    is ``(layer, pads, pad values, input shape) -> layer``), ``("any", "crop", kind)``
    (a crop after it: ``(layer, crop, input shape) -> layer``) or ``("any", "move", kind)``
    (the channels moved last before it and back after it; ``fold`` is None: the layer is
    unchanged). ``fold`` raises ``Refuse`` with the reason when the spec cannot say it;
    ``what`` names the kinds that absorb in the messages about a piece that nothing
    absorbs ("convolution").

    Example:
        >>> Absorb("doctest layer").what
        'doctest layer'
    """

    what: str
    fold: Callable[..., Layer] | None = None


@dataclass(frozen=True)
class Fold:
    """A rewrite of the assembled parts, registered as ``("any", "fold", name)``.

    ``apply(parts, source)`` returns the new parts (``source`` is the framework the
    model was read from); folds run by ``order``, then name.

    Example:
        >>> Fold(10, lambda parts, source: parts).apply([], "torch")
        []
    """

    order: int
    apply: Callable[[list[Part], str], list[Part]]


def absorbers(what: str) -> dict[str, Absorb]:
    """Kind -> its ``Absorb`` of a structural piece (``"pad"``, ``"crop"``, ``"move"``).

    Example:
        >>> isinstance(absorbers("no_such_piece"), dict)
        True
    """
    registry.load_modules(FOLDS)
    return registry.parts("any", what, families=())


def _names(found: dict[str, Absorb]) -> str:
    """The absorbing kinds as a message names them, in name order: 'convolution or pool'."""
    return " or ".join(sorted({a.what for a in found.values()})) or "no layer"


def _absorber(found: dict[str, Absorb], piece: Piece | None) -> Absorb | None:
    if piece is None or piece.problem is not None or piece.layer is None:
        return None
    return found.get(piece.layer.kind)


def _wire(pieces: list[Piece], outputs: Sequence[int] | None) -> list[list[int]]:
    """Number the pieces, settle their sources (a chain's: the piece before) and the
    outputs (default: the last piece); return each piece's readers."""
    readers: list[list[int]] = [[] for _ in pieces]
    for index, piece in enumerate(pieces):
        piece.index = index
        if piece.sources is None:
            piece.sources = (index - 1,)
        for source in piece.sources:
            if source >= 0:
                readers[source].append(index)
    for index in outputs if outputs is not None else [len(pieces) - 1]:
        if index >= 0:
            pieces[index].is_output = True
    return readers


def _structural(
    pieces: list[Piece], problems: list[Unmapped], readers: list[list[int]]
) -> tuple[list[Part], dict[int, int]]:
    """Pass 1: fold pads, crops and channel moves into the layers they belong to.

    A piece folds into the one after it only where that one reads it alone and nothing
    else reads it (a chain link); along a chain that is simply the next piece."""
    parts: list[Part] = []
    n = len(pieces)
    done: set[int] = set()
    value: dict[int, int] = {-1: -1}  # piece index -> the part id that gives its value
    pad_folds, crop_folds, move_folds = absorbers("pad"), absorbers("crop"), absorbers("move")
    expand_folds = absorbers("expand")

    def link(i: int) -> Piece | None:
        """The piece that alone reads piece ``i``, if it reads nothing else."""
        if i >= n or pieces[i].is_output or len(readers[i]) != 1:
            return None
        nxt = pieces[readers[i][0]]
        return nxt if nxt.sources == (i,) else None

    def refuse(group: list[Piece], reason: str) -> None:
        problems.append(
            Unmapped(" + ".join(p.path for p in group), ", ".join(p.cls for p in group), reason)
        )

    def emit(part: Part) -> None:
        first = part.pieces[0]
        assert first.sources is not None
        first.feeds = tuple(value.get(s, -1) for s in first.sources)
        for piece in part.pieces:
            done.add(piece.index)
        value[part.id] = part.id
        parts.append(part)

    def skip(group: list[Piece]) -> None:
        """Pieces that give no part: their value is their first source's."""
        for piece in group:
            assert piece.sources is not None
            done.add(piece.index)
            value[piece.index] = value.get(piece.sources[0] if piece.sources else -1, -1)

    for i in range(n):
        if i in done:
            continue
        p = pieces[i]
        nxt = link(i)
        if p.problem is not None:
            skip([p])
            continue
        if p.pad is not None:
            pads = [p]  # consecutive explicit paddings add up
            owner = nxt
            while owner is not None and owner.pad is not None and owner.problem is None:
                pads.append(owner)
                owner = link(owner.index)
            total: Pads = p.pad
            for more in pads[1:]:
                assert more.pad is not None
                total = add_pads(total, more.pad)
            absorb = _absorber(pad_folds, owner)
            if owner is None or absorb is None or absorb.fold is None:
                after = pieces[pads[-1].index + 1] if pads[-1].index + 1 < n else None
                what = owner.cls if owner is not None else after.cls if after else "nothing"
                refuse(
                    pads,
                    f"explicit padding is read as part of the {_names(pad_folds)} that "
                    f"follows it, but {what} follows",
                )
                skip(pads)
                continue
            try:
                values = tuple(q.pad_value for q in pads)
                layer = absorb.fold(owner.layer, total, values, p.in_shape)
            except Refuse as exc:
                refuse([*pads, owner], str(exc))
                skip([*pads, owner])
            else:
                emit(Part(layer, owner.roles, [*pads, owner], p.in_shape, owner.out_shape))
            continue
        if p.crop is not None or p.expand is not None:
            what = "a crop" if p.crop is not None else "giving a vector size-1 spatial axes"
            found = crop_folds if p.crop is not None else expand_folds
            refuse(
                [p],
                f"{what} is read as part of the {_names(found)} before it, and none precedes it",
            )
            skip([p])
            continue
        if p.move is not None:
            after = link(nxt.index) if nxt is not None else None
            if (
                p.move == "last"
                and _absorber(move_folds, nxt) is not None
                and after is not None
                and after.move == "first"
            ):
                assert nxt is not None and nxt.layer is not None
                emit(Part(nxt.layer, nxt.roles, [p, nxt, after], p.in_shape, after.out_shape))
                continue
            refuse(
                [p],
                f"moving the channel axis is read only around {_names(move_folds)} "
                "(channels last, the layer, channels first)",
            )
            skip([p])
            continue
        if p.layer is None:  # an identity: computes nothing
            skip([p])
            continue
        if p.last_axis and p.in_shape.rank:
            refuse(
                [p],
                f"it acts on the last axis of a {p.in_shape.torch()[1:]} "
                f"channels-first map, while the spec's {p.layer.kind} acts on the channels",
            )
            skip([p])
            continue
        expand = _absorber(expand_folds, p)
        if expand is not None and expand.fold is not None and nxt is not None and nxt.expand:
            try:
                layer = expand.fold(p.layer, nxt.expand, p.in_shape)
            except Refuse as exc:
                refuse([p, nxt], str(exc))
                skip([p, nxt])
            else:
                emit(Part(layer, p.roles, [p, nxt], p.in_shape, nxt.out_shape))
            continue
        crop = _absorber(crop_folds, p)
        if crop is not None and crop.fold is not None and nxt is not None and nxt.crop is not None:
            try:
                layer = crop.fold(p.layer, nxt.crop, p.in_shape)
            except Refuse as exc:
                refuse([p, nxt], str(exc))
                skip([p, nxt])
            else:
                emit(Part(layer, p.roles, [p, nxt], p.in_shape, nxt.out_shape))
            continue
        emit(Part(p.layer, p.roles, [p], p.in_shape, p.out_shape))
    return parts, value


def fold_pairs(parts: list[Part], join: Callable[[Part, Part], Part | None]) -> list[Part]:
    """Offer ``join`` each part with the part it reads, where it reads that one alone and
    nothing else reads it (a link of a chain: in a graph, no branch starts or ends
    between them); a part ``join`` returns replaces the two.

    Example:
        >>> fold_pairs([], lambda prev, one: None)
        []
    """
    readers: dict[int, int] = {}
    for one in parts:
        for source in one.inputs:
            readers[source] = readers.get(source, 0) + 1
    out: list[Part] = []
    at: dict[int, int] = {}  # part id -> its index in out
    for one in parts:
        k = at.get(one.inputs[0]) if len(one.inputs) == 1 else None
        prev = out[k] if k is not None else None
        if (
            k is not None
            and prev is not None
            and readers.get(prev.id, 0) == 1
            and not prev.pieces[-1].is_output
        ):
            merged = join(prev, one)
            if merged is not None:
                out[k] = merged
                del at[prev.id]
                at[merged.id] = k
                continue
        at[one.id] = len(out)
        out.append(one)
    return out


def _folds() -> list[Fold]:
    """Every registered fold, in the order they run."""
    registry.load_modules(FOLDS)
    found: dict[str, Fold] = registry.parts("any", "fold", families=())
    return [fold for _, fold in sorted(found.items(), key=lambda kv: (kv[1].order, kv[0]))]


def read_weights(model: Model, parts: list[Part], source: str) -> tuple[Imported, list[Any]]:
    """The ``Imported`` spec with every part's weights, read through the ``source``
    framework's own adapter, and the ``Built`` views of the user's layers it read from.

    Example:
        >>> import torch.nn as nn
        >>> from compare.spec import Flatten
        >>> p = Piece("f", "torch.nn.Flatten", Shape(2, (3,)), Shape(6), nn.Flatten(),
        ...           layer=Flatten())
        >>> model, parts = assemble([p], Shape(2, (3,)), name="m", source="torch")
        >>> imported, builts = read_weights(model, parts, "torch")
        >>> imported.weights, imported.paths
        (({},), (('f',),))
    """
    from compare.adapters import get_adapter
    from compare.adapters.base import Built

    adapter = get_adapter(source)
    builts = [Built(source, part.objs, part.classes, part.roles) for part in parts]
    imported = Imported(
        model,
        tuple(adapter.get_weights(b) for b in builts),
        source,
        tuple(part.paths for part in parts),
        tuple(part.classes for part in parts),
        # kept only where a comparison can take them (holding a torch import's copied
        # modules would keep a second copy of its weights alive)
        tuple(builts) if hasattr(adapter, "adopt") else (),
    )
    return imported, builts


def assemble(
    pieces: list[Piece],
    input_shape: Shape,
    *,
    name: str,
    source: str,
    outputs: Sequence[int] | None = None,
) -> tuple[Model, list[Part]]:
    """Fold ``pieces`` into a validated ``Model``; raise ``UnmappableError`` naming every
    piece that has no faithful spec (a step's own problem, a fold that cannot be
    expressed, a layer whose spec output differs from the real one). The structural
    pieces join the layers that ``absorbers`` name; then every registered ``Fold`` runs.

    Pieces read the piece before them unless they name their ``sources`` (a graph);
    ``outputs`` are the pieces the model returns (default: the last). A graph that is
    not a chain gives a ``Model`` with ``wiring``: one node per part, named after the
    source module or layer it was read from.

    Example:
        >>> from compare.spec import Flatten
        >>> p = Piece("flat", "torch.nn.Flatten", Shape(2, (3,)), Shape(6), layer=Flatten())
        >>> model, parts = assemble([p], Shape(2, (3,)), name="m", source="torch")
        >>> [layer.kind for layer in model.layers]
        ['flatten']
    """
    problems = [Unmapped(p.path, p.cls, p.problem) for p in pieces if p.problem is not None]
    readers = _wire(pieces, outputs)
    parts, value = _structural(pieces, problems, readers)
    by_id = {part.id: part for part in parts}
    for piece in pieces:  # an output that computes nothing: the part before it is one
        if piece.is_output and value.get(piece.index, -1) in by_id:
            by_id[value[piece.index]].pieces[-1].is_output = True
    for fold in _folds():
        parts = fold.apply(parts, source)
    checked: list[Part] = []
    for part in parts:
        where = " + ".join(part.paths)
        classes = ", ".join(p.cls for p in part.pieces)
        try:
            resolved = part.layer.resolved(part.in_shape.rank)
            formula = resolved.formula(part.in_shapes)
        except SpecError as exc:
            problems.append(Unmapped(where, classes, f"read as {part.layer!r}, which {exc}"))
            continue
        want = (part.out_shape.channels, part.out_shape.size)
        got = (formula.output.channels, formula.output.size)
        if want != got:
            problems.append(
                Unmapped(
                    where,
                    classes,
                    f"read as {part.layer!r}, whose output would be {formula.output.torch()} "
                    f"(channels first), but the real one is {part.out_shape.torch()}",
                )
            )
            continue
        checked.append(part)
    if problems:
        order = {p.path: k for k, p in enumerate(pieces)}
        problems.sort(key=lambda u: order.get(u.path.split(" + ")[0], len(order)))
        raise UnmappableError(source, problems)
    if not checked:
        raise UnmappableError(source, [Unmapped(name, "model", "it holds no layer to read")])
    wiring, returns = _wiring(checked, pieces)
    model = Model(
        name,
        Input(input_shape.channels, input_shape.size, input_shape.dtype),
        tuple(p.layer for p in checked),
        wiring,
        returns,
    )
    if wiring:  # the model keeps its layers in topological order: so do the parts
        place = {node: k for k, (node, _) in enumerate(model.wiring)}
        names = dict(zip((id(p) for p in checked), (w for w, _ in wiring)))
        checked.sort(key=lambda p: place[names[id(p)]])
    return model, checked


def _node_name(part: Part) -> str:
    """A part's node: the path of the piece that holds its layer (not a padding)."""
    main = next((p for p in part.pieces if p.layer is not None), part.pieces[-1])
    return main.path


def _wiring(
    parts: list[Part], pieces: list[Piece]
) -> tuple[tuple[tuple[str, tuple[str, ...]], ...], tuple[str, ...]]:
    """The model's wiring and outputs; both empty where the parts form a chain."""
    ids = [part.id for part in parts]
    returns = [part.id for part in parts if part.pieces[-1].is_output]
    chain = returns == ids[-1:] and all(
        part.inputs == ((ids[k - 1],) if k else (-1,)) for k, part in enumerate(parts)
    )
    if chain:
        return (), ()
    names: dict[int, str] = {-1: "input"}
    used = {"input"}
    for part in parts:
        base = _node_name(part) or "node"
        label, k = base, 1
        while label in used:
            k += 1
            label = f"{base}_{k}"
        used.add(label)
        names[part.id] = label
    wiring = tuple((names[p.id], tuple(names.get(i, "input") for i in p.inputs)) for p in parts)
    return wiring, tuple(names[i] for i in returns)


@dataclass(frozen=True)
class Mismatch:
    """The first place two specs differ: layer index (None: the model), field, both values.

    Example:
        >>> str(Mismatch(1, "conv", "kernel_size", (3, 3), (5, 5)))
        'layer 1 (conv): kernel_size: torch (3, 3), keras (5, 5)'
    """

    index: int | None
    kind: str
    field: str
    torch: Any
    keras: Any

    def __str__(self) -> str:
        where = "model" if self.index is None else f"layer {self.index} ({self.kind})"
        return f"{where}: {self.field}: torch {self.torch!r}, keras {self.keras!r}"


def _effective(layer: Layer, formula: LayerFormula) -> dict[str, Any]:
    """Fields that define the function, with padding as the pads it really applies."""
    skip = ("padding", "output_padding", "rank")
    out = {f.name: getattr(layer, f.name) for f in dataclasses.fields(layer) if f.name not in skip}
    if formula.pads is not None:
        out["padding"] = formula.pads
    if formula.extend is not None:
        out["output_padding"] = formula.extend
    settled = getattr(layer, "settled_fields", None)  # defaults the input decides
    if settled is not None:
        out.update(settled(formula))
    return out


def spec_differences(torch_model: Model, keras_model: Model) -> list[Mismatch]:
    """Every field where two specs describe different networks (padding compared as
    the explicit pads applied, so ``padding=1`` and ``'same'`` agree for a 3x3 stride-1
    convolution).

    Example:
        >>> from compare.spec import Conv
        >>> a = Model("a", Input(1, (8, 8)), (Conv(filters=2, kernel_size=3, padding=1),))
        >>> b = Model("b", Input(1, (8, 8)), (Conv(filters=2, kernel_size=3, padding="same"),))
        >>> spec_differences(a, b)
        []
    """
    out: list[Mismatch] = []
    for name in ("channels", "size"):
        a, b = getattr(torch_model.input, name), getattr(keras_model.input, name)
        if a != b:
            out.append(Mismatch(None, "input", f"input.{name}", a, b))
    if out:
        return out
    fa, fb = infer(torch_model), infer(keras_model)
    for index, (la, lb) in enumerate(zip(torch_model.layers, keras_model.layers)):
        if la.kind != lb.kind:
            out.append(Mismatch(index, la.kind, "kind", la.kind, lb.kind))
            break  # the layers after a different kind cannot be paired
        ea, eb = _effective(la, fa[index]), _effective(lb, fb[index])
        for key in dict.fromkeys([*ea, *eb]):
            if ea.get(key) != eb.get(key):
                out.append(Mismatch(index, la.kind, key, ea.get(key), eb.get(key)))
    else:
        if len(torch_model.layers) != len(keras_model.layers):
            out.append(
                Mismatch(
                    None,
                    "model",
                    "number of layers",
                    len(torch_model.layers),
                    len(keras_model.layers),
                )
            )
    return out
