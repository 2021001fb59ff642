"""Layout-neutral, validated, frozen layer and model specs: the engine half.

A spec says *what* a layer computes, never how a framework lays it out. ``Layer`` is
the base every kind derives from (each kind lives in its own family package under
``compare/kinds/`` and registers itself); ``Input`` and ``Model`` hold a model. Values
are checked and normalised once, at construction: ``Conv(filters=8, kernel_size=3)``
holds ``kernel_size=3`` until it is placed in a ``Model``, which resolves every layer
against the input's rank (``kernel_size=(3, 3)`` on a 2-d input) and propagates shapes
so that cross-layer rules (groups divide the channels, kernels fit the padded input)
are checked before any framework is touched.

This module names no kind: ``layer_from_dict`` looks kinds up in the registry, and
the kind classes (``compare.spec.Conv`` ...) are found there on first use.

Conventions fixed once, by the kinds that use them: ``padding`` is ``"valid"``,
``"same"`` (TensorFlow's meaning: output size ``ceil(n / stride)``, any odd pixel of
padding at the end) or explicit symmetric padding, an int or one int per spatial axis
(PyTorch's meaning).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from compare.core import registry
from compare.core.graph import Graph, Node
from compare.core.layouts import (
    WeightLayout,
    flattened_features,
    flattened_sizes,
    port_weight,
)
from compare.core.shapes import LayerFormula, Shape, ceil_div, prod
from compare.core.validate import (
    IntOrInts,
    Padding,
    broadcast,
    check_int,
    fmt,
)
from compare.core.work import Work, elements
from compare.errors import SpecError, quote
from compare.limits import check_tree

__all__ = [
    "ALIASES",
    "FIELD_ORDER",
    "Input",
    "IntOrInts",
    "Layer",
    "Model",
    "Padding",
    "ceil_div",
    "layer_from_dict",
    "model_from_dict",
    "prod",
]

# PyTorch spellings accepted on input; reports always use the canonical names.
ALIASES: dict[str, str] = {
    "out_channels": "filters",
    "stride": "strides",
    "bias": "use_bias",
    "out_features": "units",
    "dilation_rate": "dilation",
    # sequence families
    "hidden_size": "units",
    "num_embeddings": "input_dim",
    "embedding_dim": "output_dim",
    "nonlinearity": "activation",
    "eps": "epsilon",
    "num_groups": "groups",
}


#: The order fields are reported in (others follow in definition order).
FIELD_ORDER = (
    "filters",
    "units",
    "kernel_size",
    "strides",
    "padding",
    "output_padding",
    "dilation",
    "groups",
    "depth_multiplier",
    "return_sequences",
    "use_bias",
)


INPUT_DTYPES = ("float", "int")
#: The name of the model input's value in its graph.
INPUT = "input"


@dataclass(frozen=True)
class Layer:
    """Base of all layer specs; ``kind`` names the family in files and reports.

    Example:
        >>> from compare.spec import Dense
        >>> Dense(units=10).kind
        'dense'
    """

    kind: ClassVar[str] = ""
    #: Other names of the kind that fix the rank (``{"conv2d": 2}``).
    spellings: ClassVar[dict[str, int]] = {}
    #: Field spellings this kind alone accepts (a pool's ``kernel_size`` is ``pool_size``),
    #: on top of the PyTorch spellings every kind accepts (``ALIASES``).
    field_aliases: ClassVar[dict[str, str]] = {}
    #: Names of the integer-tuple fields that are broadcast to the input's rank.
    spatial_fields: ClassVar[tuple[str, ...]] = ()
    #: Smallest input rank the family accepts (0: a feature vector).
    min_rank: ClassVar[int] = 0
    #: Whether the family's ``activation`` field is applied after the layer (conv and
    #: dense families: Keras carries it, PyTorch appends a module). A recurrent
    #: layer's ``activation`` is internal to the cell, and the ``activation`` kind *is* one.
    post_activation: ClassVar[bool] = False
    #: The input dtype the family accepts: "float" activations or "int" token ids.
    input_dtype: ClassVar[str] = "float"
    #: Whether both frameworks hold the same weight roles, each ported by its
    #: ``layout``; a kind whose roles differ by side (two biases) overrides ``port``.
    ported_by_role: ClassVar[bool] = True
    #: Whether the kind computes the identity at inference (dropout): a pair of models
    #: that differ only by such a layer on one side compute the same function.
    inference_identity: ClassVar[bool] = False
    #: Whether the kind reads several inputs and gives the same value in any order of
    #: them (an add): two graphs that list such inputs in another order are one graph.
    commutative: ClassVar[bool] = False
    #: Whether both frameworks' FLOP counters count the kind the same on a model built
    #: without weight memory (shape-only) as on a real one. Not so where a framework
    #: runs a fused kernel on real data whose work its counter misses, while the
    #: data-free run decomposes it (recurrent layers, attention): those are not counted
    #: in shape-only mode.
    counted_shape_only: ClassVar[bool] = True

    def resolved(self, rank: int) -> Layer:
        """This spec with every per-axis field as a tuple of ``rank`` ints.

        Example:
            >>> from compare.spec import Conv
            >>> Conv(filters=8, kernel_size=3).resolved(2).kernel_size
            (3, 3)
        """
        want = getattr(self, "rank", None)
        if want is not None and want != rank:
            raise SpecError(
                f"kind='{self.kind}{want}d' needs a {want}-d input, but the input is {rank}-d"
            )
        if rank < self.min_rank:
            raise SpecError(
                f"kind='{self.kind}' needs an input with at least {self.min_rank} "
                f"spatial axes (channels plus size), but the input has {rank}"
            )
        changes: dict[str, Any] = {
            name: broadcast(name, getattr(self, name), rank) for name in self.spatial_fields
        }
        padding = getattr(self, "padding", None)
        if padding is not None and not isinstance(padding, str):
            changes["padding"] = broadcast("padding", padding, rank)
        if hasattr(self, "rank"):
            changes["rank"] = rank
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Canonical field names and values, JSON-ready (tuples become lists).

        Example:
            >>> from compare.spec import Dense
            >>> Dense(units=10).to_dict()
            {'kind': 'dense', 'units': 10, 'use_bias': True}
        """
        out: dict[str, Any] = {"kind": self.kind}
        names = [f.name for f in dataclasses.fields(self) if f.name != "rank"]
        if self.post_activation and getattr(self, "activation", "linear") == "linear":
            names = [name for name in names if name != "activation"]
        first = [name for name in FIELD_ORDER if name in names]
        for name in first + [name for name in names if name not in first]:
            value = getattr(self, name)
            out[name] = list(value) if isinstance(value, tuple) else value
        return out

    def per_axis(self, name: str) -> tuple[int, ...]:
        """A per-axis field of a resolved spec, one int per spatial axis (a ``Model``
        resolves its layers against the input's rank); SpecError before that.

        Example:
            >>> from compare.spec import Conv
            >>> Conv(filters=2, kernel_size=3).resolved(2).per_axis("kernel_size")
            (3, 3)
            >>> Conv(filters=2, kernel_size=3).per_axis("kernel_size")
            Traceback (most recent call last):
            ...
            compare.errors.SpecError: kind='conv': kernel_size=3 is not resolved ...
        """
        value = getattr(self, name)
        if not isinstance(value, tuple):
            raise SpecError(
                f"kind='{self.kind}': {name}={fmt(value)} is not resolved to one value per "
                "spatial axis yet (place the layer in a Model)"
            )
        return value

    # -- what a kind defines (framework-free); the engines call only these ------------
    def formula(self, inputs: tuple[Shape, ...]) -> LayerFormula:
        """The formula of this resolved layer on its input shapes (raises SpecError).

        Checks the number of inputs and their dtype, then calls the kind's ``rule``.

        Example:
            >>> from compare.spec import Dense
            >>> Dense(units=10).resolved(0).formula((Shape(8),)).params
            90
        """
        if len(inputs) != 1:
            raise SpecError(f"kind='{self.kind}' takes one input, got {len(inputs)}")
        shape = inputs[0]
        if shape.dtype != self.input_dtype:
            if shape.dtype == "int":
                raise SpecError(
                    f"kind='{self.kind}' needs float activations, but its input is a "
                    "sequence of integer token ids; put an embedding first"
                )
            raise SpecError(
                f"kind='{self.kind}' needs integer token ids (an input with dtype='int'), "
                f"but its input is float activations of shape {shape.torch()[1:]}"
            )
        return self.rule(shape)

    def rule(self, shape: Shape) -> LayerFormula:
        """The kind's shape and parameter rule on one input (each kind defines it).

        Example:
            >>> from compare.spec import Flatten
            >>> Flatten().rule(Shape(2, (3, 4))).output.channels
            24
        """
        raise NotImplementedError(f"kind {self.kind!r} defines no formula rule")

    def work(self, formula: LayerFormula) -> Work | None:
        """The kind's MACs at batch 1, with its bias adds and element-wise work listed
        apart (``compare.core.work``); None where the kind states no formula.

        Example:
            >>> from compare.spec import Flatten
            >>> Flatten().work(Flatten().rule(Shape(2, (3, 4)))).macs
            0
        """
        return None

    def forward_work(self, formula: LayerFormula) -> Work | None:
        """``work``, plus the activation a conv or dense layer's own ``activation``
        field applies to its output (one evaluation per output element).

        Example:
            >>> from compare.spec import Dense
            >>> d = Dense(units=4, activation="relu").resolved(0)
            >>> d.forward_work(d.rule(Shape(3))).activations
            4
        """
        done = self.work(formula)
        if done is None or not self.post_activation:
            return done
        if getattr(self, "activation", "linear") == "linear":
            return done
        return done.plus(activations=elements(formula.output))

    def layout(self, formula: LayerFormula, role: str) -> tuple[WeightLayout, dict[str, int]]:
        """How weight ``role`` is laid out in each framework, and the length of every
        axis label (``KeyError`` for a role the kind does not have).

        Example:
            >>> from compare.spec import Dense
            >>> d = Dense(units=2).resolved(0)
            >>> d.layout(d.formula((Shape(3),)), "kernel")[0].keras
            ('I', 'O')
        """
        raise KeyError(f"no layout for role {role!r} of kind {self.kind!r}")

    def laid_out(self, formula: LayerFormula, role: str) -> tuple[WeightLayout, dict[str, int]]:
        """``layout``, with the input-feature axis split where the input is a vector a
        Flatten made from a map (C,*S in PyTorch, *S,C in Keras): a property of the
        layout, whatever the kind (a dense kernel's rows, a norm's gamma ...).

        Example:
            >>> from compare.spec import BatchNorm
            >>> bn = BatchNorm().resolved(0)
            >>> bn.laid_out(bn.formula((Shape(12, (), (3, (2, 2))),)), "gamma")[0].keras
            ('H', 'W', 'C')
        """
        layout, sizes = self.layout(formula, role)
        flat = formula.input.flattened_from
        if flat is None:
            return layout, sizes
        return flattened_features(layout, len(flat[1])), flattened_sizes(sizes, flat)

    def weight_axes(
        self, formula: LayerFormula, role: str, framework: str, ndim: int
    ) -> tuple[str, ...]:
        """Axis labels of ``role`` as ``framework`` holds it; () if the array has other axes.

        Example:
            >>> from compare.spec import Dense
            >>> d = Dense(units=2).resolved(0)
            >>> d.weight_axes(d.formula((Shape(3),)), "kernel", "torch", 2)
            ('O', 'I')
        """
        layout = self.laid_out(formula, role)[0]
        shown = layout.torch_shown if framework == "torch" else layout.keras_shown
        return shown if len(shown) == ndim else ()

    def port(
        self,
        formula: LayerFormula,
        weights: Mapping[str, np.ndarray],
        dst_shapes: Mapping[str, tuple[int, ...]],
        *,
        to: str,
    ) -> dict[str, np.ndarray]:
        """This layer's role arrays moved into framework ``to``'s layout (role by role
        through ``layout``; a kind whose roles differ between frameworks overrides it).

        Example:
            >>> from compare.spec import Dense
            >>> d = Dense(units=1, use_bias=False).resolved(0)
            >>> w = {"kernel": np.arange(3.0).reshape(1, 3)}
            >>> d.port(d.formula((Shape(3),)), w, {"kernel": (3, 1)}, to="keras")["kernel"].ravel()
            array([0., 1., 2.])
        """
        out = {}
        for role, array in weights.items():
            layout, sizes = self.laid_out(formula, role)
            out[role] = port_weight(array, layout, sizes, dst_shapes[role], to=to)
        return out

    def input_high(self) -> int:
        """For a kind taking integer ids: the exclusive upper bound of valid ids.

        Example:
            >>> from compare.spec import Embedding
            >>> Embedding(input_dim=50, output_dim=4).input_high()
            50
        """
        raise NotImplementedError(f"kind {self.kind!r} takes no integer input")


