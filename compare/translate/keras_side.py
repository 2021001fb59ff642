"""Keras' side of a translation: resolve, bind, bound, build, read back, rebuild.

Imported only when a translation touches Keras (it imports keras on TensorFlow).
"""

from __future__ import annotations

import contextlib
import difflib
import importlib
import inspect
import math
import os
import random
from typing import Any

import numpy as np

from compare.errors import SpecError
from compare.translate.calls import Call, Reader, read_call, signature_text, value_text
from compare.translate.parse import MAX_INPUT_ELEMENTS, InputShape, ParsedCall

__all__ = ["KerasSide"]


def _keras() -> Any:
    """Keras on TensorFlow, imported the way the adapters import it (quietly)."""
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    try:  # the adapters' quiet import, wherever the restructure puts it
        return importlib.import_module("compare.adapters._keras_import").keras
    except ImportError:  # pragma: no cover - only if that module moved
        import keras

        return keras


keras = _keras()
L = keras.layers
_MISSING: Any = object()
#: Keras layer modules whose classes read files or wrap foreign code: never built.
_REFUSED_MODULES = ("keras.src.layers.preprocessing",)
#: preprocessing layers that compute a fixed function of one image batch, read by the
#: importer (the rest adapt to data, look up strings or augment at random)
_PREPROCESSING = frozenset({"Rescaling", "Resizing", "Normalization"})


def _config(layer: Any) -> dict[str, Any] | None:
    try:
        return dict(layer.get_config())
    except Exception:  # a layer holding a value Keras cannot serialise (a partial)
        return None


def _values(layer: Any, names: list[str]) -> dict[str, Any]:
    """Each constructor argument as ``get_config()`` gives it, else as the attribute."""
    config = _config(layer)
    out: dict[str, Any] = {}
    for n in names:
        if config is not None and n in config:
            out[n] = config[n]
        elif config is None and hasattr(layer, n):
            out[n] = getattr(layer, n)
    return out


def _extra(layer: Any) -> dict[str, Any]:
    """Layer keywords of every Keras layer that change what it computes: its dtype."""
    policy = layer.dtype_policy.name
    return {"dtype": policy} if policy != "float32" else {}


def _key(layer: Any) -> Any:
    """What a rebuilt layer must share with the original: its config (without its name),
    or, where Keras cannot serialise it, every constructor argument it holds."""
    config = _config(layer)
    if config is not None:
        config.pop("name", None)
        return config
    out: list[tuple[Any, ...]] = []
    for n in inspect.signature(type(layer)).parameters:
        if n == "name" or not hasattr(layer, n):
            continue
        value = getattr(layer, n)
        if hasattr(value, "get_config") and not isinstance(value, type):
            out.append((n, type(value).__name__, value.get_config()))
            continue
        try:
            out.append((n, value_text(value)))
        except SpecError:
            out.append((n, repr(value)))
    return out, layer.dtype_policy.name


READER = Reader(_values, key=_key, skip=("name",), extra=_extra)


def _path(cls: type) -> tuple[str, tuple[str, ...]]:
    if getattr(L, cls.__name__, None) is cls:
        return f"keras.layers.{cls.__name__}", ()
    return cls.__name__, (f"from {cls.__module__} import {cls.__qualname__}",)


@contextlib.contextmanager
def _seeded(seed: str) -> Any:
    """Keras' unseeded initialisers draw their seeds from ``random``: seed it, restore."""
    state = random.getstate()
    random.seed(seed)
    try:
        yield
    finally:
        random.setstate(state)


def _constants(layer: Any) -> tuple[str, ...]:
    """The tensors a layer computes with that are not weights: a ``Normalization`` given
    its mean and variance as constants keeps them as ``mean`` and ``variance``."""
    if isinstance(layer, L.Normalization) and getattr(layer, "input_mean", None) is not None:
        return ("mean", "variance")
    return ()


