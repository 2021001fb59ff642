"""Read a real Keras 3 model (``keras.Sequential`` or a functional chain) into a spec.

The model's layers are taken in order (nested models are opened); a probe runs through
them one after another to read each layer's real input and output shape, and the result
must equal the model's own output on the same random input, which proves the graph is
the chain the walk assumed. Each layer is mapped through ``LAYERS`` (class -> mapper),
and the pieces are folded by ``compare.importers.base.assemble``. Only public Keras API.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import numpy as np

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
from compare.importers.keras_sequence import SEQUENCE_LAYERS
from compare.spec import (
    Conv,
    ConvTranspose,
    Dense,
    DepthwiseConv,
    Flatten,
    SeparableConv,
    prod,
)

__all__ = ["LAYERS", "from_keras", "read_keras"]

L = keras.layers
Mapper = Callable[[Any, Piece], Piece]


def _checks(layer: Any) -> None:
    fmt = getattr(layer, "data_format", "channels_last")
    if fmt != "channels_last":
        raise Refuse(f"data_format={fmt!r}; compare reads channels_last Keras models")


def _roles(layer: Any, **names: str) -> dict[str, Any]:
    return {
        role: (layer, attr, None)
        for role, attr in names.items()
        if getattr(layer, attr, None) is not None
    }


def _padding(layer: Any) -> str:
    if layer.padding not in ("valid", "same"):
        raise Refuse(f"padding={layer.padding!r}; the spec has 'valid', 'same' or explicit pads")
    return str(layer.padding)


def _conv(layer: Any, piece: Piece) -> Piece:
    _checks(layer)
    spec = Conv(
        filters=layer.filters,
        kernel_size=tuple(layer.kernel_size),
        strides=tuple(layer.strides),
        padding=_padding(layer),
        dilation=tuple(layer.dilation_rate),
        groups=layer.groups,
        use_bias=bool(layer.use_bias),
    )
    return replace(piece, layer=spec, roles=_roles(layer, kernel="kernel", bias="bias"))


def _conv_transpose(layer: Any, piece: Piece) -> Piece:
    _checks(layer)
    padding = _padding(layer)
    kernel, strides = tuple(layer.kernel_size), tuple(layer.strides)
    dilation = tuple(layer.dilation_rate)
    if layer.output_padding is None:
        # Keras' own rule: 'valid' gives (n-1)*s + max(k_eff, s), 'same' gives n*s.
        effective = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
        extend = (
            tuple(max(s - e, 0) for s, e in zip(strides, effective))
            if padding == "valid"
            else (0,) * len(kernel)
        )
    elif padding == "same":
        raise Refuse(
            f"padding='same' with output_padding={layer.output_padding}; the spec's 'same' "
            "transposed conv has no output_padding"
        )
    else:
        extend = tuple(layer.output_padding)
    spec = ConvTranspose(
        filters=layer.filters,
        kernel_size=kernel,
        strides=strides,
        padding=padding,
        output_padding=extend,
        dilation=dilation,
        use_bias=bool(layer.use_bias),
        groups=getattr(layer, "groups", 1) or 1,
    )
    return replace(piece, layer=spec, roles=_roles(layer, kernel="kernel", bias="bias"))


def _depthwise(layer: Any, piece: Piece) -> Piece:
    _checks(layer)
    spec = DepthwiseConv(
        kernel_size=tuple(layer.kernel_size),
        strides=tuple(layer.strides),
        padding=_padding(layer),
        dilation=tuple(layer.dilation_rate),
        use_bias=bool(layer.use_bias),
        depth_multiplier=layer.depth_multiplier,
    )
    roles = _roles(layer, depthwise_kernel="kernel", bias="bias")
    return replace(piece, layer=spec, roles=roles)


def _separable(layer: Any, piece: Piece) -> Piece:
    _checks(layer)
    spec = SeparableConv(
        filters=layer.filters,
        kernel_size=tuple(layer.kernel_size),
        strides=tuple(layer.strides),
        padding=_padding(layer),
        dilation=tuple(layer.dilation_rate),
        use_bias=bool(layer.use_bias),
        depth_multiplier=layer.depth_multiplier,
    )
    roles = _roles(
        layer,
        depthwise_kernel="depthwise_kernel",
        pointwise_kernel="pointwise_kernel",
        bias="bias",
    )
    return replace(piece, layer=spec, roles=roles)


def _dense(layer: Any, piece: Piece) -> Piece:
    _checks(layer)
    spec = Dense(units=layer.units, use_bias=bool(layer.use_bias))
    return replace(piece, layer=spec, roles=_roles(layer, kernel="kernel", bias="bias"))


def _flatten(layer: Any, piece: Piece) -> Piece:
    _checks(layer)
    return replace(piece, layer=Flatten())


def _pairs(value: Any) -> tuple[tuple[int, int], ...]:
    if isinstance(value[0], int):  # 1-d layers hold one (before, after) pair
        return ((int(value[0]), int(value[1])),)
    return tuple((int(a), int(b)) for a, b in value)


def _reshape(layer: Any, piece: Piece) -> Piece:
    """``Reshape((-1,))`` and the like: a flatten when it merges every non-batch axis
    (a row-major reshape orders them *size, C, as ``Flatten`` does)."""
    inp, out = piece.in_shape, piece.out_shape
    features = inp.channels * prod(inp.size)
    if out.size or out.channels != features:
        raise Refuse(
            f"reshapes {inp.keras()[1:]} to {out.keras()[1:]}; only a reshape to "
            f"({features},) is read, as a flatten"
        )
    return replace(piece, layer=Flatten())


def _zero_padding(layer: Any, piece: Piece) -> Piece:
    _checks(layer)
    return replace(piece, pad=_pairs(layer.padding))


def _cropping(layer: Any, piece: Piece) -> Piece:
    _checks(layer)
    return replace(piece, crop=_pairs(layer.cropping))


def _identity(layer: Any, piece: Piece) -> Piece:
    return piece


#: Layer class -> mapper. Other kinds plug in here.
LAYERS: dict[type, Mapper] = {
    **dict.fromkeys((L.Conv1D, L.Conv2D, L.Conv3D), _conv),
    **dict.fromkeys((L.Conv1DTranspose, L.Conv2DTranspose, L.Conv3DTranspose), _conv_transpose),
    **dict.fromkeys((L.DepthwiseConv1D, L.DepthwiseConv2D), _depthwise),
    **dict.fromkeys((L.SeparableConv1D, L.SeparableConv2D), _separable),
    L.Dense: _dense,
    L.Flatten: _flatten,
    L.Reshape: _reshape,
    **dict.fromkeys((L.ZeroPadding1D, L.ZeroPadding2D, L.ZeroPadding3D), _zero_padding),
    **dict.fromkeys((L.Cropping1D, L.Cropping2D, L.Cropping3D), _cropping),
    L.Identity: _identity,
}
# Sequence layers (LSTM / GRU / SimpleRNN / Embedding): compare.importers.keras_sequence
LAYERS.update(SEQUENCE_LAYERS)


# -- normalisation, pooling, dropout and activation kinds (their own module) ----------
from compare.importers import keras_layers as _layers  # noqa: E402

LAYERS.update(_layers.LAYERS)
# -- end of the layer kinds ----------------------------------------------------------


def _mapper(layer: Any) -> Mapper | None:
    cls: Any = type(layer)
    if cls in LAYERS:
        return LAYERS[cls]
    for base in cls.__mro__[1:]:
        if base in LAYERS and cls.call is base.call:
            return LAYERS[base]
    return None


def _qualname(layer: Any) -> str:
    cls = type(layer)
    module = cls.__module__
    return (
        f"keras.layers.{cls.__name__}"
        if module.startswith("keras")
        else f"{module}.{cls.__qualname__}"
    )


def _leaves(model: Any, prefix: str) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for layer in model.layers:
        if isinstance(layer, L.InputLayer):
            continue
        path = f"{prefix}{layer.name}"
        if isinstance(layer, keras.Model) and _mapper(layer) is None:
            out += _leaves(layer, f"{path}/")
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


def _probe(model: Any, shape: Shape, leaves: list[tuple[str, Any]]) -> np.ndarray:
    """A random input: normal floats, or token ids below the first embedding's vocabulary."""
    rng = np.random.default_rng(0)
    if shape.dtype == "int":
        vocab = next((int(ly.input_dim) for _, ly in leaves if isinstance(ly, L.Embedding)), 2)
        return rng.integers(0, vocab, (2, *shape.size)).astype("int32")
    return rng.standard_normal((2, *shape.size, shape.channels)).astype("float32")


