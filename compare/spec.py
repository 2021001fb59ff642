"""Layout-neutral, validated, frozen layer and model specs.

A spec says *what* a layer computes, never how a framework lays it out. Values are
checked and normalised once, at construction: ``Conv(filters=8, kernel_size=3)`` holds
``kernel_size=3`` until it is placed in a ``Model``, which resolves every layer against
the input's rank (``kernel_size=(3, 3)`` on a 2-d input) and propagates shapes so that
cross-layer rules (groups divide the channels, kernels fit the padded input) are
checked before any framework is touched.

Conventions fixed here, once:

* ``padding`` is ``"valid"``, ``"same"`` (TensorFlow's meaning: output size
  ``ceil(n / stride)``, any odd pixel of padding at the end) or explicit symmetric
  padding, an int or one int per spatial axis (PyTorch's meaning).
* ``conv_transpose`` with integer padding ``p`` crops ``p`` from both ends of the full
  transposed output, after ``output_padding`` zero rows were added at the end
  (PyTorch's meaning); ``"same"`` gives ``n * stride`` (TensorFlow's meaning).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from compare.errors import SpecError, quote
from compare.limits import INT64_MAX, check_tree

__all__ = [
    "GRU",
    "KINDS",
    "LSTM",
    "Conv",
    "ConvTranspose",
    "Dense",
    "DepthwiseConv",
    "Embedding",
    "Flatten",
    "Input",
    "Layer",
    "Model",
    "SeparableConv",
    "SimpleRNN",
    "layer_from_dict",
    "model_from_dict",
]

IntOrInts = int | tuple[int, ...]
Padding = str | int | tuple[int, ...]

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


def _fmt(value: Any) -> str:
    """A value as messages quote it: tuples as lists, anything long abbreviated."""
    if isinstance(value, tuple):
        items = [_fmt(v) if isinstance(v, str | int) else quote(v) for v in value[:8]]
        return "[" + ", ".join(items) + (", ...]" if len(value) > 8 else "]")
    return quote(value)


def _check_int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise SpecError(
            f"{name}={_fmt(value)} must be an integer >= {minimum} (got {type(value).__name__})"
        )
    if value < minimum:
        raise SpecError(f"{name}={_fmt(value)} must be an integer >= {minimum}")
    if value > INT64_MAX:
        raise SpecError(f"{name}={_fmt(value)} must be at most 2**63-1 (the frameworks' int64)")
    return value


def _check_ints(name: str, value: Any, minimum: int) -> IntOrInts:
    """An int, or a non-empty sequence of ints; lists become tuples."""
    if isinstance(value, list | tuple):
        if not value:
            raise SpecError(f"{name}=[] must be an integer or a non-empty list of integers")
        items = tuple(value)
        for item in items:
            if (
                isinstance(item, bool)
                or not isinstance(item, int)
                or not minimum <= item <= INT64_MAX
            ):
                raise SpecError(
                    f"{name}={_fmt(items)} must hold integers >= {minimum} (got {_fmt(item)})"
                )
        return items
    return _check_int(name, value, minimum)


def _broadcast(name: str, value: IntOrInts, rank: int) -> tuple[int, ...]:
    if isinstance(value, int):
        return (value,) * rank
    if len(value) != rank:
        raise SpecError(
            f"{name}={_fmt(value)} has {len(value)} values but the input has {rank} spatial axes"
        )
    return value


def _check_padding(value: Any) -> Padding:
    if isinstance(value, str):
        low = value.lower()
        if low not in ("valid", "same"):
            raise SpecError(
                f"padding={quote(value)} must be 'valid', 'same', an integer or one integer "
                "per spatial axis"
            )
        return low
    return _check_ints("padding", value, 0)


def _check_bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise SpecError(f"{name}={_fmt(value)} must be true or false")
    return value


@dataclass(frozen=True)
class Layer:
    """Base of all layer specs; ``kind`` names the family in files and reports.

    Example:
        >>> Dense(units=10).kind
        'dense'
    """

    kind: ClassVar[str] = ""
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

    def resolved(self, rank: int) -> Layer:
        """This spec with every per-axis field as a tuple of ``rank`` ints.

        Example:
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
            name: _broadcast(name, getattr(self, name), rank) for name in self.spatial_fields
        }
        padding = getattr(self, "padding", None)
        if padding is not None and not isinstance(padding, str):
            changes["padding"] = _broadcast("padding", padding, rank)
        if hasattr(self, "rank"):
            changes["rank"] = rank
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Canonical field names and values, JSON-ready (tuples become lists).

        Example:
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


