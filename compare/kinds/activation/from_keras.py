"""What the Keras importer maps to the activation kind: the activation layers
(``Activation``, ``ReLU``, ``LeakyReLU``, ``Softmax``, ``ELU``) and the ``activation=``
a Keras conv or dense layer carries inside (a ``refine`` of every mapped layer).

Softmax must act on the channels, the last axis; ``Refuse`` names what the spec cannot
say. Only public Keras API.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import keras

from compare.core.registry import register_part
from compare.importers.base import Piece, Refuse
from compare.kinds.activation.spec import Activation

__all__ = ["activation_spec", "fuse_activation"]

L = keras.layers


def _defaults(fn: Any) -> dict[str, Any]:
    return {
        name: p.default
        for name, p in inspect.signature(fn).parameters.items()
        if p.default is not inspect.Parameter.empty
    }


def _relu_spec(params: dict[str, Any]) -> Activation:
    slope = float(params.get("negative_slope") or 0.0)
    top, threshold = params.get("max_value"), float(params.get("threshold") or 0.0)
    if slope == 0 and threshold == 0 and top is None:
        return Activation(activation="relu")
    if slope == 0 and threshold == 0 and top is not None and float(top) == 6.0:
        return Activation(activation="relu6")
    raise Refuse(
        f"relu with negative_slope={slope}, max_value={top}, threshold={threshold}; the "
        "spec has relu, relu6 and leaky_relu (threshold 0)"
    )


def _softmax_spec(params: dict[str, Any], name: str = "softmax") -> Activation:
    axis = params.get("axis", -1)
    if axis not in (-1, [-1], (-1,)):
        raise Refuse(f"{name} over axis={axis}; the spec's {name} acts on the channels (-1)")
    return Activation(activation=name)


def _plain(name: str, params: dict[str, Any]) -> Activation:
    return Activation(activation=name)


#: keras.activations function name -> its spec from the merged keyword arguments
_FUNCTIONS: dict[str, Callable[[dict[str, Any]], Activation]] = {
    "relu": _relu_spec,
    "softmax": _softmax_spec,
    "log_softmax": lambda p: _softmax_spec(p, "log_softmax"),
    "hard_silu": lambda p: Activation(activation="hard_swish"),
    "gelu": lambda p: Activation(activation="gelu_tanh" if p.get("approximate") else "gelu"),
    "elu": lambda p: Activation(activation="elu", alpha=float(p.get("alpha", 1.0))),
    "leaky_relu": lambda p: Activation(
        activation="leaky_relu", negative_slope=float(p.get("negative_slope", 0.2))
    ),
    **{
        name: functools.partial(_plain, name)
        for name in (
            "linear",
            "relu6",
            "sigmoid",
            "tanh",
            "selu",
            "silu",
            "softplus",
            "hard_sigmoid",
            "mish",
        )
    },
}


def activation_spec(fn: Any) -> Activation:
    """The spec of a Keras activation callable (a ``keras.activations`` function, maybe
    bound with ``functools.partial``); ``Refuse`` when the spec has no such activation.

    Example:
        >>> activation_spec(functools.partial(keras.activations.leaky_relu,
        ...                                   negative_slope=0.1)).negative_slope
        0.1
    """
    params: dict[str, Any] = {}
    while isinstance(fn, functools.partial):
        params = {**fn.keywords, **params}
        fn = fn.func
    name = getattr(fn, "__name__", type(fn).__name__)
    if getattr(keras.activations, name, None) is not fn or name not in _FUNCTIONS:
        raise Refuse(f"activation {name!r} is not one of keras.activations the spec has")
    return _FUNCTIONS[name]({**_defaults(fn), **params})


#: activation layer class -> its spec, read from the layer
_ACTIVATION_LAYERS: dict[type, Callable[[Any], Activation]] = {
    L.Activation: lambda layer: activation_spec(layer.activation),
    L.ReLU: lambda layer: _relu_spec(
        {
            "negative_slope": layer.negative_slope,
            "max_value": layer.max_value,
            "threshold": layer.threshold,
        }
    ),
    L.LeakyReLU: lambda layer: Activation(
        activation="leaky_relu", negative_slope=float(layer.negative_slope)
    ),
    L.Softmax: lambda layer: _softmax_spec({"axis": layer.axis}),
    L.ELU: lambda layer: Activation(activation="elu", alpha=float(layer.alpha)),
}


@register_part("keras", "layer", *_ACTIVATION_LAYERS)
def _activation(layer: Any, piece: Piece) -> Piece:
    if isinstance(layer, L.ReLU) and hard_sigmoid_chain(layer) is not None:
        return replace(piece, layer=Activation(activation="hard_sigmoid"))
    return replace(piece, layer=_ACTIVATION_LAYERS[type(layer)](layer))


def _op_class(call: Any) -> type:
    """The class of the operation ``call(x, 1.0)`` records on a symbolic tensor."""
    return type(call(keras.KerasTensor((None, 2)), 1.0)._keras_history.operation)


_ADD, _MULTIPLY = _op_class(keras.ops.add), _op_class(keras.ops.multiply)
#: ``x / 6`` records ``true_divide``; ``keras.ops.divide`` its own class
_DIVIDE = (_op_class(keras.ops.divide), _op_class(keras.ops.true_divide))


def _constant(op: Any) -> tuple[float, bool] | None:
    """(the number, whether it comes first) of a binary operation on one tensor of the
    model and one number, called once; else None."""
    nodes = getattr(op, "_inbound_nodes", [])
    if len(nodes) != 1 or nodes[0].arguments.kwargs or len(nodes[0].arguments.args) != 2:
        return None
    a, b = nodes[0].arguments.args
    for number, tensor, first in ((a, b, True), (b, a, False)):
        if (
            isinstance(number, int | float)
            and not isinstance(number, bool)
            and isinstance(tensor, keras.KerasTensor)
        ):
            return float(number), first
    return None


def _after(op: Any) -> Any:
    """The one operation that reads ``op``'s one output, or None."""
    outs = getattr(op, "_outbound_nodes", [])
    return outs[0].operation if len(outs) == 1 and len(op._inbound_nodes) == 1 else None


