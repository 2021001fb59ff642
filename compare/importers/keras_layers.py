"""Keras mappers for the normalisation, pooling, dropout and activation kinds, and the
``activation=`` a Keras conv or dense layer carries inside.

Registered into ``compare.importers.keras.LAYERS``. Each mapper reads the layer's own
attributes into the spec's conventions (Keras' batch-norm ``momentum`` is one minus the
spec's; softmax must act on the channels, the last axis) and raises ``Refuse`` with the
reason where the spec cannot say what the layer computes. Only public Keras API.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import keras

from compare.importers.base import Piece, Refuse
from compare.spec_layers import (
    Activation,
    AvgPool,
    BatchNorm,
    Dropout,
    GlobalAvgPool,
    GlobalMaxPool,
    GroupNorm,
    LayerNorm,
    MaxPool,
)

__all__ = ["LAYERS", "activation_spec", "fuse_activation"]

L = keras.layers


def _channels_last(layer: Any) -> None:
    fmt = getattr(layer, "data_format", "channels_last")
    if fmt != "channels_last":
        raise Refuse(f"data_format={fmt!r}; compare reads channels_last Keras models")


def _roles(layer: Any, **names: str) -> dict[str, Any]:
    return {
        role: (layer, attr, None)
        for role, attr in names.items()
        if getattr(layer, attr, None) is not None
    }


def _last_axis(layer: Any, piece: Piece, what: str) -> None:
    axis = layer.axis
    axes = list(axis) if isinstance(axis, list | tuple) else [axis]
    n = piece.in_shape.rank + 2
    if [int(a) % n for a in axes] != [n - 1]:
        raise Refuse(f"axis={axis}; the spec's {what} normalises the channels (axis=-1)")


def _batch_norm(layer: Any, piece: Piece) -> Piece:
    _last_axis(layer, piece, "batch norm")
    if getattr(layer, "renorm", False):
        raise Refuse("renorm=True (batch renormalisation) has no spec")
    spec = BatchNorm(
        momentum=round(1.0 - float(layer.momentum), 12),
        epsilon=float(layer.epsilon),
        center=bool(layer.center),
        scale=bool(layer.scale),
    )
    roles = _roles(
        layer,
        gamma="gamma",
        beta="beta",
        moving_mean="moving_mean",
        moving_variance="moving_variance",
    )
    return replace(piece, layer=spec, roles=roles)


def _layer_norm(layer: Any, piece: Piece) -> Piece:
    if getattr(layer, "rms_scaling", False):
        raise Refuse("rms_scaling=True (an RMS norm) has no spec")
    axis, rank = layer.axis, piece.in_shape.rank
    listed = axis if isinstance(axis, list | tuple) else [axis]
    axes = sorted(int(a) % (rank + 2) for a in listed)
    if axes == [rank + 1]:
        name = "channels"
    elif axes == list(range(1, rank + 2)):
        name = "all"
    else:
        raise Refuse(f"axis={axis}; the spec normalises the channels or all non-batch axes")
    spec = LayerNorm(
        axes=name, epsilon=float(layer.epsilon), center=bool(layer.center), scale=bool(layer.scale)
    )
    return replace(piece, layer=spec, roles=_roles(layer, gamma="gamma", beta="beta"))


def _group_norm(layer: Any, piece: Piece) -> Piece:
    _last_axis(layer, piece, "group norm")
    spec = GroupNorm(
        groups=int(layer.groups),
        epsilon=float(layer.epsilon),
        center=bool(layer.center),
        scale=bool(layer.scale),
    )
    return replace(piece, layer=spec, roles=_roles(layer, gamma="gamma", beta="beta"))


def _pool(kind: type) -> Callable[[Any, Piece], Piece]:
    def mapper(layer: Any, piece: Piece) -> Piece:
        _channels_last(layer)
        if layer.padding not in ("valid", "same"):
            raise Refuse(f"padding={layer.padding!r}; Keras pools pad 'valid' or 'same'")
        spec = kind(
            pool_size=tuple(layer.pool_size),
            strides=tuple(layer.strides),
            padding=str(layer.padding),
        )
        return replace(piece, layer=spec)

    return mapper


def _global_pool(kind: type) -> Callable[[Any, Piece], Piece]:
    def mapper(layer: Any, piece: Piece) -> Piece:
        _channels_last(layer)
        return replace(piece, layer=kind(keepdims=bool(layer.keepdims)))

    return mapper


def _dropout(layer: Any, piece: Piece) -> Piece:
    if getattr(layer, "noise_shape", None) is not None:
        raise Refuse(f"noise_shape={layer.noise_shape}; the spec's dropout drops elements")
    return replace(piece, layer=Dropout(rate=float(layer.rate)))


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


def _softmax_spec(params: dict[str, Any]) -> Activation:
    axis = params.get("axis", -1)
    if axis not in (-1, [-1], (-1,)):
        raise Refuse(f"softmax over axis={axis}; the spec's softmax acts on the channels (-1)")
    return Activation(activation="softmax")


def _plain(name: str, params: dict[str, Any]) -> Activation:
    return Activation(activation=name)


#: keras.activations function name -> its spec from the merged keyword arguments
_FUNCTIONS: dict[str, Callable[[dict[str, Any]], Activation]] = {
    "relu": _relu_spec,
    "softmax": _softmax_spec,
    "gelu": lambda p: Activation(activation="gelu_tanh" if p.get("approximate") else "gelu"),
    "elu": lambda p: Activation(activation="elu", alpha=float(p.get("alpha", 1.0))),
    "leaky_relu": lambda p: Activation(
        activation="leaky_relu", negative_slope=float(p.get("negative_slope", 0.2))
    ),
    **{
        name: functools.partial(_plain, name)
        for name in ("linear", "relu6", "sigmoid", "tanh", "selu", "silu", "softplus")
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


def _activation(layer: Any, piece: Piece) -> Piece:
    return replace(piece, layer=_ACTIVATION_LAYERS[type(layer)](layer))


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


#: layer class -> mapper, merged into ``compare.importers.keras.LAYERS``
LAYERS: dict[type, Callable[[Any, Piece], Piece]] = {
    L.BatchNormalization: _batch_norm,
    L.LayerNormalization: _layer_norm,
    L.GroupNormalization: _group_norm,
    **dict.fromkeys((L.MaxPooling1D, L.MaxPooling2D, L.MaxPooling3D), _pool(MaxPool)),
    **dict.fromkeys((L.AveragePooling1D, L.AveragePooling2D, L.AveragePooling3D), _pool(AvgPool)),
    **dict.fromkeys(
        (L.GlobalAveragePooling1D, L.GlobalAveragePooling2D, L.GlobalAveragePooling3D),
        _global_pool(GlobalAvgPool),
    ),
    **dict.fromkeys(
        (L.GlobalMaxPooling1D, L.GlobalMaxPooling2D, L.GlobalMaxPooling3D),
        _global_pool(GlobalMaxPool),
    ),
    L.Dropout: _dropout,
    **dict.fromkeys(_ACTIVATION_LAYERS, _activation),
}
