"""What Keras chooses when the user says nothing, as every family reads it: signature
defaults in the spec's terms, and the initializer objects of a freshly built layer
with their theoretical standard deviation.

Example:
    >>> as_int((3, 3)), linear_default(None)
    (3, 'linear')
"""

from __future__ import annotations

import math
from typing import Any

from compare.adapters._keras_import import keras
from compare.adapters.base import Built

__all__ = [
    "as_int",
    "initialiser_std",
    "initialisers",
    "initializer_attr",
    "initializer_name",
    "linear_default",
]


def as_int(value: Any) -> Any:
    """Keras spells sizes as tuples of one repeated int; show the int.

    Example:
        >>> as_int((2, 2)), as_int((1, 2)), as_int("valid")
        (2, (1, 2), 'valid')
    """
    if isinstance(value, tuple) and value and len(set(value)) == 1:
        return value[0]
    return value


def linear_default(value: Any) -> Any:
    """Keras' ``activation=None`` is the identity: the spec calls it 'linear'.

    Example:
        >>> linear_default(None), linear_default("relu")
        ('linear', 'relu')
    """
    return "linear" if value is None else value


def initializer_name(config: Any) -> str:
    """The class name (and arguments) of a serialised initializer.

    Example:
        >>> initializer_name({"class_name": "RandomUniform",
        ...                   "config": {"minval": -0.05, "maxval": 0.05, "seed": None}})
        'RandomUniform(minval=-0.05, maxval=0.05)'
    """
    if not isinstance(config, dict):
        return str(config)
    args = ", ".join(
        f"{key}={value}"
        for key, value in (config.get("config") or {}).items()
        if key != "seed" and value is not None
    )
    name = str(config.get("class_name", config))
    return f"{name}({args})" if args else name


def _fans(
    shape: tuple[int, ...], input_axes: Any = None, output_axes: Any = None
) -> tuple[int, int]:
    """Keras' fan_in / fan_out of a kernel shape (*kernel, in, out), or of the axes an
    initializer names (``EinsumDense`` sets ``input_axes`` / ``output_axes``)."""
    if input_axes is not None and output_axes is not None:
        return math.prod(shape[a] for a in input_axes), math.prod(shape[a] for a in output_axes)
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
        axes = (getattr(init, "input_axes", None), getattr(init, "output_axes", None))
        fan_in, fan_out = _fans(shape, *axes)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}
        return math.sqrt(init.scale / max(1.0, n[init.mode]))
    if isinstance(init, keras.initializers.Zeros | keras.initializers.Ones):
        return 0.0
    if isinstance(init, keras.initializers.Constant):
        return 0.0
    return None


def initializer_attr(layer: Any, role: str, attr: str) -> str | None:
    """The attribute of ``layer`` holding the initializer of its weight ``attr`` (the
    role ``role``), or None.

    DepthwiseConv keeps its depthwise kernel as ``kernel`` but names the initializer
    after the role; SeparableConv names both after the role.

    Example:
        >>> initializer_attr(keras.layers.Dense(2), "kernel", "kernel")
        'kernel_initializer'
    """
    names = (f"{role.removesuffix('_kernel')}_initializer", f"{attr}_initializer")
    return next((n for n in names if hasattr(layer, n)), None)


def initialisers(built: Built) -> dict[str, tuple[str, float | None]]:
    """Role -> (initialiser name, theoretical std), read from the built Keras layers.

    Example:
        >>> dense = keras.layers.Dense(2)
        >>> dense.build((None, 3))
        >>> initialisers(Built("keras", [dense], ("Dense",), {"kernel": (dense, "kernel", None)}))
        {'kernel': ('GlorotUniform', 0.6324555320336759)}
    """
    out: dict[str, tuple[str, float | None]] = {}
    for role, (layer, attr, _shape) in built.roles.items():
        var = getattr(layer, attr, None)
        name = initializer_attr(layer, role, attr)
        if var is None or name is None:
            continue
        init = getattr(layer, name)
        shape = tuple(int(d) for d in var.shape)
        out[role] = (type(init).__name__, initialiser_std(init, shape))
    return out
