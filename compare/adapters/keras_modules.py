"""Keras helpers the engine and several families' builders share: the zero-padding
layers with the argument they want, the shape of a role reference, and a variable's
fast read and write.

Example:
    >>> ZERO_PAD[1](pad_arg(((1, 2),))).padding
    (1, 2)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from compare.adapters._keras_import import keras, tf

__all__ = ["ZERO_PAD", "Role", "pad_arg", "read_variable", "write_variable"]

#: role -> (layer, variable attribute, shape the role array has, or None if native)
Role = tuple[Any, str, tuple[int, ...] | None]

#: rank -> the zero-padding layer of that rank
ZERO_PAD: dict[int, Any] = {
    1: keras.layers.ZeroPadding1D,
    2: keras.layers.ZeroPadding2D,
    3: keras.layers.ZeroPadding3D,
}


def pad_arg(pads: tuple[tuple[int, int], ...]) -> Any:
    """(before, after) per axis as ``ZeroPaddingND`` / ``CroppingND`` take them: one pair
    for 1-D, a pair per axis otherwise.

    Example:
        >>> pad_arg(((1, 2),)), pad_arg(((1, 2), (0, 0)))
        ((1, 2), ((1, 2), (0, 0)))
    """
    return pads[0] if len(pads) == 1 else pads


# On the TensorFlow backend a Keras variable's ``value`` is a ``tf.Variable``; it is
# read and written with TensorFlow's own resource ops, the work ``Variable.numpy()``
# and ``.assign()`` do under several layers of Python. Measured on a fresh Conv2D's
# kernel and bias: 0.06 ms instead of 0.14 to read both, 0.03 instead of 0.19 to write.
#
# A read gives a read-only view of the variable's buffer, not a copy: TensorFlow's
# resource variables copy on write (``AssignVariableOp`` allocates a new buffer while
# another tensor still holds the old one), so the view keeps the value it was read
# with whatever is written to the variable later. Reading all of VGG16's weights so
# costs no memory and no time instead of 528 MiB and about a second of copies.
def read_variable(var: Any) -> np.ndarray:
    """A Keras variable's value as a read-only NumPy array, unchanged by later writes.

    Example:
        >>> v = keras.Variable([1.0, 2.0])
        >>> before = read_variable(v)
        >>> write_variable(v, np.array([3.0, 4.0], dtype="float32"))
        >>> before.tolist(), read_variable(v).tolist(), before.flags.writeable
        ([1.0, 2.0], [3.0, 4.0], False)
    """
    value = var.value
    array = np.asarray(tf.raw_ops.ReadVariableOp(resource=value.handle, dtype=value.dtype))
    if array.flags.writeable:  # TensorFlow gave its own copy: keep the same contract
        array.flags.writeable = False
    return array


def write_variable(var: Any, array: np.ndarray) -> None:
    """Write ``array`` (the variable's shape and dtype) into a Keras variable.

    Example:
        >>> v = keras.Variable([1.0, 2.0])
        >>> write_variable(v, np.array([3.0, 4.0], dtype="float32"))
        >>> read_variable(v).tolist()
        [3.0, 4.0]
    """
    tf.raw_ops.AssignVariableOp(resource=var.value.handle, value=array)
