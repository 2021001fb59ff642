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
from collections.abc import Mapping
from typing import Any

import numpy as np

from compare import layouts
from compare.adapters import keras_defaults, parts
from compare.adapters._keras_import import keras
from compare.adapters.base import Built, KindDefaults, Notes, Unsupported, WeightFact
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
        name = f"{layer.kind}_{index}"
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
            state = random.getstate()
            random.seed(f"compare:{self._seed}:{index}")
            try:
                built = self._made(layer.kind, *make(layer, formula, name, dtype))
            except (ValueError, TypeError, NotImplementedError) as exc:
                raise _refused(exc) from exc
            finally:
                random.setstate(state)
            if layer.post_activation:
                built = parts.only(self.name, "post_activation")(built, layer, dtype)
            shapes = [s.keras() for s in formula.input_shapes]
            shape: Any = shapes[0] if len(shapes) == 1 else shapes
            for i, part in enumerate(built.obj):
                with _zero_initialisers(part) if blank else contextlib.nullcontext():
                    part.build(shape)
                if i + 1 < len(built.obj):
                    shape = part.compute_output_shape(shape)
        return built

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

    def weight_shapes(self, built: Built) -> dict[str, tuple[int, ...]]:
        out = {}
        for role, ref in built.roles.items():
            var = self._variable(ref)
            if var is not None:
                out[role] = ref[2] if ref[2] is not None else tuple(int(d) for d in var.shape)
        return out

    def set_weights(self, built: Built, weights: dict[str, np.ndarray]) -> None:
        written: dict[int, Any] = {}
        for role, array in weights.items():
            var = self._variable(built.roles[role])
            want = built.roles[role][2] or tuple(var.shape)
            if tuple(array.shape) != tuple(want):
                raise ValueError(f"keras {role}: expected shape {tuple(want)}, got {array.shape}")
            write_variable(var, array.reshape(tuple(var.shape)).astype(var.dtype, copy=False))
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

        env = Graph(
            graph.inputs,
            tuple(Node(n.name, b, n.inputs) for n, b in zip(graph.nodes, builts, strict=True)),
            graph.outputs,
        ).walk(call, {graph.inputs[0]: inputs})
        outs = [env[name] for name in graph.outputs]
        return keras.Model(inputs, outs[0] if len(outs) == 1 else outs)
