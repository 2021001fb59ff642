"""Keras builders for the normalisation, pooling, dropout and activation kinds.

Registered into ``KerasAdapter`` by kind. The spec's conventions are translated
here: ``momentum`` becomes ``1 - momentum``; a layer norm over all axes normalises
``axis=[1, ..., rank + 1]``. Where Keras cannot express a spec (integer padding of
a max pool other than 'same', an average that excludes explicit padding, PyTorch's
``ceil_mode``), the builder raises ``Unsupported`` with the reason.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import keras

from compare.adapters.base import Notes, Unsupported
from compare.defaults import signature_default
from compare.formulas import LayerFormula, same_pads
from compare.spec import Layer
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
    _Pool,
)

__all__ = ["LAYER_BUILDERS", "activation_function", "activation_layer"]

L = keras.layers
A = keras.activations
_MAX_POOL = {1: L.MaxPooling1D, 2: L.MaxPooling2D, 3: L.MaxPooling3D}
_AVG_POOL = {1: L.AveragePooling1D, 2: L.AveragePooling2D, 3: L.AveragePooling3D}
_ZERO_PAD = {1: L.ZeroPadding1D, 2: L.ZeroPadding2D, 3: L.ZeroPadding3D}
_GLOBAL = {
    "global_avg_pool": {
        1: L.GlobalAveragePooling1D,
        2: L.GlobalAveragePooling2D,
        3: L.GlobalAveragePooling3D,
    },
    "global_max_pool": {1: L.GlobalMaxPooling1D, 2: L.GlobalMaxPooling2D, 3: L.GlobalMaxPooling3D},
}

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
}

#: activations with a layer class of their own (the rest use ``Activation(fn)``)
ACTIVATION_LAYERS: dict[str, Callable[..., Any]] = {
    "relu": lambda slope, alpha, **kw: L.ReLU(**kw),
    "softmax": lambda slope, alpha, **kw: L.Softmax(axis=-1, **kw),
    "elu": lambda slope, alpha, **kw: L.ELU(alpha=alpha, **kw),
    "leaky_relu": lambda slope, alpha, **kw: L.LeakyReLU(negative_slope=slope, **kw),
}


def activation_function(name: str, negative_slope: float = 0.01, alpha: float = 1.0) -> Any:
    """The Keras activation callable for a canonical name (softmax over the last axis).

    Example:
        >>> activation_function("gelu").keywords
        {'approximate': False}
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


Built3 = tuple[list[Any], dict[str, Any], Notes]

#: activations TensorFlow computes below float64 precision, and why
FLOAT64_LIMITS = {
    "leaky_relu": "tf.nn.leaky_relu holds negative_slope as a float32 attribute",
    "gelu": "TensorFlow's erf-form gelu is not exact to float64 precision",
}


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


def _batch_norm(layer: BatchNorm, formula: LayerFormula, name: str, dtype: str) -> Built3:
    bn = L.BatchNormalization(
        axis=-1,
        momentum=1.0 - layer.momentum,
        epsilon=layer.epsilon,
        center=layer.center,
        scale=layer.scale,
        name=name,
        dtype=dtype,
    )
    roles = {
        "gamma": (bn, "gamma", None),
        "beta": (bn, "beta", None),
        "moving_mean": (bn, "moving_mean", None),
        "moving_variance": (bn, "moving_variance", None),
    }
    return [bn], roles, ()


def _layer_norm(layer: LayerNorm, formula: LayerFormula, name: str, dtype: str) -> Built3:
    rank = formula.input.rank
    axis: Any = list(range(1, rank + 2)) if layer.axes == "all" and rank else -1
    ln = L.LayerNormalization(
        axis=axis,
        epsilon=layer.epsilon,
        center=layer.center,
        scale=layer.scale,
        name=name,
        dtype=dtype,
    )
    return [ln], {"gamma": (ln, "gamma", None), "beta": (ln, "beta", None)}, ()


