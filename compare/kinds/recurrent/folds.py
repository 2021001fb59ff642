"""How the Keras importer reads a stack of recurrent layers (framework-free, registered
for ``compare.importers.base.assemble``): Keras has no ``num_layers``, so a stack is its
layers one after another, each but the last returning every step. Layers of one kind,
alike in every option, of which all but the last return sequences, read as one spec
with ``num_layers`` (what ``nn.LSTM(num_layers=...)`` is in PyTorch), their weight roles
renumbered. A PyTorch model keeps its modules as they are: two ``nn.LSTM`` stay two
layers, ``nn.LSTM(num_layers=2)`` is one.
"""

from __future__ import annotations

import dataclasses

from compare.core.registry import register_part
from compare.importers.base import Fold, Part, fold_pairs
from compare.kinds.recurrent.spec import RECURRENT_KINDS, role_name, split_role
from compare.spec import Layer

__all__ = ["stack", "stack_layers"]

#: Fields that may differ between two layers of one stack: how many layers each holds
#: and what the first returns.
_FREE = ("num_layers", "return_sequences")


def stack(below: Layer, above: Layer) -> Layer | None:
    """``above`` read on top of ``below`` as one spec, or None when they are no stack.

    Example:
        >>> from compare.spec import LSTM
        >>> stack(LSTM(units=3, return_sequences=True), LSTM(units=3)).num_layers
        2
        >>> stack(LSTM(units=3), LSTM(units=3)) is None  # the first keeps one step
        True
    """
    if below.kind not in RECURRENT_KINDS or type(below) is not type(above):
        return None
    if not getattr(below, "return_sequences", False):
        return None
    same = {
        f.name: getattr(below, f.name) == getattr(above, f.name)
        for f in dataclasses.fields(below)
        if f.name not in _FREE
    }
    if not all(same.values()):
        return None
    n = getattr(below, "num_layers", 1) + getattr(above, "num_layers", 1)
    return dataclasses.replace(above, num_layers=n)  # type: ignore[call-arg]


def stack_layers(parts: list[Part], source: str) -> list[Part]:
    """Every Keras stack of recurrent layers as one spec (``stack``); PyTorch parts as
    they are.

    Example:
        >>> stack_layers([], "keras")
        []
    """
    if source != "keras":
        return parts

    def join(prev: Part, one: Part) -> Part | None:
        layer = stack(prev.layer, one.layer)
        if layer is None:
            return None
        shift = getattr(prev.layer, "num_layers", 1)
        roles = dict(prev.roles)
        for role, ref in one.roles.items():
            base, index, direction = split_role(role)
            roles[role_name(base, index + shift, direction)] = ref
        return Part(layer, roles, prev.pieces + one.pieces, prev.in_shape, one.out_shape)

    return fold_pairs(parts, join)


register_part("any", "fold", "recurrent_stack")(Fold(50, stack_layers))
