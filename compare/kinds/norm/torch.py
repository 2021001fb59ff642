"""PyTorch builders, defaults and initialisers of the norm family: ``batch_norm``,
``layer_norm`` and ``group_norm``.

A layer norm over the channels of a feature map moves the channels last and back
(``nn.LayerNorm`` normalises the last axes). A spec PyTorch cannot express (gamma
without beta) raises ``Unsupported`` with the reason.

Example:
    >>> from compare.formulas import infer
    >>> from compare.spec import Input, Model
    >>> from compare.kinds.norm.spec import BatchNorm
    >>> m = Model("m", Input(3, (4, 4)), (BatchNorm(),))
    >>> build_batch_norm(m.layers[0], infer(m)[0])[0]
    BatchNorm2d(3, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from compare.adapters.base import Built, Made, Unsupported
from compare.adapters.torch_modules import MoveAxis
from compare.core.registry import register_part
from compare.defaults import signature_default
from compare.formulas import LayerFormula
from compare.kinds.norm.spec import BatchNorm, GroupNorm, LayerNorm

__all__ = [
    "HalfAffineBatchNorm",
    "build_batch_norm",
    "build_group_norm",
    "build_layer_norm",
    "constant_initialisers",
]

_BATCH_NORM = {0: nn.BatchNorm1d, 1: nn.BatchNorm1d, 2: nn.BatchNorm2d, 3: nn.BatchNorm3d}
_CONSTANT_INIT = {"gamma": 1.0, "beta": 0.0, "moving_mean": 0.0, "moving_variance": 1.0}

_sig = signature_default


def _affine_flags(layer: BatchNorm | GroupNorm, cls: str) -> bool:
    if layer.center != layer.scale:
        raise Unsupported(
            f"nn.{cls}'s affine switches gamma and beta together; center={layer.center}, "
            f"scale={layer.scale} cannot be expressed"
        )
    return layer.center


class HalfAffineBatchNorm(nn.Module):
    """A batch norm with only a shift (``center``) or only a scale: ``nn.BatchNormNd``
    without ``affine`` (its ``affine`` switches gamma and beta together), then a
    per-channel ``weight`` and / or ``bias`` on the channel axis, as Keras'
    ``BatchNormalization(scale=False)`` (every keras.applications InceptionV3 conv).

    Example:
        >>> m = HalfAffineBatchNorm(nn.BatchNorm2d(3, affine=False), center=True, scale=False)
        >>> m.weight is None, tuple(m.bias.shape), m(torch.zeros(2, 3, 4, 4)).shape[1]
        (True, (3,), 3)
    """

    def __init__(self, norm: nn.Module, *, center: bool, scale: bool) -> None:
        super().__init__()
        channels = int(norm.num_features)  # type: ignore[arg-type]
        self.norm = norm
        self.weight = nn.Parameter(torch.ones(channels)) if scale else None
        self.bias = nn.Parameter(torch.zeros(channels)) if center else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.norm(x)
        shape = (1, -1) + (1,) * (x.dim() - 2)
        if self.weight is not None:
            y = y * self.weight.view(shape)
        if self.bias is not None:
            y = y + self.bias.view(shape)
        return y


@register_part("torch", "build", "batch_norm")
def build_batch_norm(layer: BatchNorm, formula: LayerFormula) -> Made:
    """``nn.BatchNormNd`` with the running statistics as roles.

    Example:
        >>> from compare.formulas import infer
        >>> from compare.spec import Input, Model
        >>> m = Model("m", Input(3), (BatchNorm(),))
        >>> sorted(build_batch_norm(m.layers[0], infer(m)[0])[1])
        ['beta', 'gamma', 'moving_mean', 'moving_variance']
    """
    cls = _BATCH_NORM[formula.input.rank]
    if layer.center != layer.scale:
        norm = cls(formula.input.channels, eps=layer.epsilon, momentum=layer.momentum, affine=False)
        half = HalfAffineBatchNorm(norm, center=layer.center, scale=layer.scale)
        found: dict[str, Any] = {"gamma": (half, "weight")} if layer.scale else {}
        if layer.center:
            found["beta"] = (half, "bias")
        found["moving_mean"] = (norm, "running_mean")
        found["moving_variance"] = (norm, "running_var")
        which = "beta" if layer.center else "gamma"
        note = (
            f"nn.{cls.__name__}'s affine switches gamma and beta together: built as "
            f"{cls.__name__}(affine=False) and a per-channel {which} "
            f"(compare's HalfAffineBatchNorm)"
        )
        return half, found, (("half_affine", note),)
    bn = cls(
        formula.input.channels,
        eps=layer.epsilon,
        momentum=layer.momentum,
        affine=_affine_flags(layer, cls.__name__),
    )
    roles = {
        "gamma": (bn, "weight"),
        "beta": (bn, "bias"),
        "moving_mean": (bn, "running_mean"),
        "moving_variance": (bn, "running_var"),
    }
    return bn, roles, ()


@register_part("torch", "build", "layer_norm")
def build_layer_norm(layer: LayerNorm, formula: LayerFormula) -> Made:
    """``nn.LayerNorm`` (between two ``MoveAxis`` when it normalises the channels of a map).

    Example:
        >>> from compare.formulas import infer
        >>> from compare.spec import Input, Model
        >>> m = Model("m", Input(3, (5,)), (LayerNorm(),))
        >>> build_layer_norm(m.layers[0], infer(m)[0])[2][0][0]
        'layer_norm_axes'
    """
    if layer.center and not layer.scale:
        raise Unsupported(
            "nn.LayerNorm has a bias only together with elementwise_affine; "
            "center=True, scale=False cannot be expressed"
        )
    shape = formula.input
    normalized = (shape.channels, *shape.size) if layer.axes == "all" else (shape.channels,)
    ln = nn.LayerNorm(
        normalized, eps=layer.epsilon, elementwise_affine=layer.scale, bias=layer.center
    )
    roles = {"gamma": (ln, "weight"), "beta": (ln, "bias")}
    if layer.axes == "all" or shape.rank == 0:
        return ln, roles, ()
    note = "nn.LayerNorm normalises the last axes, so channels move last and back"
    return nn.Sequential(MoveAxis(1, -1), ln, MoveAxis(-1, 1)), roles, (("layer_norm_axes", note),)


@register_part("torch", "build", "group_norm")
def build_group_norm(layer: GroupNorm, formula: LayerFormula) -> Made:
    """``nn.GroupNorm``.

    Example:
        >>> from compare.formulas import infer
        >>> from compare.spec import Input, Model
        >>> m = Model("m", Input(4, (5,)), (GroupNorm(groups=2),))
        >>> build_group_norm(m.layers[0], infer(m)[0])[0].num_groups
        2
    """
    gn = nn.GroupNorm(
        layer.groups,
        formula.input.channels,
        eps=layer.epsilon,
        affine=_affine_flags(layer, "GroupNorm"),
    )
    return gn, {"gamma": (gn, "weight"), "beta": (gn, "bias")}, ()


@register_part("torch", "initialisers", "batch_norm", "layer_norm", "group_norm")
def constant_initialisers(built: Built) -> dict[str, tuple[str, float | None]]:
    """Role -> (initialiser name, std): a norm starts with gamma 1, beta 0, mean 0, var 1.

    Example:
        >>> constant_initialisers(Built("torch", None, (), {"gamma": (None, "weight")}))
        {'gamma': ('constant(1)', 0.0)}
    """
    return {
        role: (f"constant({_CONSTANT_INIT[role]:g})", 0.0)
        for role in built.roles
        if role in _CONSTANT_INIT
    }


def _norm_defaults(cls: Any, affine: tuple[str, str]) -> dict[str, Any]:
    return {
        "epsilon": _sig(cls, "eps"),
        "center": _sig(cls, affine[0]),
        "scale": _sig(cls, affine[1]),
    }


#: kind -> the framework's own defaults, in the spec's convention, read from signatures
_DEFAULTS: dict[str, Callable[[Any, LayerFormula], dict[str, Any]]] = {
    "batch_norm": lambda layer, f: {
        "momentum": _sig(_BATCH_NORM[f.input.rank], "momentum"),
        **_norm_defaults(_BATCH_NORM[f.input.rank], ("affine", "affine")),
    },
    "layer_norm": lambda layer, f: {
        "axes": _sig(nn.LayerNorm, "normalized_shape"),
        **_norm_defaults(nn.LayerNorm, ("bias", "elementwise_affine")),
    },
    "group_norm": lambda layer, f: {
        "groups": _sig(nn.GroupNorm, "num_groups"),
        **_norm_defaults(nn.GroupNorm, ("affine", "affine")),
    },
}
for _kind, _read in _DEFAULTS.items():
    register_part("torch", "defaults", _kind)(_read)