def _check_activation(value: Any) -> str:
    """Normalise the ``activation`` field of a conv or dense spec."""
    from compare.spec_layers import check_activation

    return check_activation("activation", value)


@dataclass(frozen=True)
class _ConvBase(Layer):
    """Fields shared by the convolution families."""

    kernel_size: IntOrInts = 1
    strides: IntOrInts = 1
    padding: Padding = "valid"
    dilation: IntOrInts = 1
    use_bias: bool = True
    rank: int | None = field(default=None, repr=False)
    #: Activation applied after the layer (Keras layers carry one; torch appends a module).
    activation: str = "linear"

    spatial_fields: ClassVar[tuple[str, ...]] = ("kernel_size", "strides", "dilation")
    min_rank: ClassVar[int] = 1
    post_activation: ClassVar[bool] = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "kernel_size", _check_ints("kernel_size", self.kernel_size, 1))
        object.__setattr__(self, "strides", _check_ints("strides", self.strides, 1))
        object.__setattr__(self, "padding", _check_padding(self.padding))
        object.__setattr__(self, "dilation", _check_ints("dilation", self.dilation, 1))
        _check_bool("use_bias", self.use_bias)
        object.__setattr__(self, "activation", _check_activation(self.activation))
        if self.rank is not None and self.rank not in (1, 2, 3):
            raise SpecError(f"rank={self.rank} must be 1, 2 or 3")


@dataclass(frozen=True)
class Conv(_ConvBase):
    """An N-d convolution (PyTorch ``nn.ConvNd``, Keras ``ConvND``).

    Example:
        >>> Conv(filters=8, kernel_size=3).filters
        8
    """

    filters: int = 0
    groups: int = 1
    kind: ClassVar[str] = "conv"

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_int("filters", self.filters, 1)
        _check_int("groups", self.groups, 1)
        if self.filters % self.groups:
            raise SpecError(f"groups={self.groups} must divide filters={self.filters}")


