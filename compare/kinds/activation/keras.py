"""Keras builder and defaults of the ``activation`` kind, and the ``activation`` a conv
or dense layer carries inside (``Layer.post_activation``).

Example:
    >>> activation_function("gelu").keywords
    {'approximate': False}
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from compare.adapters._keras_import import keras
from compare.adapters.base import Built, Made, Notes
from compare.core.registry import register_part
from compare.defaults import signature_default
from compare.formulas import LayerFormula
from compare.kinds.activation.spec import Activation
from compare.spec import Layer

__all__ = [
    "ACTIVATION_FUNCTIONS",
    "ACTIVATION_LAYERS",
    "FLOAT64_LIMITS",
    "activation_defaults",
    "activation_function",
    "activation_layer",
    "build_activation",
    "carry_activation",
    "precision_notes",
]

L = keras.layers
A = keras.activations

#: canonical activation -> keras.activations function (parameters bound explicitly)
ACTIVATION_FUNCTIONS: dict[str, Callable[[float, float], Any]] = {
    "linear": lambda slope, alpha: A.linear,
    "relu": lambda slope, alpha: A.relu,
    "relu6": lambda slope, alpha: A.relu6,
    "sigmoid": lambda slope, alpha: A.sigmoid,
    "tanh": lambda slope, alpha: A.tanh,
    "gelu": lambda slope, alpha: functools.partial(A.gelu, approximate=False),
    "gelu_tanh": lambda slope, alpha: functools.partial(A.gelu, approximate=True),
    "softmax": lambda slope, alpha: functools.partial(A.softmax, axis=-1),
    "elu": lambda slope, alpha: functools.partial(A.elu, alpha=alpha),
    "selu": lambda slope, alpha: A.selu,
    "leaky_relu": lambda slope, alpha: functools.partial(A.leaky_relu, negative_slope=slope),
    "silu": lambda slope, alpha: A.silu,
    "softplus": lambda slope, alpha: A.softplus,
    "hard_sigmoid": lambda slope, alpha: A.hard_sigmoid,
    "hard_swish": lambda slope, alpha: A.hard_silu,
    "mish": lambda slope, alpha: A.mish,
    "log_softmax": lambda slope, alpha: functools.partial(A.log_softmax, axis=-1),
}

#: activations with a layer class of their own (the rest use ``Activation(fn)``)
ACTIVATION_LAYERS: dict[str, Callable[..., Any]] = {
    "relu": lambda slope, alpha, **kw: L.ReLU(**kw),
    "softmax": lambda slope, alpha, **kw: L.Softmax(axis=-1, **kw),
    "elu": lambda slope, alpha, **kw: L.ELU(alpha=alpha, **kw),
    "leaky_relu": lambda slope, alpha, **kw: L.LeakyReLU(negative_slope=slope, **kw),
}

#: activations TensorFlow computes below float64 precision, and why
FLOAT64_LIMITS = {
    "leaky_relu": "tf.nn.leaky_relu holds negative_slope as a float32 attribute",
    "gelu": "TensorFlow's erf-form gelu is not exact to float64 precision",
}

_sig = signature_default


def _softmax_axis() -> dict[str, Any]:
    axis = _sig(L.Softmax, "axis")
    return {"axis": "channels" if axis == -1 else axis}


#: activation -> its parameters' defaults, read from the signature of the layer or function
_PARAMETER_DEFAULTS: dict[str, Callable[[], dict[str, Any]]] = {
    "leaky_relu": lambda: {"negative_slope": _sig(L.LeakyReLU, "negative_slope")},
    "elu": lambda: {"alpha": _sig(L.ELU, "alpha")},
    "gelu": lambda: {"approximate": _sig(A.gelu, "approximate")},
    "gelu_tanh": lambda: {"approximate": _sig(A.gelu, "approximate")},
    "softmax": _softmax_axis,
    "log_softmax": lambda: {
        "axis": "channels" if _sig(A.log_softmax, "axis") == -1 else _sig(A.log_softmax, "axis")
    },
}


def activation_function(name: str, negative_slope: float = 0.01, alpha: float = 1.0) -> Any:
    """The Keras activation callable for a canonical name (softmax over the last axis).

    Example:
        >>> activation_function("leaky_relu", 0.2).keywords
        {'negative_slope': 0.2}
    """
    return ACTIVATION_FUNCTIONS[name](negative_slope, alpha)


def activation_layer(
    name: str, negative_slope: float, alpha: float, layer_name: str, dtype: str
) -> Any:
    """A Keras layer computing a canonical activation.

    Example:
        >>> type(activation_layer("leaky_relu", 0.01, 1.0, "a", "float32")).__name__
        'LeakyReLU'
    """
    kw = {"name": layer_name, "dtype": dtype}
    if name in ACTIVATION_LAYERS:
        return ACTIVATION_LAYERS[name](negative_slope, alpha, **kw)
    return L.Activation(activation_function(name, negative_slope, alpha), **kw)


def precision_notes(activation: str, dtype: str) -> Notes:
    """A note when TensorFlow computes ``activation`` below ``dtype``'s precision.

    Example:
        >>> precision_notes("leaky_relu", "float64")[0][0]
        'precision'
        >>> precision_notes("leaky_relu", "float32")
        ()
    """
    if dtype != "float64" or activation not in FLOAT64_LIMITS:
        return ()
    text = (
        f"{FLOAT64_LIMITS[activation]}: in float64 its outputs differ from PyTorch's by "
        "about float32 rounding, above the float64 parity tolerance"
    )
    return (("precision", text),)


@register_part("keras", "build", "activation")
def build_activation(layer: Activation, formula: LayerFormula, name: str, dtype: str) -> Made:
    """The activation's layer, with a note when float64 is beyond TensorFlow's precision.

    Example:
        >>> made = build_activation(Activation(activation="gelu"), None, "a", "float64")
        >>> type(made[0][0]).__name__, made[2][0][0]
        ('Activation', 'precision')
    """
    act = activation_layer(layer.activation, layer.negative_slope, layer.alpha, name, dtype)
    return [act], {}, precision_notes(layer.activation, dtype)


@register_part("keras", "defaults", "activation")
def activation_defaults(layer: Activation, formula: LayerFormula) -> dict[str, Any]:
    """The defaults of the activation's own parameters, in the spec's terms.

    Example:
        >>> activation_defaults(Activation(activation="softmax"), None)
        {'axis': 'channels'}
    """
    read = _PARAMETER_DEFAULTS.get(layer.activation)
    return read() if read is not None else {}


@register_part("keras", "post_activation", "activation")
def carry_activation(built: Built, layer: Layer, dtype: str) -> Built:
    """Give ``built`` the ``activation`` of ``layer`` (nothing for 'linear'): the last of
    its layers that holds a weight applies it inside, as a Keras layer does.

    Example:
        >>> from compare.spec import Dense
        >>> dense = L.Dense(2)
        >>> b = Built("keras", [dense], ("Dense",), {"kernel": (dense, "kernel", None)})
        >>> carry_activation(b, Dense(units=2, activation="relu"), "float32").notes[-1][1]
        "Dense(activation='relu') applies it inside the layer"
        >>> dense.activation is A.relu
        True
    """
    name = getattr(layer, "activation", "linear")
    if name == "linear":
        return built
    owners = {id(ref[0]) for ref in built.roles.values()}
    owner = [part for part in built.obj if id(part) in owners][-1]
    owner.activation = activation_function(name)
    text = f"{type(owner).__name__}(activation='{name}') applies it inside the layer"
    built.notes = (*built.notes, ("activation", text), *precision_notes(name, dtype))
    return built
