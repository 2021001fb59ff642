"""Read a real Keras 3 model (``keras.Sequential`` or a functional chain) into a spec.

The model's layers are taken in order (nested models are opened); a probe runs through
them one after another to read each layer's real input and output shape, and the result
must equal the model's own output on the same random input, which proves the graph is
the chain the walk assumed. Each layer is mapped through what the kinds register
(``compare.kinds.<family>.from_keras``): ``("keras", "layer", cls)`` maps a layer class,
every ``("keras", "refine", name)`` then reads what a mapped layer carries inside (the
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
    return None


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


def _probe(shape: Shape, leaves: list[tuple[str, Any]], found: Tables) -> np.ndarray:
    """A random input: normal floats, or token ids below the first vocabulary (the first
    layer that registers an ``id_range``: an embedding)."""
    rng = np.random.default_rng(0)
    if shape.dtype == "int":
        ranges = (_id_range(ly, found) for _, ly in leaves)
        vocab = next((r for r in ranges if r is not None), 2)
        return rng.integers(0, vocab, (2, *shape.size)).astype("int32")
    return rng.standard_normal((2, *shape.size, shape.channels)).astype("float32")


def _mapped_names() -> dict[str, list[str]]:
    """The Keras layer classes this importer maps."""
    return {NO_CLASS: sorted({k.__name__ for k in tables().layers})}


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
    leaves = _leaves(model, "", found)
    probe = _probe(input_shape, leaves, found)
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
        mapper = _mapper(layer, found.layers)
        if mapper is None:
            piece.problem = NO_CLASS  # the mapped names are listed once, by UnmappableError
        else:
            try:
                piece = mapper(layer, piece)
                for refine in found.refines:
                    piece = refine(layer, piece)
            except (Refuse, SpecError) as exc:  # SpecError: a value the spec rejects
                piece.problem = str(exc)
        pieces.append(piece)
    else:
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


def from_keras(model: Any, input: Any = None, name: str | None = None) -> Imported:
    """See ``compare.from_keras``."""
    return read_keras(model, input, name).imported
