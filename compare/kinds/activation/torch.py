"""PyTorch builder and defaults of the ``activation`` kind, and the module that follows
a conv or dense layer carrying an ``activation`` (``Layer.post_activation``):
PyTorch layers carry none, so it is a module of its own.

Example:
    >>> activation_module("leaky_relu", 0.2)
    LeakyReLU(negative_slope=0.2)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from torch import nn

from compare.adapters.base import Built, Made
from compare.core.registry import register_part
from compare.defaults import signature_default
from compare.formulas import LayerFormula
from compare.kinds.activation.spec import Activation
from compare.spec import Layer

__all__ = [
    "ACTIVATION_MODULES",
    "activation_defaults",
    "activation_module",
    "build_activation",
    "with_activation",
]

#: canonical activation -> module factory (negative_slope, alpha)
ACTIVATION_MODULES: dict[str, Callable[[float, float], nn.Module]] = {
    "linear": lambda slope, alpha: nn.Identity(),
    "relu": lambda slope, alpha: nn.ReLU(),
    "relu6": lambda slope, alpha: nn.ReLU6(),
    "sigmoid": lambda slope, alpha: nn.Sigmoid(),
    "tanh": lambda slope, alpha: nn.Tanh(),
    "gelu": lambda slope, alpha: nn.GELU(approximate="none"),
    "gelu_tanh": lambda slope, alpha: nn.GELU(approximate="tanh"),
    "softmax": lambda slope, alpha: nn.Softmax(dim=1),
    "elu": lambda slope, alpha: nn.ELU(alpha=alpha),
    "selu": lambda slope, alpha: nn.SELU(),
    "leaky_relu": lambda slope, alpha: nn.LeakyReLU(negative_slope=slope),
    "silu": lambda slope, alpha: nn.SiLU(),
    "softplus": lambda slope, alpha: nn.Softplus(),
    "hard_sigmoid": lambda slope, alpha: nn.Hardsigmoid(),
    "hard_swish": lambda slope, alpha: nn.Hardswish(),
    "mish": lambda slope, alpha: nn.Mish(),
    "log_softmax": lambda slope, alpha: nn.LogSoftmax(dim=1),
}

_sig = signature_default


def _softmax_axis_of(cls: Any) -> Any:
    dim = _sig(cls, "dim")
    return "implicit (deprecated)" if dim is None else dim


def _softmax_axis() -> dict[str, Any]:
    return {"axis": _softmax_axis_of(nn.Softmax)}


#: activation -> its parameters' defaults, read from the signature of the module
_PARAMETER_DEFAULTS: dict[str, Callable[[], dict[str, Any]]] = {
    "leaky_relu": lambda: {"negative_slope": _sig(nn.LeakyReLU, "negative_slope")},
    "elu": lambda: {"alpha": _sig(nn.ELU, "alpha")},
    "gelu": lambda: {"approximate": _sig(nn.GELU, "approximate") != "none"},
    "gelu_tanh": lambda: {"approximate": _sig(nn.GELU, "approximate") != "none"},
    "softmax": _softmax_axis,
    "log_softmax": lambda: {"axis": _softmax_axis_of(nn.LogSoftmax)},
}


def activation_module(name: str, negative_slope: float = 0.01, alpha: float = 1.0) -> nn.Module:
    """The ``nn`` module computing a canonical activation (softmax over dim 1, channels).

    Example:
        >>> activation_module("gelu_tanh")
        GELU(approximate='tanh')
    """
    return ACTIVATION_MODULES[name](negative_slope, alpha)


@register_part("torch", "build", "activation")
def build_activation(layer: Activation, formula: LayerFormula) -> Made:
    """The activation's module.

    Example:
        >>> build_activation(Activation(activation="relu"), None)
        (ReLU(), {}, ())
    """
    return activation_module(layer.activation, layer.negative_slope, layer.alpha), {}, ()


@register_part("torch", "defaults", "activation")
def activation_defaults(layer: Activation, formula: LayerFormula) -> dict[str, Any]:
    """The defaults of the activation's own parameters, in the spec's terms.

    Example:
        >>> activation_defaults(Activation(activation="elu"), None)
        {'alpha': 1.0}
    """
    read = _PARAMETER_DEFAULTS.get(layer.activation)
    return read() if read is not None else {}


@register_part("torch", "post_activation", "activation")
def with_activation(built: Built, layer: Layer, dtype: str) -> Built:
    """``built`` followed by the module of ``layer.activation`` (unchanged if 'linear'),
    which a Keras layer would carry inside.

    Example:
        >>> from compare.spec import Dense
        >>> b = Built("torch", nn.Linear(2, 2), ("Linear",))
        >>> with_activation(b, Dense(units=2, activation="relu"), "float32").classes
        ('Linear', 'ReLU')
    """
    name = getattr(layer, "activation", "linear")
    if name == "linear":
        return built
    module: nn.Module = built.obj
    parts = list(module) if isinstance(module, nn.Sequential) else [module]
    act = activation_module(name)
    note = (
        f"PyTorch layers carry no activation: nn.{type(act).__name__} follows as a module "
        f"of its own (Keras keeps activation='{name}' inside the layer)"
    )
    return dataclasses.replace(
        built,
        obj=nn.Sequential(*parts, act),
        classes=(*built.classes, type(act).__name__),
        notes=(*built.notes, ("activation", note)),
    )
