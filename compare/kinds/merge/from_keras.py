"""What the Keras importer maps to the merge kinds: the merge layers (``Add``,
``Subtract``, ``Multiply``, ``Average``, ``Maximum``, ``Minimum``, ``Concatenate``) and
the ``keras.ops`` calls a functional model records as operations (``x + y`` is
``keras.ops.add``; ``keras.ops.concatenate``).

An operation with a constant (``x * 0.5``) is no merge: it is refused, unless a family
registered ``("keras", "constant_op", name)`` reads it as part of its own layer (the
activation family: ``relu6(x + 3) * (1 / 6)``, a hard sigmoid written with constants).
"""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras

from compare.core import registry
from compare.core.registry import register_part
from compare.importers.base import Piece, Refuse
from compare.kinds.merge.spec import (
    Add,
    Average,
    Concatenate,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
)

__all__: list[str] = []

L = keras.layers


def _op_class(call: Any) -> type:
    """The class of the operation a ``keras.ops`` call records on symbolic tensors."""
    x = keras.KerasTensor((None, 2))
    return type(call(x, x)._keras_history.operation)


_OPS = {
    Add: (L.Add, _op_class(keras.ops.add)),
    Subtract: (L.Subtract, _op_class(keras.ops.subtract)),
    Multiply: (L.Multiply, _op_class(keras.ops.multiply)),
    Average: (L.Average,),
    Maximum: (L.Maximum, _op_class(keras.ops.maximum)),
    Minimum: (L.Minimum, _op_class(keras.ops.minimum)),
}


def _merge(cls: type) -> Any:
    def read(layer: Any, piece: Piece) -> Piece:
        if len(piece.in_shapes) < 2:
            for read_constant in registry.parts("keras", "constant_op", families=()).values():
                read_piece = read_constant(layer, piece)
                if read_piece is not None:
                    return read_piece
            raise Refuse(
                f"{type(layer).__name__} with a constant, not another tensor of the model; "
                "the spec merges tensors only"
            )
        return replace(piece, layer=cls())

    return read


for _cls, _classes in _OPS.items():
    register_part("keras", "layer", *_classes)(_merge(_cls))


@register_part(
    "keras", "layer", L.Concatenate, _op_class(lambda a, b: keras.ops.concatenate([a, b]))
)
def _concatenate(layer: Any, piece: Piece) -> Piece:
    axis = getattr(layer, "axis", -1)
    n = piece.in_shape.rank + 2
    if not isinstance(axis, int) or axis % n != n - 1:
        raise Refuse(
            f"axis={axis!r} of {n}-d tensors; the spec's concatenate joins the channels "
            "(the last axis in Keras)"
        )
    if len(piece.in_shapes) < 2:
        raise Refuse("it joins fewer than two tensors of the model")
    return replace(piece, layer=Concatenate())
