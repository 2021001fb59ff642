"""What the torch importer maps to the resample kind: ``nn.Upsample`` (with its
subclasses ``nn.UpsamplingNearest2d`` and ``nn.UpsamplingBilinear2d``, which aligns
corners) and ``F.interpolate``."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace
from typing import Any

from torch import nn
from torch.nn import functional as F

from compare.core.registry import register_part
from compare.importers.base import Piece, Refuse
from compare.importers.torch import arg
from compare.kinds.resample.spec import Resample

__all__: list[str] = []

_MODES = {"nearest": "nearest", "nearest-exact": "nearest_exact", "bilinear": "bilinear"}


def _ints(name: str, value: Any) -> Any:
    if value is None:
        return None
    values = tuple(value) if isinstance(value, tuple | list) else (value,)
    if any(float(v) != int(v) for v in values):
        raise Refuse(f"{name}={value}; the spec resamples by integer factors or to a size")
    out = tuple(int(v) for v in values)
    return out[0] if len(out) == 1 else out


def _read(module: Any, piece: Piece) -> Piece:
    mode = module.mode
    if mode not in _MODES:
        raise Refuse(f"mode={mode!r}; the spec resamples with nearest, nearest-exact or bilinear")
    if getattr(module, "antialias", False):
        raise Refuse("antialias=True; the spec's resample reads the input without a filter")
    if getattr(module, "recompute_scale_factor", None) and module.scale_factor is not None:
        raise Refuse("recompute_scale_factor=True; the spec's scale is the size ratio itself")
    corners = bool(module.align_corners) if mode == "bilinear" else False
    layer = Resample(
        scale=_ints("scale_factor", module.scale_factor),
        size=_ints("size", module.size),
        mode=_MODES[mode],
        align_corners=corners,
    )
    return replace(piece, layer=layer)


register_part("torch", "module", nn.Upsample)(_read)

_INTERPOLATE = (
    ("size", None),
    ("scale_factor", None),
    ("mode", "nearest"),
    ("align_corners", None),
    ("recompute_scale_factor", None),
    ("antialias", False),
)


@register_part("torch", "function", F.interpolate)
def _fn_interpolate(node: Any, piece: Piece) -> Piece:
    values = {name: arg(node, i, name, default) for i, (name, default) in enumerate(_INTERPOLATE)}
    return _read(SimpleNamespace(**values), piece)
