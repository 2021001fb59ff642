"""PyTorch builder and defaults of the ``resample`` kind: ``nn.Upsample``.

Example:
    >>> from compare.formulas import infer
    >>> from compare.spec import Input, Model
    >>> from compare.kinds.resample.spec import Resample
    >>> m = Model("m", Input(1, (4, 4)), (Resample(scale=2, mode="bilinear"),))
    >>> build_resample(m.layers[0], infer(m)[0])[0]
    Upsample(scale_factor=(2.0, 2.0), mode='bilinear')
"""

from __future__ import annotations

from typing import Any

from torch import nn

from compare.adapters.base import Made
from compare.core.registry import register_part
from compare.defaults import signature_default
from compare.formulas import LayerFormula
from compare.kinds.resample.spec import Resample

__all__ = ["TORCH_MODES", "build_resample", "resample_defaults"]

#: spec mode -> nn.Upsample's mode (at two spatial axes: 'bilinear')
TORCH_MODES = {"nearest": "nearest", "nearest_exact": "nearest-exact", "bilinear": "bilinear"}


@register_part("torch", "build", "resample")
def build_resample(layer: Resample, formula: LayerFormula) -> Made:
    """``nn.Upsample`` with the spec's integer ``scale_factor`` or output ``size``.

    Example:
        >>> from compare.formulas import infer
        >>> from compare.spec import Input, Model
        >>> m = Model("m", Input(1, (5,)), (Resample(size=7, mode="nearest_exact"),))
        >>> build_resample(m.layers[0], infer(m)[0])[0].mode
        'nearest-exact'
    """
    kwargs: dict[str, Any] = {"mode": TORCH_MODES[layer.mode]}
    if layer.mode == "bilinear":
        kwargs["align_corners"] = layer.align_corners
    if layer.scale is not None:
        kwargs["scale_factor"] = tuple(float(s) for s in layer.per_axis("scale"))
    else:
        kwargs["size"] = layer.per_axis("size")
    return nn.Upsample(**kwargs), {}, ()


@register_part("torch", "defaults", "resample")
def resample_defaults(layer: Resample, formula: LayerFormula) -> dict[str, Any]:
    """``nn.Upsample``'s own defaults, in the spec's convention (``align_corners=None``
    means False, half-pixel centres, for the linear modes).

    Example:
        >>> resample_defaults(Resample(scale=2), None)
        {'mode': 'nearest', 'align_corners': False}
    """
    mode = signature_default(nn.Upsample, "mode")
    corners = signature_default(nn.Upsample, "align_corners")
    spec_mode = {v: k for k, v in TORCH_MODES.items()}.get(mode, mode)
    return {"mode": spec_mode, "align_corners": bool(corners)}
