"""PyTorch builders and defaults of the dropout family: ``nn.Dropout``,
``nn.Dropout1d/2d/3d`` (channel dropout) and ``StochasticDepth``, a module of ours that
computes what torchvision's ``torchvision.ops.StochasticDepth`` computes (the package
does not import torchvision).

Example:
    >>> from compare.kinds.dropout.spec import Dropout
    >>> build_dropout(Dropout(rate=0.25), None)[0]
    Dropout(p=0.25, inplace=False)
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from compare.adapters.base import Made
from compare.core.registry import register_part
from compare.defaults import signature_default
from compare.formulas import LayerFormula
from compare.kinds.dropout.spec import Dropout, SpatialDropout
from compare.kinds.dropout.spec import StochasticDepth as StochasticDepthSpec

__all__ = [
    "StochasticDepth",
    "build_dropout",
    "build_spatial_dropout",
    "build_stochastic_depth",
    "dropout_defaults",
    "spatial_dropout_defaults",
    "stochastic_depth_defaults",
]

_CHANNEL_DROPOUT = {1: nn.Dropout1d, 2: nn.Dropout2d, 3: nn.Dropout3d}


class StochasticDepth(nn.Module):
    """torchvision's ``StochasticDepth(p, mode)``: in training each sample (``"row"``)
    or the whole batch (``"batch"``) is kept with probability 1 - p and scaled by
    1/(1-p); in eval mode the identity.

    Example:
        >>> StochasticDepth(0.5, "row").eval()(torch.ones(2, 3)).tolist()
        [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]
    """

    def __init__(self, p: float, mode: str) -> None:
        super().__init__()
        self.p, self.mode = p, mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        size = [x.shape[0]] + [1] * (x.ndim - 1) if self.mode == "row" else [1] * x.ndim
        keep = torch.empty(size, dtype=x.dtype, device=x.device).bernoulli_(1.0 - self.p)
        return x * keep.div_(1.0 - self.p) if self.p < 1.0 else x * keep

    def extra_repr(self) -> str:
        return f"p={self.p}, mode={self.mode}"


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


@register_part("torch", "build", "spatial_dropout")
def build_spatial_dropout(layer: SpatialDropout, formula: LayerFormula) -> Made:
    """``nn.Dropout1d`` / ``2d`` / ``3d`` by the input's rank.

    Example:
        >>> from compare.formulas import infer
        >>> from compare.spec import Input, Model
        >>> m = Model("m", Input(3, (4, 4)), (SpatialDropout(rate=0.2),))
        >>> build_spatial_dropout(m.layers[0], infer(m)[0])[0]
        Dropout2d(p=0.2, inplace=False)
    """
    return _CHANNEL_DROPOUT[formula.input.rank](layer.rate), {}, ()


@register_part("torch", "defaults", "spatial_dropout")
def spatial_dropout_defaults(layer: SpatialDropout, formula: LayerFormula) -> dict[str, Any]:
    """``nn.DropoutNd``'s default rate.

    Example:
        >>> from compare.formulas import infer
        >>> from compare.spec import Input, Model
        >>> m = Model("m", Input(3, (4,)), (SpatialDropout(rate=0.2),))
        >>> spatial_dropout_defaults(m.layers[0], infer(m)[0])
        {'rate': 0.5}
    """
    return {"rate": signature_default(_CHANNEL_DROPOUT[formula.input.rank], "p")}


@register_part("torch", "build", "stochastic_depth")
def build_stochastic_depth(layer: StochasticDepthSpec, formula: LayerFormula) -> Made:
    """``StochasticDepth(rate, mode)`` (torchvision's, computed by our module).

    Example:
        >>> build_stochastic_depth(StochasticDepthSpec(rate=0.1), None)[0]
        StochasticDepth(p=0.1, mode=row)
    """
    note = (
        "torchvision.ops.StochasticDepth, computed by compare's own module of the same "
        "definition (the package does not import torchvision)"
    )
    return StochasticDepth(layer.rate, layer.mode), {}, (("torchvision", note),)


@register_part("torch", "defaults", "stochastic_depth")
def stochastic_depth_defaults(layer: StochasticDepthSpec, formula: LayerFormula) -> dict[str, Any]:
    """torchvision's ``StochasticDepth(p, mode)`` has no defaults: both are required.

    Example:
        >>> stochastic_depth_defaults(StochasticDepthSpec(rate=0.1), None)
        {'rate': 'required', 'mode': 'required'}
    """
    return {
        "rate": signature_default(StochasticDepth, "p"),
        "mode": signature_default(StochasticDepth, "mode"),
    }
