"""What the torch importer maps to the activation kind: the activation modules
(``nn.ReLU``, ``nn.GELU`` ...) and functions or tensor methods (``F.relu``,
``torch.tanh``, ``x.relu()`` ...), read into the spec's conventions (softmax over the
channels, softplus with beta 1); ``Refuse`` names what the spec cannot say.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import torch
from torch import fx, nn
from torch.nn import functional as F

from compare.core.registry import register_part
from compare.importers.base import Piece, Refuse
from compare.importers.torch import arg
from compare.kinds.activation.spec import Activation

__all__ = ["ACTIVATIONS"]

Mapper = Callable[[Any, Piece], Piece]


def _act(name: str, **params: Any) -> Activation:
    return Activation(activation=name, **params)


def _softmax_dim(dim: Any, piece: Piece, name: str = "softmax") -> Activation:
    n = piece.in_shape.rank + 2
    if dim is None or int(dim) % n != 1:
        raise Refuse(f"{name} over dim={dim}; the spec's {name} acts on the channels (dim=1)")
    return _act(name)


def _softplus(beta: float, threshold: float) -> Activation:
    if beta != 1:
        raise Refuse(f"beta={beta}; the spec's softplus is log(1 + exp(x)) (beta=1)")
    return _act("softplus")


def _relu6(module: Any, piece: Piece) -> Activation:
    return _act("relu6")


#: activation module class -> its spec, read from the module
ACTIVATIONS: dict[type[nn.Module], Callable[[Any, Piece], Activation]] = {
    nn.ReLU: lambda m, p: _act("relu"),
    nn.ReLU6: _relu6,
    nn.Sigmoid: lambda m, p: _act("sigmoid"),
    nn.Tanh: lambda m, p: _act("tanh"),
    nn.GELU: lambda m, p: _act("gelu_tanh" if m.approximate == "tanh" else "gelu"),
    nn.Softmax: lambda m, p: _softmax_dim(m.dim, p),
    nn.ELU: lambda m, p: _act("elu", alpha=float(m.alpha)),
    nn.SELU: lambda m, p: _act("selu"),
    nn.LeakyReLU: lambda m, p: _act("leaky_relu", negative_slope=float(m.negative_slope)),
    nn.SiLU: lambda m, p: _act("silu"),
    nn.Softplus: lambda m, p: _softplus(float(m.beta), float(m.threshold)),
    nn.Hardsigmoid: lambda m, p: _act("hard_sigmoid"),
    nn.Hardswish: lambda m, p: _act("hard_swish"),
    nn.Mish: lambda m, p: _act("mish"),
    nn.LogSoftmax: lambda m, p: _softmax_dim(m.dim, p, "log_softmax"),
}


@register_part("torch", "module", *ACTIVATIONS)
def _activation(module: Any, piece: Piece) -> Piece:
    return replace(piece, layer=ACTIVATIONS[type(module)](module, piece))


# -- functional forms (torch.fx call_function / call_method) ----------------------------


def _fn(make: Callable[[fx.Node, Piece], Activation]) -> Mapper:
    def mapper(node: Any, piece: Piece) -> Piece:
        return replace(piece, layer=make(node, piece))

    return mapper


def _fn_leaky(node: fx.Node, piece: Piece) -> Activation:
    return _act("leaky_relu", negative_slope=float(arg(node, 0, "negative_slope", 0.01)))


def _fn_gelu(node: fx.Node, piece: Piece) -> Activation:
    return _act("gelu_tanh" if arg(node, 0, "approximate", "none") == "tanh" else "gelu")


def _plain(name: str, node: fx.Node, piece: Piece) -> Activation:
    return _act(name)


_SIMPLE = {
    "relu": (F.relu, torch.relu, "relu", "relu_"),
    "relu6": (F.relu6,),
    "sigmoid": (torch.sigmoid, F.sigmoid, "sigmoid"),
    "tanh": (torch.tanh, F.tanh, "tanh"),
    "selu": (F.selu, torch.selu),
    "silu": (F.silu,),
    "hard_sigmoid": (F.hardsigmoid,),
    "hard_swish": (F.hardswish,),
    "mish": (F.mish,),
}

for _name, _keys in _SIMPLE.items():
    register_part("torch", "function", *_keys)(_fn(functools.partial(_plain, _name)))
register_part("torch", "function", F.gelu)(_fn(_fn_gelu))
register_part("torch", "function", F.leaky_relu)(_fn(_fn_leaky))
register_part("torch", "function", F.elu)(
    _fn(lambda n, p: _act("elu", alpha=float(arg(n, 0, "alpha", 1.0))))
)
register_part("torch", "function", F.softmax, torch.softmax, "softmax")(
    _fn(lambda n, p: _softmax_dim(arg(n, 0, "dim", None), p))
)
register_part("torch", "function", F.log_softmax, torch.log_softmax, "log_softmax")(
    _fn(lambda n, p: _softmax_dim(arg(n, 0, "dim", None), p, "log_softmax"))
)
register_part("torch", "function", F.softplus)(
    _fn(lambda n, p: _softplus(float(arg(n, 0, "beta", 1.0)), float(arg(n, 1, "threshold", 20))))
)
