"""What the Keras importer maps to the prelu kind: ``PReLU``, its ``shared_axes`` read
as one slope, one per channel or one per element; ``Refuse`` names what the spec
cannot say (some spatial axes shared, an initializer that is not a constant)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import keras

from compare.core.registry import register_part
from compare.importers.base import Piece, Refuse
from compare.importers.keras import roles
from compare.kinds.prelu.spec import PReLU

__all__: list[str] = []


def _slopes(shared: Any, rank: int) -> str:
    axes = sorted({int(a) % (rank + 2) for a in (shared or ())})
    if axes == list(range(1, rank + 2)):
        return "one"
    if rank and axes == list(range(1, rank + 1)):
        return "channel"
    if not axes:
        return "element" if rank else "channel"
    raise Refuse(
        f"shared_axes={list(shared)}; the spec shares every non-batch axis, the spatial "
        "axes, or none"
    )


def _init(init: Any) -> float:
    if isinstance(init, keras.initializers.Zeros):
        return 0.0
    if isinstance(init, keras.initializers.Ones):
        return 1.0
    if isinstance(init, keras.initializers.Constant):
        return float(init.value)
    raise Refuse(f"alpha_initializer={type(init).__name__}; the spec's init is a constant")


@register_part("keras", "layer", keras.layers.PReLU)
def _prelu(layer: Any, piece: Piece) -> Piece:
    spec = PReLU(
        slopes=_slopes(layer.shared_axes, piece.in_shape.rank),
        init=_init(layer.alpha_initializer),
    )
    return replace(piece, layer=spec, roles=roles(layer, alpha="alpha"))