@dataclass(frozen=True)
class ConvTranspose(_ConvBase):
    """A transposed convolution (``nn.ConvTransposeNd``, ``ConvNDTranspose``).

    Example:
        >>> ConvTranspose(filters=4, kernel_size=3, strides=2, padding=1,
        ...               output_padding=1).output_padding
        1
    """

    filters: int = 0
    groups: int = 1
    output_padding: IntOrInts = 0
    kind: ClassVar[str] = "conv_transpose"
    spatial_fields: ClassVar[tuple[str, ...]] = (
        "kernel_size",
        "strides",
        "dilation",
        "output_padding",
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_int("filters", self.filters, 1)
        _check_int("groups", self.groups, 1)
        object.__setattr__(
            self, "output_padding", _check_ints("output_padding", self.output_padding, 0)
        )
        if self.filters % self.groups:
            raise SpecError(f"groups={self.groups} must divide filters={self.filters}")
        if self.padding == "same" and any(_as_tuple(self.output_padding)):
            raise SpecError(
                f"output_padding={_fmt(self.output_padding)} needs integer or 'valid' "
                "padding; with padding='same' the output size is input * strides"
            )


@dataclass(frozen=True)
class DepthwiseConv(_ConvBase):
    """A depthwise convolution: each input channel gets ``depth_multiplier`` filters.

    Example:
        >>> DepthwiseConv(kernel_size=3, depth_multiplier=2).depth_multiplier
        2
    """

    depth_multiplier: int = 1
    kind: ClassVar[str] = "depthwise_conv"

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_int("depth_multiplier", self.depth_multiplier, 1)


@dataclass(frozen=True)
class SeparableConv(_ConvBase):
    """A depthwise convolution followed by a 1x1 pointwise one (one bias, at the end).

    Example:
        >>> SeparableConv(filters=16, kernel_size=3).depth_multiplier
        1
    """

    filters: int = 0
    depth_multiplier: int = 1
    kind: ClassVar[str] = "separable_conv"

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_int("filters", self.filters, 1)
        _check_int("depth_multiplier", self.depth_multiplier, 1)


@dataclass(frozen=True)
class Dense(Layer):
    """A fully connected layer acting on the channel (feature) axis.

    Example:
        >>> Dense(units=10, use_bias=False).use_bias
        False
    """

    units: int = 0
    use_bias: bool = True
    activation: str = "linear"
    kind: ClassVar[str] = "dense"
    post_activation: ClassVar[bool] = True

    def __post_init__(self) -> None:
        _check_int("units", self.units, 1)
        _check_bool("use_bias", self.use_bias)
        object.__setattr__(self, "activation", _check_activation(self.activation))


@dataclass(frozen=True)
class Flatten(Layer):
    """Flatten channels and spatial axes into one feature axis.

    Example:
        >>> Flatten().to_dict()
        {'kind': 'flatten'}
    """

    kind: ClassVar[str] = "flatten"


# -- sequence families: recurrent layers and embedding --------------------------------
# A sequence is layout-neutral like every activation: (steps, features) is
# ``Input(channels=features, size=(steps,))``. Integer token ids are an ``Input`` with
# ``dtype="int"`` (see ``Input``); only an embedding accepts them. Shape rules live in
# ``compare.sequence``.

RECURRENT_ACTIVATIONS = ("tanh", "relu")


@dataclass(frozen=True)
class _Recurrent(Layer):
    """Fields shared by the recurrent families (one layer, one direction)."""

    units: int = 0
    return_sequences: bool = False
    use_bias: bool = True

    def __post_init__(self) -> None:
        _check_int("units", self.units, 1)
        _check_bool("return_sequences", self.return_sequences)
        _check_bool("use_bias", self.use_bias)


@dataclass(frozen=True)
class LSTM(_Recurrent):
    """A long short-term memory layer (``nn.LSTM``, ``keras.layers.LSTM``).

    Example:
        >>> LSTM(units=32).to_dict()
        {'kind': 'lstm', 'units': 32, 'return_sequences': False, 'use_bias': True}
    """

    kind: ClassVar[str] = "lstm"


@dataclass(frozen=True)
class GRU(_Recurrent):
    """A gated recurrent unit; ``reset_after`` applies the reset gate after the
    recurrent matmul (PyTorch's only formulation, Keras' default).

    Example:
        >>> GRU(units=8, reset_after=False).reset_after
        False
    """

    reset_after: bool = True
    kind: ClassVar[str] = "gru"

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_bool("reset_after", self.reset_after)


@dataclass(frozen=True)
class SimpleRNN(_Recurrent):
    """An Elman RNN ``h = activation(x W + h U + b)`` (``nn.RNN``, ``keras.layers.SimpleRNN``).

    Example:
        >>> SimpleRNN(units=4, activation="relu").activation
        'relu'
    """

    activation: str = "tanh"
    kind: ClassVar[str] = "simple_rnn"

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.activation, str) or self.activation.lower() not in (
            RECURRENT_ACTIVATIONS
        ):
            raise SpecError(
                f"activation={_fmt(self.activation)} must be one of "
                f"{', '.join(map(repr, RECURRENT_ACTIVATIONS))} (the ones nn.RNN offers)"
            )
        object.__setattr__(self, "activation", self.activation.lower())


@dataclass(frozen=True)
class Embedding(Layer):
    """A lookup table of ``input_dim`` vectors of ``output_dim`` features; its input
    is a sequence of integer ids in [0, input_dim) (an ``Input`` with ``dtype="int"``).

    Example:
        >>> Embedding(input_dim=1000, output_dim=16).to_dict()
        {'kind': 'embedding', 'input_dim': 1000, 'output_dim': 16}
    """

    input_dim: int = 0
    output_dim: int = 0
    kind: ClassVar[str] = "embedding"
    input_dtype: ClassVar[str] = "int"

    def __post_init__(self) -> None:
        _check_int("input_dim", self.input_dim, 1)
        _check_int("output_dim", self.output_dim, 1)


SEQUENCE_KINDS: tuple[type[Layer], ...] = (LSTM, GRU, SimpleRNN, Embedding)


def _as_tuple(value: IntOrInts) -> tuple[int, ...]:
    return (value,) if isinstance(value, int) else value