def _group_norm(layer: GroupNorm, formula: LayerFormula, name: str, dtype: str) -> Built3:
    gn = L.GroupNormalization(
        groups=layer.groups,
        axis=-1,
        epsilon=layer.epsilon,
        center=layer.center,
        scale=layer.scale,
        name=name,
        dtype=dtype,
    )
    return [gn], {"gamma": (gn, "gamma", None), "beta": (gn, "beta", None)}, ()


def _pool_padding(layer: _Pool, formula: LayerFormula) -> str | None:
    """'valid' or 'same' when Keras' own padding is exactly the spec's, else None."""
    assert formula.pads is not None
    assert isinstance(layer.pool_size, tuple) and isinstance(layer.strides, tuple)
    if layer.ceil_mode:
        raise Unsupported(
            "Keras pooling has no ceil_mode (PyTorch's extra window over the end of the input)"
        )
    if all(a == 0 and b == 0 for a, b in formula.pads):
        return "valid"
    tf_same = tuple(
        same_pads(n, k, s, 1) for n, k, s in zip(formula.input.size, layer.pool_size, layer.strides)
    )
    return "same" if tf_same == formula.pads else None


def _max_pool(layer: MaxPool, formula: LayerFormula, name: str, dtype: str) -> Built3:
    rank = formula.input.rank
    padding = _pool_padding(layer, formula)
    if padding is None:
        raise Unsupported(
            f"Keras pads max pooling only through padding='same' (here {formula.pads} is "
            "not what 'same' pads); ZeroPadding would pad with 0 instead of -inf"
        )
    pool = _MAX_POOL[rank](layer.pool_size, layer.strides, padding=padding, name=name, dtype=dtype)
    notes: Notes = ()
    if padding == "same" and layer.padding != "same":
        notes = (("padding", f"padding={formula.pads} is exactly what padding='same' does here"),)
    return [pool], {}, notes


def _avg_pool(layer: AvgPool, formula: LayerFormula, name: str, dtype: str) -> Built3:
    assert formula.pads is not None
    rank = formula.input.rank
    padding = _pool_padding(layer, formula)
    if padding == "valid" or (padding == "same" and not layer.count_include_pad):
        pool = _AVG_POOL[rank](
            layer.pool_size, layer.strides, padding=padding, name=name, dtype=dtype
        )
        return [pool], {}, ()
    if not layer.count_include_pad:
        raise Unsupported(
            f"Keras averages exclude padding only for padding='same', and {formula.pads} is "
            "not what 'same' pads here; ZeroPadding would count the padded zeros"
        )
    pads: Any = formula.pads[0] if rank == 1 else formula.pads
    pad = _ZERO_PAD[rank](pads, name=f"{name}_pad", dtype=dtype)
    pool = _AVG_POOL[rank](layer.pool_size, layer.strides, padding="valid", name=name, dtype=dtype)
    note = (
        f"padded zeros count in the average: ZeroPadding{rank}D{pads} then padding='valid' "
        "(Keras' own 'same' would exclude them)"
    )
    return [pad, pool], {}, (("padding", note),)


def _global_pool(
    layer: GlobalAvgPool | GlobalMaxPool, formula: LayerFormula, name: str, dtype: str
) -> Built3:
    cls = _GLOBAL[layer.kind][formula.input.rank]
    return [cls(keepdims=layer.keepdims, name=name, dtype=dtype)], {}, ()


def _dropout(layer: Dropout, formula: LayerFormula, name: str, dtype: str) -> Built3:
    return [L.Dropout(layer.rate, name=name, dtype=dtype)], {}, ()


def _activation(layer: Activation, formula: LayerFormula, name: str, dtype: str) -> Built3:
    act = activation_layer(layer.activation, layer.negative_slope, layer.alpha, name, dtype)
    return [act], {}, precision_notes(layer.activation, dtype)


