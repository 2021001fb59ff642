"""PyTorch builder and defaults of the ``dropout`` kind: ``nn.Dropout``.

Example:
    >>> from compare.kinds.dropout.spec import Dropout
    >>> build_dropout(Dropout(rate=0.25), None)[0]
    Dropout(p=0.25, inplace=False)
"""

from __future__ import annotations

from typing import Any

from torch import nn

from compare.adapters.base import Made
from compare.core.registry import register_part
from compare.defaults import signature_default
from compare.formulas import LayerFormula
from compare.kinds.dropout.spec import Dropout

__all__ = ["build_dropout", "dropout_defaults"]


@register_part("torch", "build", "dropout")
def build_dropout(layer: Dropout, formula: LayerFormula) -> Made:
    """``nn.Dropout(rate)``.

    Example:
        >>> build_dropout(Dropout(rate=0.5), None)[0].p
        0.5
    """
    return nn.Dropout(layer.rate), {}, ()


@register_part("torch", "defaults", "dropout")
def dropout_defaults(layer: Dropout, formula: LayerFormula) -> dict[str, Any]:
    """``nn.Dropout``'s default rate.

    Example:
        >>> dropout_defaults(Dropout(rate=0.25), None)
        {'rate': 0.5}
    """
    return {"rate": signature_default(nn.Dropout, "p")}