class KerasSide:
    """Everything a translation does in Keras.

    Example:
        >>> KerasSide().resolve("Conv2D", "keras.layers.Conv2D").__name__
        'Conv2D'
    """

    name = "keras"
    title = "Keras"
    var = "keras_layer"

    def resolve(self, class_name: str, dotted: str) -> type:
        cls = getattr(L, class_name, None) if not class_name.startswith("_") else None
        if not (
            isinstance(cls, type)
            and issubclass(cls, L.Layer)
            and cls.__module__.startswith("keras.src.layers.")
            and (not cls.__module__.startswith(_REFUSED_MODULES) or class_name in _PREPROCESSING)
        ):
            known = [n for n in dir(L) if isinstance(getattr(L, n), type)]
            close = difflib.get_close_matches(class_name, known, n=3, cutoff=0.6)
            prefix = dotted.rsplit(".", 1)[0]
            hint = f"; did you mean {', '.join(f'{prefix}.{c}' for c in close)}?" if close else ""
            raise SpecError(f"{dotted} is not a keras.layers layer class{hint}")
        return cls

    def signature(self, cls: type) -> str:
        """The constructor's signature, as an error message shows it."""
        return signature_text(cls)

    def bind_signature(self, cls: type) -> inspect.Signature:
        """The signature the call's arguments are bound to."""
        return inspect.signature(cls)

    def _make(self, cls: type, call: ParsedCall) -> Any:
        try:
            with _seeded(f"compare:translate:{call.text}"):
                return cls(*call.args, **call.kwargs)
        except Exception as exc:
            raise _refused(call, exc, self.signature(cls)) from exc

    def construct(self, cls: type, call: ParsedCall, shape: InputShape, limit: int) -> Any:
        """The layer from the call, after its weights were counted on a throwaway copy
        built without values (Keras' deferred initialisation)."""
        throwaway = self._make(cls, call)
        try:
            with keras.StatelessScope(initialize_variables=False):
                throwaway.build((None, *shape.dims))
            count = sum(math.prod(int(d) for d in v.shape) for v in throwaway.weights)
        except SpecError:
            raise
        except Exception as exc:
            raise SpecError(
                f"{call.dotted} refuses an input of shape (None, "
                f"{', '.join(map(str, shape.dims))}): {' '.join(str(exc).split())[:300]}"
            ) from exc
        finally:
            keras.backend.clear_session(free_memory=False)
        if count > limit:
            raise SpecError(
                f"{call.dotted} holds {count:,} weights; translate builds at most {limit:,} "
                "(compare.translate.MAX_WEIGHTS)"
            )
        return self._make(cls, call)

    def probe(
        self, layer: Any, call: ParsedCall, shape: InputShape, limit: int
    ) -> tuple[tuple[int, ...], bool]:
        try:
            out = layer.compute_output_shape((None, *shape.dims))
        except Exception:  # some layers only know once built: the model build tells
            return shape.dims, False
        shapes = out if isinstance(out, list) else [out]
        first = shapes[0] if shapes and isinstance(shapes[0], tuple | list) else out
        if isinstance(first, tuple | list) and all(isinstance(d, int) for d in first[1:]):
            elements = math.prod(int(d) for d in first[1:])
            if elements > limit:
                raise SpecError(
                    f"{call.dotted} on --input {shape.text} gives {elements:,} output "
                    f"elements; translate allows at most {limit:,} "
                    "(compare.translate.MAX_INPUT_ELEMENTS)"
                )
        return shape.dims, False

    def wrap(self, layer: Any, returns_tuple: bool, shape: InputShape) -> Any:
        """The one-layer model the importer reads, its (symbolic) output bounded."""
        dtype = "int32" if shape.ids else "float32"
        try:
            with _seeded("compare:translate:build"):
                model = keras.Sequential([keras.Input(shape=shape.dims, dtype=dtype), layer])
        except Exception as exc:
            raise SpecError(
                f"{type(layer).__name__} refuses an input of shape (None, "
                f"{', '.join(map(str, shape.dims))}): {' '.join(str(exc).split())[:300]}"
            ) from exc
        outputs = model.outputs if isinstance(model.outputs, list) else [model.outputs]
        for out in outputs:
            dims = [d for d in tuple(out.shape)[1:] if d is not None]
            if math.prod(dims) > MAX_INPUT_ELEMENTS:
                raise SpecError(
                    f"{type(layer).__name__} on --input {shape.text} gives "
                    f"{math.prod(dims):,} output elements; translate allows at most "
                    f"{MAX_INPUT_ELEMENTS:,} (compare.translate.MAX_INPUT_ELEMENTS)"
                )
        return model

    def randomise(self, layer: Any, rng: np.random.Generator) -> None:
        for v in layer.weights:
            if "float" in str(v.dtype):
                v.assign(rng.uniform(0.5, 1.5, tuple(v.shape)).astype(str(v.dtype)))

    def import_(self, model: Any, shape: InputShape) -> Any:
        from compare.importers import from_keras

        return from_keras(model, name="translate")

    def _names(self, layer: Any) -> list[str]:
        names = [v.name for v in layer.weights]
        return names if len(set(names)) == len(names) else [v.path for v in layer.weights]

    def weights(self, layer: Any) -> dict[str, np.ndarray]:
        out = {
            n: keras.ops.convert_to_numpy(v).copy()
            for n, v in zip(self._names(layer), layer.weights)
        }
        for name in _constants(layer):
            out[name] = keras.ops.convert_to_numpy(getattr(layer, name)).copy()
        return out

    def read_weights_for(self, layer: Any) -> str:
        attr = "name" if self._names(layer) == [v.name for v in layer.weights] else "path"
        text = f"w = {{v.{attr}: np.asarray(v) for v in keras_layer.weights}}"
        given = _constants(layer)
        if given:
            text += "\n# constants given to the constructor, as build() broadcast them\n"
            text += "w.update(" + ", ".join(f"{n}=np.array(keras_layer.{n})" for n in given) + ")"
        return text

    def run(self, model: Any, x: np.ndarray) -> np.ndarray:
        return np.asarray(model(x, training=False))

    # -- the target side -------------------------------------------------------------
    def leaves(self, model: Any) -> list[Any]:
        return [ly for ly in model.layers if not isinstance(ly, L.InputLayer)]

    def call(self, leaf: Any) -> Call:
        path, imports = _path(type(leaf))
        return read_call(leaf, path, READER, imports)

    def state(self, leaf: Any) -> dict[str, np.ndarray]:
        return {str(i): keras.ops.convert_to_numpy(v).copy() for i, v in enumerate(leaf.weights)}

    def fill(self, leaf: Any, value: float) -> None:
        for v in leaf.weights:
            if "float" in str(v.dtype):
                v.assign(np.full(tuple(v.shape), value, dtype=str(v.dtype)))

    def dtype(self, leaves: list[Any]) -> str:
        """The dtype of the built layers' weights (each layer prints its own)."""
        for leaf in leaves:
            for v in leaf.weights:
                if "float" in str(v.dtype):
                    return str(v.dtype)
        return "float32"

    def input_dtype(self, pair_model: Any) -> str | None:
        return str(pair_model.inputs[0].dtype)

    def assemble(self, calls: list[Call], dtype: str, dims: tuple[int, ...], ids: bool) -> Any:
        layers = [c.make() for c in calls]
        if len(layers) == 1:
            layers[0].build((None, *dims))
            return layers[0]
        return keras.Sequential([keras.Input(shape=dims, dtype="int64" if ids else dtype), *layers])

    def code(
        self, calls: list[Call], dtype: str, dims: tuple[int, ...], input_dtype: str | None
    ) -> str:
        imports = ["import keras", *(i for c in calls for i in c.imports)]
        if any("functools.partial" in c.text for c in calls):
            imports.insert(0, "import functools")
        head = "\n".join(dict.fromkeys(imports))
        comments = "".join(f"# {c}\n" for c in dict.fromkeys(c.comment for c in calls) if c)
        if len(calls) == 1:
            return f"{head}\n\n{comments}keras_layer = {calls[0].text}"
        given = f", dtype={input_dtype!r}" if input_dtype and input_dtype != "float32" else ""
        body = f"    keras.Input(shape={value_text(tuple(dims))}{given}),\n"
        body += "".join(f"    {c.text},\n" for c in calls)
        return f"{head}\n\n{comments}keras_layer = keras.Sequential([\n{body}])"

    def write_code(
        self,
        assigns: list[tuple[int, str, str]],
        unwritten: list[str],
        calls: list[Call],
        dims: tuple[int, ...],
    ) -> str:
        lines = []
        if len(calls) == 1:
            lines.append(f"keras_layer.build({value_text((None, *dims))})")
        by_leaf: dict[int, list[tuple[str, str]]] = {}
        for leaf, key, expr in assigns:
            by_leaf.setdefault(leaf, []).append((key, expr))
        for leaf, items in by_leaf.items():
            target = "keras_layer" if len(calls) == 1 else f"keras_layer.layers[{leaf}]"
            complete = not any(u.startswith(f"{leaf}.") for u in unwritten)
            if complete:
                body = "".join(
                    f"    {expr},\n" for _, expr in sorted(items, key=lambda i: int(i[0]))
                )
                lines.append(f"{target}.set_weights([\n{body}])")
            else:
                for key, expr in items:
                    lines.append(f"{target}.weights[{key}].assign({expr})")
        return "\n".join(lines)

    def write(
        self, model: Any, calls: list[Call], assigns: dict[tuple[int, str], np.ndarray]
    ) -> None:
        leaves = [model] if len(calls) == 1 else self.leaves(model)
        for (leaf, key), array in assigns.items():
            var = leaves[leaf].weights[int(key)]
            var.assign(array.astype(str(var.dtype)))

    def unwritten(
        self, calls: list[Call], leaves: list[Any], written: set[tuple[int, str]]
    ) -> list[str]:
        return [
            f"{index}.{i}"
            for index, leaf in enumerate(leaves)
            for i in range(len(leaf.weights))
            if (index, str(i)) not in written
        ]


def _refused(call: ParsedCall, exc: Exception, signature: str) -> SpecError:
    text = " ".join(str(exc).split())[:400]
    return SpecError(f"Keras refuses {call.text[:200]}: {text}; signature: {signature}")
