"""What the torch importer maps to the norm kinds: ``nn.BatchNorm*d``, ``nn.LayerNorm``,
``nn.GroupNorm``, read into the spec's conventions (momentum as PyTorch's, epsilon
explicit); ``Refuse`` names what the spec cannot say.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from torch import nn

from compare.core.registry import register_part
from compare.importers.base import Piece, Refuse
from compare.importers.torch import roles
from compare.kinds.norm.spec import BatchNorm, GroupNorm, LayerNorm
from compare.kinds.norm.torch import HalfAffineBatchNorm

__all__: list[str] = []


@register_part("torch", "module", nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)
def _batch_norm(module: Any, piece: Piece) -> Piece:
    if not module.track_running_stats or module.running_mean is None:
        raise Refuse(
            "track_running_stats=False: it normalises with the batch's own statistics even "
            "in eval mode; the spec's batch norm keeps running statistics"
        )
    if module.momentum is None:
        raise Refuse(
            "momentum=None (a cumulative moving average); the spec's momentum is the "
            "weight of each new batch statistic"
        )
    layer = BatchNorm(
        epsilon=float(module.eps),
        momentum=float(module.momentum),
        center=bool(module.affine),
        scale=bool(module.affine),
    )
    found = roles(
        module,
        gamma="weight",
        beta="bias",
        moving_mean="running_mean",
        moving_variance="running_var",
    )
    return replace(piece, layer=layer, roles=found)


@register_part("torch", "module", HalfAffineBatchNorm)
def _half_affine(module: Any, piece: Piece) -> Piece:
    piece = _batch_norm(module.norm, piece)
    norm = piece.layer
    assert isinstance(norm, BatchNorm)
    center, scale = module.bias is not None, module.weight is not None
    found = {k: v for k, v in piece.roles.items() if k.startswith("moving_")}
    found.update(roles(module, gamma="weight", beta="bias"))
    return replace(piece, layer=replace(norm, center=center, scale=scale), roles=found)


@register_part("torch", "module", nn.LayerNorm)
def _layer_norm(module: Any, piece: Piece) -> Piece:
    normalized = tuple(module.normalized_shape)
    dims = piece.in_shape.torch()[1:]
    center = module.bias is not None
    scale = module.weight is not None
    eps = float(module.eps)
    found = roles(module, gamma="weight", beta="bias")
    if normalized == dims:
        axes = "all" if piece.in_shape.rank else "channels"
        layer = LayerNorm(axes=axes, epsilon=eps, center=center, scale=scale)
        return replace(piece, layer=layer, roles=found)
    if len(normalized) == 1 and normalized == dims[-1:]:
        layer = LayerNorm(axes="channels", epsilon=eps, center=center, scale=scale)
        return replace(piece, layer=layer, roles=found, last_axis=True)
    raise Refuse(
        f"normalized_shape={normalized} on a {dims} input; the spec normalises the "
        "channels or all non-batch axes"
    )


@register_part("torch", "module", nn.GroupNorm)
def _group_norm(module: Any, piece: Piece) -> Piece:
    layer = GroupNorm(
        groups=int(module.num_groups),
        epsilon=float(module.eps),
        center=bool(module.affine),
        scale=bool(module.affine),
    )
    return replace(piece, layer=layer, roles=roles(module, gamma="weight", beta="bias"))