KINDS: dict[str, type[Layer]] = {
    cls.kind: cls for cls in (Conv, ConvTranspose, DepthwiseConv, SeparableConv, Dense, Flatten)
}
KINDS.update({cls.kind: cls for cls in SEQUENCE_KINDS})

# Explicit-rank spellings: conv2d, conv_transpose2d / conv2d_transpose, ...
_RANKED: dict[str, tuple[str, int]] = {}
for _rank in (1, 2, 3):
    _RANKED[f"conv{_rank}d"] = ("conv", _rank)
    _RANKED[f"conv_transpose{_rank}d"] = ("conv_transpose", _rank)
    _RANKED[f"conv{_rank}d_transpose"] = ("conv_transpose", _rank)
    _RANKED[f"depthwise_conv{_rank}d"] = ("depthwise_conv", _rank)
    _RANKED[f"separable_conv{_rank}d"] = ("separable_conv", _rank)


INPUT_DTYPES = ("float", "int")

# Normalisation, pooling, dropout and activation kinds live in their own module.
from compare.spec_layers import KIND_ALIASES, LAYER_KINDS  # noqa: E402

KINDS.update(LAYER_KINDS)


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
                f"input.dtype={_fmt(self.dtype)} must be one of "
                f"{', '.join(map(repr, INPUT_DTYPES))}"
            )
        _check_int("input.channels", self.channels, 1)
        if not isinstance(self.size, list | tuple):
            raise SpecError(
                f"input.size={_fmt(self.size)} must be a list of 0 to 3 positive integers"
            )
        size = tuple(self.size)
        if len(size) > 3:
            raise SpecError(f"input.size={_fmt(size)} must have at most 3 axes")
        for n in size:
            if isinstance(n, bool) or not isinstance(n, int) or n < 1:
                raise SpecError(f"input.size={_fmt(size)} must hold positive integers")
        object.__setattr__(self, "size", size)
        if self.dtype == "int" and (self.channels != 1 or len(size) != 1):
            raise SpecError(
                f"input.dtype='int' is a sequence of token ids: it needs channels=1 and "
                f"size=[steps], got channels={self.channels}, size={_fmt(size)}"
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
        >>> m = Model("seed", Input(1, (28, 28)), (Conv(filters=40, kernel_size=3),))
        >>> m.layers[0].kernel_size
        (3, 3)
    """

    name: str
    input: Input
    layers: tuple[Layer, ...]

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
        object.__setattr__(self, "layers", tuple(resolved))
        # Shape propagation checks every cross-layer rule and names the layer.
        from compare.formulas import infer

        # Kept beside the fields (a frozen dataclass) for ``infer`` to hand back.
        object.__setattr__(self, "_formulas", infer(self))


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
    if kind_key in _RANKED:
        kind_key, rank = _RANKED[kind_key]
    cls = KINDS.get(kind_key)
    if cls is None:
        known = ", ".join(sorted(KINDS))
        raise SpecError(f"layer {index}: unknown kind={quote(kind)}; known kinds: {known}")
    names = {f.name for f in dataclasses.fields(cls)} - {"rank"}
    kwargs: dict[str, Any] = {}
    for key, value in raw.items():
        if key == "kind":
            continue
        canonical = KIND_ALIASES.get(kind_key, {}).get(key) or ALIASES.get(key, key)
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
    unknown = set(raw) - {"name", "input", "layers", "description"}
    if unknown:
        raise SpecError(
            f"{where}: unknown field(s) {', '.join(sorted(map(str, unknown)))}; "
            "a model has name, input, layers (and an optional description)"
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
    for index, item in enumerate(layers_raw):
        try:
            layers.append(layer_from_dict(item, index))
        except SpecError as exc:
            raise SpecError(f"{where}, {exc}") from exc
    return Model(name=str(name), input=input_spec, layers=tuple(layers))


def ceil_div(a: int, b: int) -> int:
    """Integer ceiling of ``a / b``.

    Example:
        >>> ceil_div(7, 2)
        4
    """
    return -(-a // b)


def prod(values: Sequence[int]) -> int:
    """Product of integers (1 for none).

    Example:
        >>> prod((3, 3, 40))
        360
    """
    return math.prod(values)
