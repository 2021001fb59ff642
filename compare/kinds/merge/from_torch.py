"""What the torch importer maps to the merge kinds: the operators and functions that
combine two tensors of the model (``a + b``, ``torch.add``, ``x += y``, ``a * b``,
``torch.sub``, ``torch.maximum`` ...) and ``torch.cat`` on the channel axis.

An operator with a constant (``x + 3``, ``x * 0.5``) is no merge: it is refused with
the constant named.
"""

from __future__ import annotations

import operator
from dataclasses import replace
from typing import Any

import torch

from compare.core.registry import register_part
from compare.importers.base import Piece, Refuse
from compare.kinds.merge.spec import Add, Concatenate, Maximum, Minimum, Multiply, Subtract

__all__: list[str] = []

_KINDS: dict[Any, tuple[tuple[Any, ...], str]] = {
    Add: ((operator.add, operator.iadd, torch.add, "add", "add_"), "adds"),
    Subtract: (
        (operator.sub, operator.isub, torch.sub, torch.subtract, "sub", "sub_"),
        "subtracts",
    ),
    Multiply: (
        (operator.mul, operator.imul, torch.mul, torch.multiply, "mul", "mul_"),
        "multiplies",
    ),
    Maximum: ((torch.maximum, "maximum"), "takes the maximum with"),
    Minimum: ((torch.minimum, "minimum"), "takes the minimum with"),
}


def _constant(node: Any) -> str:
    """The operand of a traced call that is not a tensor of the model, as written."""
    others = [a for a in (*node.args, *node.kwargs.values()) if not hasattr(a, "op")]
    return repr(others[0]) if others else "a value that is not a tensor of the model"


def _merge(cls: type, verb: str) -> Any:
    def read(node: Any, piece: Piece) -> Piece:
        if len(piece.in_shapes) < 2:
            raise Refuse(
                f"it {verb} {_constant(node)}, not another tensor of the model; "
                "the spec merges tensors only"
            )
        extra = {k: v for k, v in node.kwargs.items() if k not in ("other", "input")}
        if extra.get("alpha", 1) != 1 or len(node.args) > 2:
            raise Refuse(f"it scales one operand (alpha={extra.get('alpha')!r})")
        return replace(piece, layer=cls())

    return read


for _cls, (_keys, _verb) in _KINDS.items():
    register_part("torch", "function", *_keys)(_merge(_cls, _verb))


@register_part("torch", "function", torch.cat, torch.concat, torch.concatenate)
def _cat(node: Any, piece: Piece) -> Piece:
    dim = node.kwargs.get("dim", node.kwargs.get("axis", node.args[1] if len(node.args) > 1 else 0))
    n = piece.in_shape.rank + 2
    if not isinstance(dim, int) or dim % n != 1:
        raise Refuse(
            f"it joins dim={dim!r} of {n}-d tensors; the spec's concatenate joins the "
            "channels (dim 1)"
        )
    tensors = node.args[0] if node.args else node.kwargs.get("tensors", ())
    if isinstance(tensors, list | tuple) and len(tensors) == 1:
        return piece  # torch.cat([x], 1) is x (DenseNet's first layer of a block)
    if len(piece.in_shapes) < 2:
        raise Refuse("it joins fewer than two tensors of the model")
    return replace(piece, layer=Concatenate())
