"""Keras 3 (TensorFlow backend) adapter: channels-last layers built from specs.

The generic engine only: a layer is built by the ``"build"`` part its family
registers for ``keras`` (``compare/kinds/<family>/keras.py``, imported on first
use through ``compare.core.registry``), always with public API (``keras.layers``);
this module seeds and builds what the part made, runs it, reads its facts and
weights, and chains layers into one functional model. It names no kind. Where
Keras itself refuses a spec, its own message is the reason.
"""

from __future__ import annotations

import contextlib
import math
import random
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from compare import layouts
from compare.adapters import keras_defaults, parts
from compare.adapters._keras_import import keras
from compare.adapters.base import Built, KindDefaults, Notes, Unsupported, WeightFact
from compare.adapters.keras_draws import Draws
from compare.adapters.keras_modules import Role, read_variable, write_variable
from compare.core.graph import Graph, Node
from compare.formulas import LayerFormula
from compare.records import Facts
from compare.spec import Layer

__all__ = ["KerasAdapter"]


def _refused(exc: Exception) -> Unsupported:
    text = " ".join(str(exc).split())
    return Unsupported(f"Keras refuses it: {text}")


@contextlib.contextmanager
def _zero_initialisers(layer: Any) -> Any:
    """While building ``layer`` (and its RNN cell), its ``*_initializer`` attributes are
    Keras' ``Zeros``: the variables get a cheap fill instead of random draws. The
    layer's own initialisers are put back afterwards (its facts read them)."""
    owners = [o for o in (layer, getattr(layer, "cell", None)) if o is not None]
    saved = [(o, k, v) for o in owners for k, v in vars(o).items() if k.endswith("_initializer")]
    zeros = keras.initializers.Zeros()
    try:
        for owner, key, _ in saved:
            setattr(owner, key, zeros)
        yield
    finally:
        for owner, key, value in saved:
            setattr(owner, key, value)


def _config(layer: Any, rank: int) -> dict[str, Any] | None:
    """A layer's configuration without its name, axes made non-negative for an input of
    ``rank`` axes (batch included); None where Keras cannot serialise it."""
    try:
        config = dict(layer.get_config())
    except Exception:  # e.g. a functools.partial activation: not comparable
        return None
    config.pop("name", None)
    axis = config.get("axis")
    if rank and isinstance(axis, int) and not isinstance(axis, bool):
        config["axis"] = axis % rank
    elif rank and isinstance(axis, list | tuple) and all(isinstance(a, int) for a in axis):
        config["axis"] = [a % rank for a in axis]
    return config


