"""What the torch importer maps to the dense kind: ``nn.Linear``.

``nn.Linear`` acts on the last axis: on a channels-first feature map that is not the
spec's dense (which acts on the channels) unless the channels are moved last around it
(``compare.kinds.dense.folds``); on a (N, steps, features) sequence it acts on the
features, which is the spec's dense.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import torch
from torch import nn

from compare.core.registry import register_part
from compare.importers.base import Piece
from compare.importers.torch import roles
from compare.kinds.dense.spec import Dense

__all__: list[str] = []


@register_part("torch", "module", nn.Linear)
def _linear(module: Any, piece: Piece) -> Piece:
    layer = Dense(units=module.out_features, use_bias=module.bias is not None)
    found = roles(module, kernel="weight", bias="bias")
    return replace(piece, layer=layer, roles=found, last_axis=True)


@register_part("torch", "sequence_layout", "dense")
def _layout(
    piece: Piece, last: bool, x: torch.Tensor, obj: Any, run: Callable[[Any], Any]
) -> tuple[Piece, bool]:
    """On (N, steps, features), ``nn.Linear`` acts on the features: the spec's dense."""
    if last:
        return replace(piece, last_axis=False), True
    return piece, last