def _before(op: Any) -> Any:
    """The operation whose output ``op`` reads, when it reads one tensor once, or None."""
    nodes = getattr(op, "_inbound_nodes", [])
    if len(nodes) != 1 or len(nodes[0].input_tensors) != 1:
        return None
    return nodes[0].input_tensors[0]._keras_history.operation


def hard_sigmoid_chain(op: Any) -> tuple[Any, Any, Any] | None:
    """The three operations of ``relu6(x + 3) / 6`` written with constants (Keras'
    MobileNetV3: ``layers.ReLU(6.0)(x + 3.0) * (1.0 / 6.0)``), given any one of them:
    ``keras.ops.add`` with 3, ``ReLU(max_value=6)``, then a multiply by 1/6 or a divide
    by 6, each the only reader of the one before; else None.

    Example:
        >>> x = keras.Input((4,))
        >>> y = keras.layers.ReLU(6.0)(x + 3.0) * (1.0 / 6.0)
        >>> [type(o).__name__ for o in hard_sigmoid_chain(y._keras_history.operation)]
        ['Add', 'ReLU', 'Multiply']
    """
    if isinstance(op, _ADD):
        relu = _after(op)
        chain = (op, relu, _after(relu) if relu is not None else None)
    elif isinstance(op, L.ReLU):
        chain = (_before(op), op, _after(op))
    elif isinstance(op, (_MULTIPLY, *_DIVIDE)):
        relu = _before(op)
        chain = (_before(relu) if relu is not None else None, relu, op)
    else:
        return None
    add, relu, scale = chain
    if not (isinstance(add, _ADD) and isinstance(relu, L.ReLU) and _after(add) is relu):
        return None
    if not (isinstance(scale, (_MULTIPLY, *_DIVIDE)) and _after(relu) is scale):
        return None
    if (relu.max_value, relu.negative_slope, relu.threshold) != (6.0, 0.0, 0.0):
        return None
    three, by = _constant(add), _constant(scale)
    if three is None or three[0] != 3.0 or by is None:
        return None
    if isinstance(scale, _DIVIDE):
        return chain if by == (6.0, False) else None
    return chain if abs(by[0] - 1.0 / 6.0) <= 1e-7 else None


@register_part("keras", "constant_op", "hard_sigmoid")
def _hard_sigmoid_constant(op: Any, piece: Piece) -> Piece | None:
    """The add and the scale of ``relu6(x + 3) / 6`` compute nothing of their own: the
    ReLU between them reads as the hard sigmoid."""
    if hard_sigmoid_chain(op) is None:
        return None
    return replace(piece, layer=None)


@register_part("keras", "layer", *_DIVIDE)
def _divide(op: Any, piece: Piece) -> Piece:
    """A division is read only as the end of ``relu6(x + 3) / 6``."""
    if hard_sigmoid_chain(op) is None:
        raise Refuse(
            "a division, read only as the end of relu6(x + 3) / 6 (a hard sigmoid); the "
            "spec has no division of its own"
        )
    return replace(piece, layer=None)


@register_part("keras", "refine", "activation")
def fuse_activation(layer: Any, piece: Piece) -> Piece:
    """Give ``piece``'s conv or dense spec the ``activation=`` the Keras layer carries.

    The spec's field names the activation only, so a fused leaky_relu or elu must have
    the spec's defaults (negative_slope 0.01, alpha 1.0); anything else is refused.

    Example:
        >>> from compare.formulas import Shape
        >>> from compare.spec import Dense
        >>> p = Piece("d", "Dense", Shape(3), Shape(2), layer=Dense(units=2))
        >>> fuse_activation(keras.layers.Dense(2, activation="tanh"), p).layer.activation
        'tanh'
    """
    spec = piece.layer
    fn = getattr(layer, "activation", None)
    if spec is None or not spec.post_activation or fn is None:
        return piece
    act = activation_spec(fn)
    if act.activation == "linear":
        return piece
    if act != Activation(activation=act.activation):
        raise Refuse(
            f"activation={act.activation!r} is fused with negative_slope={act.negative_slope}, "
            f"alpha={act.alpha}; the spec's activation field carries the defaults only "
            "(leaky_relu 0.01, elu 1.0): use a separate activation layer"
        )
    return replace(piece, layer=replace(spec, activation=act.activation))  # type: ignore[call-arg]