@dataclass(frozen=True)
class Input:
    """The model input: ``channels`` and a spatial ``size`` of 0-3 axes (layout-neutral).

    ``dtype="float"`` (the default) is an activation whose precision the run chooses
    (float32 or float64). ``dtype="int"`` is a sequence of integer token ids: ``size``
    is ``[steps]`` and ``channels`` must be 1 (one id per step; files may omit it).
    Both frameworks hold it as (N, steps), with no channel axis, and only an
    ``embedding`` layer accepts it.

    Example:
        >>> Input(channels=1, size=(28, 28)).rank
        2
        >>> Input(channels=1, size=(12,), dtype="int").to_dict()
        {'channels': 1, 'size': [12], 'dtype': 'int'}
    """

    channels: int
    size: tuple[int, ...] = ()
    dtype: str = "float"

    def __post_init__(self) -> None:
        if self.dtype not in INPUT_DTYPES:
            raise SpecError(
                f"input.dtype={fmt(self.dtype)} must be one of {', '.join(map(repr, INPUT_DTYPES))}"
            )
        check_int("input.channels", self.channels, 1)
        if not isinstance(self.size, list | tuple):
            raise SpecError(
                f"input.size={fmt(self.size)} must be a list of 0 to 3 positive integers"
            )
        size = tuple(self.size)
        if len(size) > 3:
            raise SpecError(f"input.size={fmt(size)} must have at most 3 axes")
        for n in size:
            if isinstance(n, bool) or not isinstance(n, int) or n < 1:
                raise SpecError(f"input.size={fmt(size)} must hold positive integers")
        object.__setattr__(self, "size", size)
        if self.dtype == "int" and (self.channels != 1 or len(size) != 1):
            raise SpecError(
                f"input.dtype='int' is a sequence of token ids: it needs channels=1 and "
                f"size=[steps], got channels={self.channels}, size={fmt(size)}"
            )

    @property
    def rank(self) -> int:
        """Number of spatial axes."""
        return len(self.size)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form.

        Example:
            >>> Input(channels=3, size=(8,)).to_dict()
            {'channels': 3, 'size': [8]}
        """
        out: dict[str, Any] = {"channels": self.channels, "size": list(self.size)}
        if self.dtype != "float":
            out["dtype"] = self.dtype
        return out


@dataclass(frozen=True)
class Model:
    """A named input plus a stack of layers, resolved and shape-checked at construction.

    Example:
        >>> from compare.spec import Conv
        >>> m = Model("seed", Input(1, (28, 28)), (Conv(filters=40, kernel_size=3),))
        >>> m.layers[0].kernel_size
        (3, 3)
    """

    name: str
    input: Input
    layers: tuple[Layer, ...]
    #: (node name, names of the values it reads) per layer; empty: a chain, node ``i``
    #: named ``"i"`` reading node ``i - 1`` (the first reads ``"input"``).
    wiring: tuple[tuple[str, tuple[str, ...]], ...] = ()
    #: The values the model returns; empty: the last node.
    outputs: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise SpecError(f"model name={quote(self.name)} must be a non-empty string")
        if not isinstance(self.input, Input):
            raise SpecError(f"model '{self.name}': input must be an Input, got {quote(self.input)}")
        layers = tuple(self.layers)
        if not layers:
            raise SpecError(f"model '{self.name}': layers must hold at least one layer")
        resolved = []
        for index, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise SpecError(
                    f"model '{self.name}', layer {index}: {quote(layer)} is not a layer spec"
                )
            try:
                resolved.append(layer.resolved(self.input.rank))
            except SpecError as exc:
                raise SpecError(
                    f"model '{self.name}', layer {index} ({layer.kind}): {exc}"
                ) from exc
        graph = self._graph_of(tuple(resolved))
        # Layers are kept in the graph's topological order, so layer i is node i.
        object.__setattr__(self, "layers", tuple(node.layer for node in graph.nodes))
        if self.wiring:
            object.__setattr__(
                self, "wiring", tuple((node.name, node.inputs) for node in graph.nodes)
            )
            object.__setattr__(self, "outputs", graph.outputs)
        # Shape propagation along the graph checks every cross-layer rule and names the
        # layer. The graph and the formulas are kept beside the fields (frozen dataclass).
        formulas: list[LayerFormula] = []
        position = {node.name: index for index, node in enumerate(graph.nodes)}

        def infer(node: Node, shapes: list[Shape]) -> Shape:
            try:
                formula = node.layer.formula(tuple(shapes))
            except SpecError as exc:
                raise SpecError(
                    f"model '{self.name}', {self.where(position[node.name])}: {exc}"
                ) from exc
            formulas.append(formula)
            return formula.output

        shape = Shape(self.input.channels, self.input.size, dtype=self.input.dtype)
        graph.walk(infer, {graph.inputs[0]: shape})
        object.__setattr__(self, "_graph", graph)
        object.__setattr__(self, "_formulas", tuple(formulas))

    def _graph_of(self, layers: tuple[Layer, ...]) -> Graph:
        if not self.wiring:
            if self.outputs:
                raise SpecError(f"model '{self.name}': outputs need named nodes (a graph)")
            return Graph.chain(layers, INPUT)
        if len(self.wiring) != len(layers):
            raise SpecError(
                f"model '{self.name}': wiring names {len(self.wiring)} nodes for "
                f"{len(layers)} layers"
            )
        nodes = [
            Node(name, layer, tuple(inputs))
            for (name, inputs), layer in zip(self.wiring, layers, strict=True)
        ]
        outputs = self.outputs or (nodes[-1].name,)
        try:
            return Graph.ordered((INPUT,), nodes, outputs)
        except SpecError as exc:
            raise SpecError(f"model '{self.name}': {exc}") from exc

    def where(self, index: int) -> str:
        """How messages name layer ``index``: its position, its node name in a graph,
        and its kind.

        Example:
            >>> from compare.catalog import seed_model
            >>> seed_model().where(1)
            'layer 1 (conv)'
        """
        layer = self.layers[index]
        if self.wiring:
            return f"layer {index} '{self.wiring[index][0]}' ({layer.kind})"
        return f"layer {index} ({layer.kind})"

    @property
    def graph(self) -> Graph:
        """The model as a graph of named nodes (a chain: node ``i`` reads node ``i - 1``).

        Example:
            >>> from compare.catalog import seed_model
            >>> [(n.name, n.inputs) for n in seed_model().graph.nodes][:2]
            [('0', ('input',)), ('1', ('0',))]
        """
        return self.__dict__["_graph"]

    @property
    def formulas(self) -> tuple[LayerFormula, ...]:
        """One ``LayerFormula`` per layer, inferred when the model was made.

        Example:
            >>> from compare.catalog import seed_model
            >>> [f.params for f in seed_model().formulas]
            [400, 2888, 0, 46090]
        """
        return self.__dict__["_formulas"]


def _layer_kwargs(index: int, raw: Mapping[str, Any]) -> tuple[type[Layer], dict[str, Any]]:
    if not isinstance(raw, Mapping):
        raise SpecError(f"layer {index}: must be a table/object with a 'kind', got {quote(raw)}")
    if "kind" not in raw:
        raise SpecError(f"layer {index}: field 'kind' is missing")
    kind = raw["kind"]
    if not isinstance(kind, str):
        raise SpecError(f"layer {index}: kind={quote(kind)} must be a string")
    kind_key = kind.strip().lower()
    rank = None
    ranked = registry.spelling(kind_key)
    if ranked is not None:
        kind_key, rank = ranked
    known_kinds = registry.kinds()
    cls = known_kinds.get(kind_key)
    if cls is None:
        known = ", ".join(sorted(known_kinds))
        raise SpecError(f"layer {index}: unknown kind={quote(kind)}; known kinds: {known}")
    names = {f.name for f in dataclasses.fields(cls)} - {"rank"}
    kwargs: dict[str, Any] = {}
    for key, value in raw.items():
        if key == "kind":
            continue
        canonical = cls.field_aliases.get(key) or ALIASES.get(key, key)
        if canonical not in names:
            known = ", ".join(sorted(names))
            raise SpecError(
                f"layer {index} ({kind_key}): unknown field {quote(key)}; "
                f"fields of {kind_key}: {known}"
            )
        if canonical in kwargs:
            raise SpecError(
                f"layer {index} ({kind_key}): field {canonical!r} given twice "
                f"(as {canonical!r} and an alias)"
            )
        kwargs[canonical] = tuple(value) if isinstance(value, list) else value
    if rank is not None:
        kwargs["rank"] = rank
    return cls, kwargs


def _node_fields(
    index: int, raw: Any, previous: str
) -> tuple[tuple[str, tuple[str, ...]], Mapping[str, Any]]:
    """A layer table's graph fields, ``name`` (default: its index) and ``inputs``
    (default: the previous node), and the table without them."""
    if not isinstance(raw, Mapping) or ("name" not in raw and "inputs" not in raw):
        return (str(index), (previous,)), raw
    rest = {k: v for k, v in raw.items() if k not in ("name", "inputs")}
    name = raw.get("name", str(index))
    if not isinstance(name, str) or not name.strip() or name == INPUT:
        raise SpecError(
            f"layer {index}: name={quote(name)} must be a non-empty string other than {INPUT!r}"
        )
    inputs = raw.get("inputs", [previous])
    if isinstance(inputs, str):
        inputs = [inputs]
    if (
        not isinstance(inputs, list | tuple)
        or not inputs
        or not all(isinstance(i, str) for i in inputs)
    ):
        raise SpecError(
            f"layer {index} ({name}): inputs={quote(inputs)} must be a node name or a non-empty "
            f"list of them ({INPUT!r} is the model input)"
        )
    return (name, tuple(inputs)), rest


def layer_from_dict(raw: Mapping[str, Any], index: int = 0) -> Layer:
    """Build one layer spec from a mapping with a ``kind`` and fields (aliases allowed).

    Example:
        >>> layer_from_dict({"kind": "conv2d", "out_channels": 8, "kernel_size": 3}).filters
        8
    """
    cls, kwargs = _layer_kwargs(index, raw)
    try:
        return cls(**kwargs)
    except TypeError as exc:  # a required field is missing
        raise SpecError(f"layer {index} ({cls.kind}): {exc}") from exc
    except SpecError as exc:
        raise SpecError(f"layer {index} ({cls.kind}): {exc}") from exc


def model_from_dict(raw: Mapping[str, Any], default_name: str = "model") -> Model:
    """Build and validate a model from a mapping: ``name``, ``input``, ``layers``.

    Example:
        >>> m = model_from_dict({"name": "tiny", "input": {"channels": 3, "size": [8]},
        ...                      "layers": [{"kind": "conv", "filters": 2, "kernel_size": 3}]})
        >>> m.layers[0].kernel_size
        (3,)
    """
    if not isinstance(raw, Mapping):
        raise SpecError(f"a model must be a table/object, got {type(raw).__name__}")
    name = raw.get("name", default_name)
    where = f"model {quote(name)}" if isinstance(name, str) else f"model {default_name!r}"
    try:
        check_tree(raw)  # depth, size, int64, string keys: before any value is quoted
    except SpecError as exc:
        raise SpecError(f"{where}: {exc}") from None
    unknown = set(raw) - {"name", "input", "layers", "outputs", "description"}
    if unknown:
        raise SpecError(
            f"{where}: unknown field(s) {', '.join(sorted(map(str, unknown)))}; "
            "a model has name, input, layers (and optional outputs and description)"
        )
    inp = raw.get("input")
    if not isinstance(inp, Mapping):
        raise SpecError(
            f"{where}: input={quote(inp)} must be a table like {{channels = 1, size = [28, 28]}}"
        )
    extra = set(inp) - {"channels", "size", "dtype"}
    if extra:
        raise SpecError(f"{where}: unknown input field(s) {', '.join(sorted(extra))}")
    dtype = inp.get("dtype", "float")
    if "channels" not in inp and dtype != "int":
        raise SpecError(f"{where}: input.channels is missing")
    try:
        input_spec = Input(channels=inp.get("channels", 1), size=inp.get("size", ()), dtype=dtype)
    except SpecError as exc:
        raise SpecError(f"{where}: {exc}") from exc
    layers_raw = raw.get("layers")
    if not isinstance(layers_raw, Sequence) or isinstance(layers_raw, str):
        raise SpecError(f"{where}: layers must be a list of layer tables")
    layers = []
    wiring: list[tuple[str, tuple[str, ...]]] = []
    previous = INPUT
    for index, item in enumerate(layers_raw):
        try:
            node, item = _node_fields(index, item, previous)
            layers.append(layer_from_dict(item, index))
        except SpecError as exc:
            raise SpecError(f"{where}, {exc}") from exc
        wiring.append(node)
        previous = node[0]
    outputs = raw.get("outputs", ())
    if not isinstance(outputs, list | tuple) or not all(isinstance(o, str) for o in outputs):
        raise SpecError(f"{where}: outputs={quote(outputs)} must be a list of node names")
    if (
        any(
            name != str(i) or inputs != ((INPUT,) if i == 0 else (str(i - 1),))
            for i, (name, inputs) in enumerate(wiring)
        )
        or outputs
    ):
        return Model(str(name), input_spec, tuple(layers), tuple(wiring), tuple(outputs))
    return Model(name=str(name), input=input_spec, layers=tuple(layers))


def __getattr__(name: str) -> Any:
    """A kind's spec class by its class name (``compare.spec.Conv``), or ``KINDS`` (kind
    name -> spec class), from the registry."""
    if name == "KINDS":
        return registry.kinds()
    for kind_cls in registry.kinds().values():
        for cls in kind_cls.__mro__:  # the kind, or a base it shares with others (_Pool)
            if cls.__name__ == name:
                return cls
    raise AttributeError(f"module 'compare.spec' has no attribute {name!r}")
