"""Specs of the normalisation, pooling, dropout and activation families.

Conventions fixed here, once (each framework's own convention is a translation made
by its adapter and named in the layer's differences):

* ``momentum`` of a batch norm is the weight of the *new* batch statistic in the
  running average, ``running = (1 - momentum) * running + momentum * batch``
  (PyTorch's convention; Keras' ``momentum`` is ``1 - momentum``). Default 0.1.
* ``epsilon`` is added to the variance before the square root. Default 1e-5
  (PyTorch's default; Keras' is 1e-3).
* ``padding`` of a pooling layer has the convolutions' meaning (``"valid"``,
  TensorFlow's ``"same"`` or explicit symmetric integers). ``count_include_pad``
  says whether padded positions count in an average's divisor (TensorFlow's
  ``"same"`` never counts them; PyTorch counts them by default).
* ``negative_slope`` of ``leaky_relu`` defaults to 0.01 (PyTorch's default; Keras'
  ``LeakyReLU`` layer uses 0.3), ``alpha`` of ``elu`` to 1.0, ``softmax`` acts on
  the channel axis, ``gelu`` is the exact erf form and ``gelu_tanh`` the tanh
  approximation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from compare.errors import SpecError
from compare.spec import (
    IntOrInts,
    Layer,
    Padding,
    _check_bool,
    _check_int,
    _check_ints,
    _check_padding,
    _fmt,
)

__all__ = [
    "ACTIVATIONS",
    "Activation",
    "AvgPool",
    "BatchNorm",
    "Dropout",
    "GlobalAvgPool",
    "GlobalMaxPool",
    "GroupNorm",
    "LayerNorm",
    "MaxPool",
    "check_activation",
]

#: Canonical activation names (what the ``activation`` kind and field accept).
ACTIVATIONS = (
    "linear",
    "relu",
    "relu6",
    "sigmoid",
    "tanh",
    "gelu",
    "gelu_tanh",
    "softmax",
    "elu",
    "selu",
    "leaky_relu",
    "silu",
    "softplus",
)
#: Other spellings accepted on input.
ACTIVATION_ALIASES = {"swish": "silu", "identity": "linear", "none": "linear"}


def check_activation(name: str, value: Any) -> str:
    """Normalise an activation name (aliases resolved) or raise SpecError.

    Example:
        >>> check_activation("activation", "Swish")
        'silu'
    """
    if not isinstance(value, str):
        raise SpecError(f"{name}={_fmt(value)} must be a string, one of {', '.join(ACTIVATIONS)}")
    low = value.strip().lower()
    low = ACTIVATION_ALIASES.get(low, low)
    if low not in ACTIVATIONS:
        raise SpecError(
            f"{name}={_fmt(value)} is not a known activation; known: {', '.join(ACTIVATIONS)}"
        )
    return low


def _check_float(name: str, value: Any, low: float, high: float, *, closed_high: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SpecError(f"{name}={_fmt(value)} must be a number")
    try:
        value = float(value)
    except OverflowError:  # an integer past float's range
        bracket = "]" if closed_high else ")"
        raise SpecError(f"{name}={_fmt(value)} must lie in [{low}, {high}{bracket}") from None
    bad_high = value > high if closed_high else value >= high
    if value < low or bad_high or value != value:
        bracket = "]" if closed_high else ")"
        raise SpecError(f"{name}={value} must lie in [{low}, {high}{bracket}")
    return value


@dataclass(frozen=True)
class _Norm(Layer):
    """Fields shared by the normalisation families."""

    epsilon: float = 1e-5
    center: bool = True
    scale: bool = True

    def __post_init__(self) -> None:
        eps = _check_float("epsilon", self.epsilon, 0.0, 1.0, closed_high=False)
        if eps <= 0:
            raise SpecError(f"epsilon={self.epsilon} must be > 0")
        object.__setattr__(self, "epsilon", eps)
        _check_bool("center", self.center)
        _check_bool("scale", self.scale)


@dataclass(frozen=True)
class BatchNorm(_Norm):
    """Batch normalisation over the channel axis (rank taken from the input).

    ``momentum`` is PyTorch's convention (weight of the new batch statistic).

    Example:
        >>> BatchNorm(momentum=0.01).momentum
        0.01
    """

    momentum: float = 0.1
    kind: ClassVar[str] = "batch_norm"

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(
            self, "momentum", _check_float("momentum", self.momentum, 0.0, 1.0, closed_high=True)
        )


#: ``axes`` of a layer norm: normalise over the channels only, or channels and space.
LAYER_NORM_AXES = ("channels", "all")


@dataclass(frozen=True)
class LayerNorm(_Norm):
    """Layer normalisation per sample over ``axes``: ``"channels"`` (Keras' default,
    one scale per channel) or ``"all"`` (channels and spatial axes, one scale per
    element: PyTorch's ``LayerNorm([C, H, W])``).

    Example:
        >>> LayerNorm(axes="all").axes
        'all'
    """

    axes: str = "channels"
    kind: ClassVar[str] = "layer_norm"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.axes not in LAYER_NORM_AXES:
            raise SpecError(f"axes={_fmt(self.axes)} must be 'channels' or 'all'")


@dataclass(frozen=True)
class GroupNorm(_Norm):
    """Group normalisation: channels split into ``groups``, each normalised per sample
    over its channels and the spatial axes.

    Example:
        >>> GroupNorm(groups=2).groups
        2
    """

    groups: int = 0
    kind: ClassVar[str] = "group_norm"

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_int("groups", self.groups, 1)


@dataclass(frozen=True)
class _Pool(Layer):
    """Fields shared by max and average pooling (``strides`` defaults to ``pool_size``)."""

    pool_size: IntOrInts = 2
    strides: IntOrInts | None = None
    padding: Padding = "valid"
    ceil_mode: bool = False

    spatial_fields: ClassVar[tuple[str, ...]] = ("pool_size", "strides")
    min_rank: ClassVar[int] = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "pool_size", _check_ints("pool_size", self.pool_size, 1))
        strides = self.pool_size if self.strides is None else self.strides
        object.__setattr__(self, "strides", _check_ints("strides", strides, 1))
        object.__setattr__(self, "padding", _check_padding(self.padding))
        _check_bool("ceil_mode", self.ceil_mode)
        if self.ceil_mode and self.padding == "same":
            raise SpecError("ceil_mode=true needs integer or 'valid' padding, not 'same'")


@dataclass(frozen=True)
class MaxPool(_Pool):
    """Max pooling; padded positions never win (they count as -inf).

    Example:
        >>> MaxPool(pool_size=3, strides=2).resolved(2).strides
        (2, 2)
    """

    kind: ClassVar[str] = "max_pool"


@dataclass(frozen=True)
class AvgPool(_Pool):
    """Average pooling; ``count_include_pad`` says whether padded zeros count in the
    divisor (false: TensorFlow's 'same'; PyTorch's default is true).

    Example:
        >>> AvgPool(pool_size=2).count_include_pad
        False
    """

    count_include_pad: bool = False
    kind: ClassVar[str] = "avg_pool"

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_bool("count_include_pad", self.count_include_pad)


@dataclass(frozen=True)
class _GlobalPool(Layer):
    keepdims: bool = False
    min_rank: ClassVar[int] = 1

    def __post_init__(self) -> None:
        _check_bool("keepdims", self.keepdims)


@dataclass(frozen=True)
class GlobalAvgPool(_GlobalPool):
    """Mean over all spatial axes (kept as size-1 axes when ``keepdims``).

    Example:
        >>> GlobalAvgPool().keepdims
        False
    """

    kind: ClassVar[str] = "global_avg_pool"


@dataclass(frozen=True)
class GlobalMaxPool(_GlobalPool):
    """Maximum over all spatial axes (kept as size-1 axes when ``keepdims``).

    Example:
        >>> GlobalMaxPool(keepdims=True).keepdims
        True
    """

    kind: ClassVar[str] = "global_max_pool"


@dataclass(frozen=True)
class Dropout(Layer):
    """Inverted dropout of ``rate`` in [0, 1): the identity in inference.

    Example:
        >>> Dropout(rate=0.5).rate
        0.5
    """

    rate: float = 0.5
    kind: ClassVar[str] = "dropout"

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "rate", _check_float("rate", self.rate, 0.0, 1.0, closed_high=False)
        )


@dataclass(frozen=True)
class Activation(Layer):
    """An element-wise (softmax: channel-wise) activation as a layer of its own.

    Example:
        >>> Activation(activation="leaky_relu").negative_slope
        0.01
    """

    activation: str = "relu"
    negative_slope: float = 0.01
    alpha: float = 1.0
    kind: ClassVar[str] = "activation"

    def __post_init__(self) -> None:
        object.__setattr__(self, "activation", check_activation("activation", self.activation))
        slope = _check_float("negative_slope", self.negative_slope, 0.0, 1e6, closed_high=True)
        alpha = _check_float("alpha", self.alpha, 0.0, 1e6, closed_high=True)
        object.__setattr__(self, "negative_slope", slope)
        object.__setattr__(self, "alpha", alpha)


#: PyTorch spellings accepted for one kind only (``kernel_size`` means ``pool_size``
#: for a pool, but is a conv's own field).
KIND_ALIASES: dict[str, dict[str, str]] = {
    "max_pool": {"kernel_size": "pool_size"},
    "avg_pool": {"kernel_size": "pool_size"},
    "dropout": {"p": "rate"},
}

LAYER_KINDS: dict[str, type[Layer]] = {
    cls.kind: cls
    for cls in (
        BatchNorm,
        LayerNorm,
        GroupNorm,
        MaxPool,
        AvgPool,
        GlobalAvgPool,
        GlobalMaxPool,
        Dropout,
        Activation,
    )
}