def _same_buffer(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two arrays are views of the same memory with the same shape and dtype."""
    return (
        a.dtype == b.dtype
        and a.size == b.size
        and a.__array_interface__["data"][0] == b.__array_interface__["data"][0]
    )


@dataclass(frozen=True)
class _Template:
    """What ``KerasAdapter.build`` makes for one spec, kept to compare a user's layers
    with: each part's class and configuration (``_config``), the roles by part
    position, the classes and notes."""

    types: tuple[type, ...]
    configs: tuple[dict[str, Any], ...]
    roles: dict[str, tuple[int, str, tuple[int, ...] | None]]
    classes: tuple[str, ...]
    notes: Notes

    @staticmethod
    def of(built: Built, rank: int) -> _Template | None:
        configs = [_config(part, rank) for part in built.obj]
        position = {id(part): i for i, part in enumerate(built.obj)}
        if any(c is None for c in configs) or any(
            id(ref[0]) not in position for ref in built.roles.values()
        ):
            return None
        return _Template(
            tuple(type(part) for part in built.obj),
            tuple(c for c in configs if c is not None),
            {role: (position[id(ref[0])], ref[1], ref[2]) for role, ref in built.roles.items()},
            built.classes,
            built.notes,
        )


class KerasAdapter(KindDefaults):
    """Builds specs as Keras layers (channels-last, CPU) and reads their facts.

    Example:
        >>> from compare.spec import Input, Model, Conv
        >>> from compare.formulas import infer
        >>> m = Model("m", Input(1, (8, 8)), (Conv(filters=2, kernel_size=3),))
        >>> KerasAdapter().build(m.layers[0], infer(m)[0], 0, "float32").classes
        ('Conv2D',)
    """

    name = "keras"

    def __init__(self) -> None:
        self._seed = 0
        self._templates: dict[Any, _Template | None] = {}
        self.draws = Draws()

    def clear(self) -> None:
        """Release Keras' global state (``keras.backend.clear_session``), without a
        full garbage collection: layers already built stay usable."""
        keras.backend.clear_session(free_memory=False)

    def seed(self, seed: int) -> None:
        """Seed the initialisers of the layers built next.

        An unseeded Keras initializer draws its own integer seed from Python's
        ``random`` when it is constructed; ``build`` seeds that draw with
        (``seed``, layer index) and restores the caller's ``random`` state, so fresh
        layers are reproducible without touching any global seed.
        """
        self._seed = seed

    def build(
        self,
        layer: Layer,
        formula: LayerFormula,
        index: int,
        dtype: str,
        *,
        shape_only: bool = False,
        blank: bool = False,
    ) -> Built:
        make = parts.find(self.name, "build", layer.kind)
        if make is None:
            raise Unsupported(f"the keras adapter has no builder for kind '{layer.kind}'")
        # In a StatelessScope that does not initialise on exit, ``build`` creates every
        # variable with its shape, dtype and initializer but no value (Keras' deferred
        # initialisation): the layer's facts are real, its weights never allocated.
        # Keras keeps such variables in a global list until ``clear_session()``.
        scope: Any = (
            keras.StatelessScope(initialize_variables=False)
            if shape_only
            else contextlib.nullcontext()
        )
        with scope:
            built = self._make(make, layer, formula, index, dtype)
            shapes = [s.keras() for s in formula.input_shapes]
            shape: Any = shapes[0] if len(shapes) == 1 else shapes
            for i, part in enumerate(built.obj):
                zeros = _zero_initialisers(part) if blank else contextlib.nullcontext()
                # a draw made before is handed back (blank: the zeros too): the same values
                drawing = contextlib.nullcontext() if shape_only else self.draws.memoised(part)
                with zeros, drawing:
                    part.build(shape)
                if i + 1 < len(built.obj):
                    shape = part.compute_output_shape(shape)
        return built

    def _make(
        self, make: Any, layer: Layer, formula: LayerFormula, index: int, dtype: str
    ) -> Built:
        """The kind's layers made (not built), with the post-activation the spec asks for.

        An unseeded Keras initializer draws its own integer seed from Python's
        ``random`` when it is constructed: that draw is seeded with (seed, layer index)
        and the caller's ``random`` state is put back."""
        state = random.getstate()
        random.seed(f"compare:{self._seed}:{index}")
        try:
            built = self._made(layer.kind, *make(layer, formula, f"{layer.kind}_{index}", dtype))
        except (ValueError, TypeError, NotImplementedError) as exc:
            raise _refused(exc) from exc
        finally:
            random.setstate(state)
        if layer.post_activation:
            built = parts.only(self.name, "post_activation")(built, layer, dtype)
        return built

    def adopt(
        self,
        layer: Layer,
        formula: LayerFormula,
        index: int,
        dtype: str,
        view: Built,
        weights: Mapping[str, np.ndarray],
    ) -> Built | None:
        """The user's own layers (``view``, read by the Keras importer, holding
        ``weights``) as this spec's build, when they are what ``build`` would make: the
        same classes in the same order, each already built, with the same configuration
        but for its name (axes compared modulo the input's rank), and each weight still
        the very buffer the import read (a layer written since is not taken). None
        otherwise: the layer is then built as usual.

        Nothing is built or copied: an import of VGG16 saves building 138M weights
        again and writing the imported values into them. Facts are read from the
        user's layers, so weights carry the user's names.

        Example:
            >>> from compare.importers.keras import read_keras
            >>> from compare.formulas import infer
            >>> reading = read_keras(keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)]))
            >>> spec = reading.imported.model
            >>> adopted = KerasAdapter().adopt(spec.layers[0], infer(spec)[0], 0, "float32",
            ...                                reading.builts[0], reading.imported.weights[0])
            >>> adopted.obj[0] is reading.builts[0].obj[0], adopted.adopted
            (True, True)
        """
        theirs: list[Any] = list(view.obj) if isinstance(view.obj, list | tuple) else [view.obj]
        rank = len(formula.input_shapes[0].keras()) if formula.input_shapes else 0
        made = self._template(layer, formula, index, dtype, rank)
        if made is None or len(theirs) != len(made.configs):
            return None
        for config, cls, part in zip(made.configs, made.types, theirs, strict=True):
            if type(part) is not cls or not getattr(part, "built", False):
                return None
            if _config(part, rank) != config:
                return None
        roles: dict[str, Role] = {
            role: (theirs[position], attr, shape)
            for role, (position, attr, shape) in made.roles.items()
        }
        live = {r for r, ref in roles.items() if self._variable(ref) is not None}
        if set(weights) != live:
            return None
        for role, array in weights.items():
            if not _same_buffer(read_variable(self._variable(roles[role])), array):
                return None
        return Built(self.name, theirs, made.classes, roles, made.notes, layer.kind, adopted=True)

    def _template(
        self, layer: Layer, formula: LayerFormula, index: int, dtype: str, rank: int
    ) -> _Template | None:
        """What ``build`` makes for ``layer``, as configurations (made once per spec,
        input shapes and dtype: ResNet50's 53 batch norms have a handful); None where
        it cannot be compared (no builder, Keras refusing it, a weight of a sub-object
        such as an RNN's cell, a configuration Keras cannot serialise)."""
        try:
            key: Any = (layer, formula.input_shapes, dtype)
            if key in self._templates:
                return self._templates[key]
        except TypeError:  # a spec field that is not hashable: made each time
            key = None
        make = parts.find(self.name, "build", layer.kind)
        template = None
        if make is not None:
            try:
                mine = self._make(make, layer, formula, index, dtype)
            except Unsupported:
                mine = None
            template = None if mine is None else _Template.of(mine, rank)
        if key is not None:
            if len(self._templates) >= 1024:  # a long batch of distinct specs
                self._templates.clear()
            self._templates[key] = template
        return template

    @staticmethod
    def _made(kind: str, layers: list[Any], roles: Mapping[str, Role], notes: Notes = ()) -> Built:
        classes = tuple(type(p).__name__ for p in layers)
        return Built("keras", layers, classes, dict(roles), notes, kind)

    def initialisers(self, built: Built) -> dict[str, tuple[str, float | None]]:
        """Role -> (default initialiser, theoretical std), read from the built layers'
        own initializer objects (``compare.adapters.keras_defaults.initialisers``)."""
        return keras_defaults.initialisers(built)

    # -- running and reading --------------------------------------------------------
    def run(self, built: Built, x: np.ndarray, *, training: bool = False) -> np.ndarray:
        """Call every layer with ``training`` (False: inference, the default)."""
        y: Any = x
        for part in built.obj:
            y = part(y, training=training)
        return np.asarray(keras.ops.convert_to_numpy(y))

    def run_with(self, built: Built, weights: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
        """Run with role arrays (Keras layout) in place of the layer's own weights,
        which stay untouched (a ``keras.StatelessScope`` maps each variable to a value)."""
        mapping = []
        for role, array in weights.items():
            var = self._variable(built.roles[role])
            mapping.append((var, array.reshape(tuple(var.shape)).astype(var.dtype)))
        with keras.StatelessScope(state_mapping=mapping, initialize_variables=False):
            return self.run(built, x)

    def trained_state(self, built: Built, x: np.ndarray) -> dict[str, np.ndarray]:
        """The role arrays after one ``training=True`` batch, run in a
        ``keras.StatelessScope``: the layer reads its own variables and its updates
        are collected by the scope, never written (a user's own layers stay as found).

        Example:
            >>> from compare.spec import BatchNorm, Input, Model
            >>> from compare.parity import build
            >>> bn = build(Model("m", Input(2, (3,)), (BatchNorm(),))).sides["keras"].layers[0]
            >>> x = np.arange(12, dtype="float32").reshape(2, 3, 2)
            >>> after = KerasAdapter().trained_state(bn, x)
            >>> after = np.round(after["moving_mean"].astype(float), 2)  # 0.1 x channel means
            >>> after.tolist(), bn.obj[0].moving_mean.numpy().tolist()
            ([0.5, 0.6], [0.0, 0.0])
        """
        with keras.StatelessScope(initialize_variables=False) as scope:
            self.run(built, x, training=True)
            out = {}
            for role, ref in built.roles.items():
                var = self._variable(ref)
                if var is None:
                    continue
                new = scope.get_current_value(var)
                array = read_variable(var) if new is None else np.asarray(new)
                out[role] = array.reshape(ref[2]) if ref[2] is not None else array
        return out

    def output_shape(
        self, built: Built, input_shape: tuple[int, ...], dtype: str
    ) -> tuple[int, ...]:
        shape: Any = input_shape
        for part in built.obj:
            shape = part.compute_output_shape(shape)
        return tuple(int(d) for d in shape)

    def _variable(self, ref: Role) -> Any:
        layer, attr, _ = ref
        return getattr(layer, attr, None)

    def facts(self, built: Built, layer: Layer, formula: LayerFormula) -> Facts:
        role_of = {
            id(self._variable(ref)): role
            for role, ref in built.roles.items()
            if self._variable(ref) is not None
        }
        weights = []
        trainable = non_trainable = buffers = 0
        for part in built.obj:
            # One read of each list (Keras rebuilds them on every access); a weight
            # counts as trainable exactly when Keras lists it in trainable_weights.
            part_weights = part.weights
            trainable_ids = {id(w) for w in part.trainable_weights}
            for w in part_weights:
                role = role_of.get(id(w))
                axes = (
                    layouts.weight_axes(layer, formula, role, "keras", len(w.shape)) if role else ()
                )
                shape = tuple(int(d) for d in w.shape)
                weights.append(WeightFact(w.path, shape, axes, w.trainable, role))
                if id(w) in trainable_ids:
                    trainable += math.prod(shape)
                else:
                    non_trainable += math.prod(shape)
            weight_ids = {id(w) for w in part_weights}
            buffers += sum(
                math.prod(int(d) for d in v.shape)
                for v in part.variables
                if id(v) not in weight_ids
            )
        return Facts(tuple(weights), trainable, non_trainable, buffers)

    def get_weights(self, built: Built) -> dict[str, np.ndarray]:
        out = {}
        for role, ref in built.roles.items():
            var = self._variable(ref)
            if var is None:
                continue
            array = read_variable(var)
            out[role] = array.reshape(ref[2]) if ref[2] is not None else array
        return out

    def fresh_stds(
        self,
        built: Built,
        measure: Callable[[np.ndarray], float],
        roles: Iterable[str] | None = None,
    ) -> dict[str, float]:
        """Role -> ``measure`` of its values as the build drew them, before any write
        (of the ``roles`` given, or of all).

        A role whose variable holds one memoised draw (``Draws.key_of``: its shape and
        dtype) is read and measured once per draw; a draw is a pure function of its
        key, and a sweep builds the same kernel many times. Every other role is read.

        Example:
            >>> from compare.spec import Dense, Input, Model
            >>> from compare.parity import build
            >>> model = Model("m", Input(3), (Dense(units=2),))
            >>> built = build(model).sides["keras"].layers[0]
            >>> stds = KerasAdapter().fresh_stds(built, lambda a: float(a.size))
            >>> stds  # kernel (3, 2) and bias (2,)
            {'kernel': 6.0, 'bias': 2.0}
        """
        out = {}
        for role in built.roles if roles is None else roles:
            ref = built.roles[role]
            var = self._variable(ref)
            if var is None:
                continue
            name = keras_defaults.initializer_attr(ref[0], role, ref[1])
            key = self.draws.key_of(ref[0], name, var) if name is not None else None
            read = lambda v=var: measure(read_variable(v))  # noqa: E731
            out[role] = read() if key is None else self.draws.measure((measure, key), read)
        return out

    def weight_views(self, built: Built) -> dict[str, np.ndarray]:
        """``get_weights``: Keras' reads are read-only views already (TensorFlow copies
        on write, so they keep their values)."""
        return self.get_weights(built)

    def weight_shapes(self, built: Built) -> dict[str, tuple[int, ...]]:
        out = {}
        for role, ref in built.roles.items():
            var = self._variable(ref)
            if var is not None:
                out[role] = ref[2] if ref[2] is not None else tuple(int(d) for d in var.shape)
        return out

    def set_weights(
        self, built: Built, weights: dict[str, np.ndarray], *, take: Collection[str] = ()
    ) -> None:
        # ``take`` changes nothing: AssignVariableOp copies the array into TensorFlow
        written: dict[int, Any] = {}
        for role, array in weights.items():
            var = self._variable(built.roles[role])
            shape = tuple(var.shape)
            want = built.roles[role][2] or shape
            if tuple(array.shape) != tuple(want):
                raise ValueError(f"keras {role}: expected shape {tuple(want)}, got {array.shape}")
            write_variable(var, array.reshape(shape).astype(var.dtype, copy=False))
            written[id(built.roles[role][0])] = built.roles[role][0]
        for layer in written.values():
            # A preprocessing layer (Normalization) computes from a copy of its weights
            # that ``finalize_state`` refreshes, as ``adapt`` and weight loading do.
            finalize = getattr(layer, "finalize_state", None)
            if callable(finalize):
                finalize()

    def assemble(
        self,
        builts: list[Built],
        input_shape: tuple[int, ...],
        dtype: str,
        input_dtype: str | None = None,
        graph: Graph | None = None,
    ) -> Any:
        """A functional ``keras.Model``: the layers called on the values they read."""
        inputs = keras.Input(shape=input_shape, dtype=input_dtype or dtype)
        if graph is None:
            graph = Graph.chain(builts)

        def call(node: Any, values: list[Any]) -> Any:
            y: Any = values[0] if len(values) == 1 else values
            for part in node.layer.obj:
                y = part(y)
            return y

        # Calling a layer on symbolic tensors records a node in it; the user's own
        # layers (adopted) get their node lists back as they were once the model is
        # made (a Functional runs from the nodes it holds), so that their model
        # still reads as it did: each layer called once.
        adopted = [part for b in builts if b.adopted for part in b.obj]
        saved = [(p, len(p._inbound_nodes), len(p._outbound_nodes)) for p in adopted]
        try:
            env = Graph(
                graph.inputs,
                tuple(Node(n.name, b, n.inputs) for n, b in zip(graph.nodes, builts, strict=True)),
                graph.outputs,
            ).walk(call, {graph.inputs[0]: inputs})
            outs = [env[name] for name in graph.outputs]
            return keras.Model(inputs, outs[0] if len(outs) == 1 else outs)
        finally:
            for part, inbound, outbound in saved:
                del part._inbound_nodes[inbound:]
                del part._outbound_nodes[outbound:]