def _mapped_names() -> dict[str, list[str]]:
    """The Keras layer classes this importer maps."""
    return {NO_CLASS: sorted({k.__name__ for k in LAYERS})}


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
    leaves = _leaves(model, "")
    probe = _probe(model, input_shape, leaves)
    x: Any = probe
    pieces: list[Piece] = []
    for path, layer in leaves:
        in_shape = _shape(np.asarray(x))
        inputs = _inputs(layer)
        if inputs > 1:
            reason = f"it takes {inputs} inputs (a merge); a chain passes one tensor on"
            pieces.append(Piece(path, _qualname(layer), in_shape, in_shape, layer, problem=reason))
            break
        try:
            y = keras.ops.convert_to_numpy(layer(x))
        except Exception as exc:
            text = re.sub(r"\x1b\[[0-9;]*m", "", " ".join(str(exc).split()))[:200]
            reason = f"it fails on an input of shape {tuple(np.shape(x))}: {text}"
            pieces.append(Piece(path, _qualname(layer), in_shape, in_shape, layer, problem=reason))
            break
        piece = Piece(path, _qualname(layer), in_shape, _shape(y), layer)
        x = y
        mapper = _mapper(layer)
        if mapper is None:
            piece.problem = NO_CLASS  # the mapped names are listed once, by UnmappableError
        else:
            try:
                piece = _layers.fuse_activation(layer, mapper(layer, piece))
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

    def depthwise_roles(roles: dict[str, Any], kernel: tuple[int, ...], c: int, m: int) -> dict:
        layer, attr, _ = roles["kernel"]
        return {"depthwise_kernel": (layer, attr, (*kernel, c, m))}

    spec, parts = assemble(
        pieces,
        input_shape,
        name=name or model.name,
        source="keras",
        depthwise_roles=depthwise_roles,
    )
    imported, builts = read_weights(spec, parts, "keras")
    runs = [layer for _, layer in leaves]
    return Reading(imported, builts, runs, step_ends(pieces, parts))


def from_keras(model: Any, input: Any = None, name: str | None = None) -> Imported:
    """See ``compare.from_keras``."""
    return read_keras(model, input, name).imported