#: spec class -> builder returning (layers, roles, notes)
LAYER_BUILDERS: dict[type[Layer], Callable[..., Built3]] = {
    BatchNorm: _batch_norm,
    LayerNorm: _layer_norm,
    GroupNorm: _group_norm,
    MaxPool: _max_pool,
    AvgPool: _avg_pool,
    GlobalAvgPool: _global_pool,
    GlobalMaxPool: _global_pool,
    Dropout: _dropout,
    Activation: _activation,
}


# -- defaults and initialisers ---------------------------------------------------------

_sig = signature_default


def _as_int(value: Any) -> Any:
    """Keras spells pool sizes as tuples of one repeated int; show the int."""
    if isinstance(value, tuple) and value and len(set(value)) == 1:
        return value[0]
    return value


def _norm_defaults(cls: Any) -> dict[str, Any]:
    return {
        "epsilon": _sig(cls, "epsilon"),
        "center": _sig(cls, "center"),
        "scale": _sig(cls, "scale"),
    }


def _pool_defaults(cls: Any) -> dict[str, Any]:
    strides = _sig(cls, "strides")
    return {
        "pool_size": _as_int(_sig(cls, "pool_size")),
        "strides": "pool_size" if strides is None else strides,
        "padding": _sig(cls, "padding"),
    }


def _activation_defaults(layer: Activation) -> dict[str, Any]:
    if layer.activation == "leaky_relu":
        return {"negative_slope": _sig(L.LeakyReLU, "negative_slope")}
    if layer.activation == "elu":
        return {"alpha": _sig(L.ELU, "alpha")}
    if layer.activation in ("gelu", "gelu_tanh"):
        return {"approximate": _sig(A.gelu, "approximate")}
    if layer.activation == "softmax":
        axis = _sig(L.Softmax, "axis")
        return {"axis": "channels" if axis == -1 else axis}
    return {}


def _momentum(cls: Any) -> Any:
    value = _sig(cls, "momentum")
    return round(1.0 - value, 12) if isinstance(value, float) else value


#: kind -> the framework's own defaults, in the spec's convention, read from signatures
_CONV_CLS = {1: L.Conv1D, 2: L.Conv2D, 3: L.Conv3D}
_CONV_T_CLS = {1: L.Conv1DTranspose, 2: L.Conv2DTranspose, 3: L.Conv3DTranspose}
_DEPTHWISE_CLS = {1: L.DepthwiseConv1D, 2: L.DepthwiseConv2D, 3: L.Conv3D}
_SEPARABLE_CLS = {1: L.SeparableConv1D, 2: L.SeparableConv2D, 3: L.Conv3D}


def _linear(value: Any) -> Any:
    """Keras' ``activation=None`` is the identity: the spec calls it 'linear'."""
    return "linear" if value is None else value


def _conv_defaults(cls: Any) -> dict[str, Any]:
    return {
        "strides": _as_int(_sig(cls, "strides")),
        "padding": _sig(cls, "padding"),
        "dilation": _as_int(_sig(cls, "dilation_rate")),
        "use_bias": _sig(cls, "use_bias"),
        "activation": _linear(_sig(cls, "activation")),
    }


