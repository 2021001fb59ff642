"""PyTorch builder of the ``flatten`` kind: ``nn.Flatten``.

Example:
    >>> build_flatten(Flatten(), None)
    (Flatten(start_dim=1, end_dim=-1), {}, ())
"""

from __future__ import annotations

from torch import nn

from compare.adapters.base import Made
from compare.core.registry import register_part
from compare.formulas import LayerFormula
from compare.kinds.flatten.spec import Flatten

__all__ = ["build_flatten"]


@register_part("torch", "build", "flatten")
def build_flatten(layer: Flatten, formula: LayerFormula) -> Made:
    """``nn.Flatten()``: every axis but the batch, in channels-first order.

    Example:
        >>> type(build_flatten(Flatten(), None)[0]).__name__
        'Flatten'
    """
    return nn.Flatten(), {}, ()