DEFAULTS: dict[str, Callable[[Any, LayerFormula], dict[str, Any]]] = {
    "conv": lambda layer, f: {
        **_conv_defaults(_CONV_CLS[f.input.rank]),
        "groups": _sig(_CONV_CLS[f.input.rank], "groups"),
    },
    "conv_transpose": lambda layer, f: {
        **_conv_defaults(_CONV_T_CLS[f.input.rank]),
        "groups": _sig(_CONV_T_CLS[f.input.rank], "groups"),
        # None here means "inferred from kernel and stride", not "no such parameter"
        "output_padding": _sig(_CONV_T_CLS[f.input.rank], "output_padding") or "inferred",
    },
    "depthwise_conv": lambda layer, f: _conv_defaults(_DEPTHWISE_CLS[f.input.rank]),
    "separable_conv": lambda layer, f: _conv_defaults(_SEPARABLE_CLS[f.input.rank]),
    "dense": lambda layer, f: {
        "use_bias": _sig(L.Dense, "use_bias"),
        "activation": _linear(_sig(L.Dense, "activation")),
    },
    "batch_norm": lambda layer, f: {
        "momentum": _momentum(L.BatchNormalization),
        **_norm_defaults(L.BatchNormalization),
    },
    "layer_norm": lambda layer, f: {
        "axes": "channels" if _sig(L.LayerNormalization, "axis") == -1 else "other",
        **_norm_defaults(L.LayerNormalization),
    },
    "group_norm": lambda layer, f: {
        "groups": _sig(L.GroupNormalization, "groups"),
        **_norm_defaults(L.GroupNormalization),
    },
    "max_pool": lambda layer, f: _pool_defaults(_MAX_POOL[f.input.rank]),
    "avg_pool": lambda layer, f: _pool_defaults(_AVG_POOL[f.input.rank]),
    "global_avg_pool": lambda layer, f: {
        "keepdims": _sig(_GLOBAL["global_avg_pool"][f.input.rank], "keepdims")
    },
    "global_max_pool": lambda layer, f: {
        "keepdims": _sig(_GLOBAL["global_max_pool"][f.input.rank], "keepdims")
    },
    "dropout": lambda layer, f: {"rate": _sig(L.Dropout, "rate")},
    "activation": lambda layer, f: _activation_defaults(layer),
}


def _fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """Keras' fan_in / fan_out of a kernel shape (*kernel, in, out)."""
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


def initialiser_std(init: Any, shape: tuple[int, ...]) -> float | None:
    """Theoretical std of a Keras initializer object for a weight ``shape``.

    VarianceScaling (Glorot, He, LeCun) has std sqrt(scale / n), n the fan its mode
    names; constants have 0.

    Example:
        >>> round(initialiser_std(keras.initializers.GlorotUniform(), (3, 2)), 4)
        0.6325
    """
    if isinstance(init, keras.initializers.VarianceScaling):
        fan_in, fan_out = _fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}
        return math.sqrt(init.scale / max(1.0, n[init.mode]))
    if isinstance(init, keras.initializers.Zeros | keras.initializers.Ones):
        return 0.0
    if isinstance(init, keras.initializers.Constant):
        return 0.0
    return None


def initialisers(built: Any) -> dict[str, tuple[str, float | None]]:
    """Role -> (initialiser name, theoretical std), read from the built Keras layers.

    Example (Glorot's std is sqrt(2 / (fan_in + fan_out)) = sqrt(2 / (3*3*16 + 3*3*32))):
        >>> from compare.adapters.keras import KerasAdapter
        >>> from compare.formulas import infer
        >>> from compare.spec import Conv, Input, Model
        >>> m = Model("m", Input(16, (8, 8)), (Conv(filters=32, kernel_size=3),))
        >>> built = KerasAdapter().build(m.layers[0], infer(m)[0], 0, "float32")
        >>> name, std = initialisers(built)["kernel"]
        >>> name, round(std, 4), round(math.sqrt(2 / (9 * 16 + 9 * 32)), 4)
        ('GlorotUniform', 0.068, 0.068)
    """
    out: dict[str, tuple[str, float | None]] = {}
    for role, (layer, attr, _shape) in built.roles.items():
        var = getattr(layer, attr, None)
        # DepthwiseConv keeps its depthwise kernel as ``kernel`` but names the
        # initializer after the role; SeparableConv names both after the role.
        names = [f"{role.removesuffix('_kernel')}_initializer", f"{attr}_initializer"]
        init = next((getattr(layer, n) for n in names if hasattr(layer, n)), None)
        if var is None or init is None:
            continue
        shape = tuple(int(d) for d in var.shape)
        out[role] = (type(init).__name__, initialiser_std(init, shape))
    return out
