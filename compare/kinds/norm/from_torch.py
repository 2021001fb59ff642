"""What the torch importer maps to the norm kinds: ``nn.BatchNorm*d``, ``nn.LayerNorm``,
``nn.GroupNorm``, read into the spec's conventions (momentum as PyTorch's, epsilon
explicit); ``Refuse`` names what the spec cannot say.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import torch
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
    # over the last axis: the features of a (N, steps, features) sequence
    # (``sequence_layout`` below), otherwise a spatial axis, which the spec does not say
    features = piece.in_shape.rank == 1 and normalized == (piece.in_shape.channels,)
    if len(normalized) == 1 and (normalized == dims[-1:] or features):
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


@register_part("torch", "sequence_layout", "layer_norm")
def _layout(
    piece: Piece, last: bool, x: torch.Tensor, obj: Any, run: Callable[[Any], Any]
) -> tuple[Piece, bool]:
    """On (N, steps, features), ``nn.LayerNorm(features)`` normalises the features: the
    spec's layer norm over the channels."""
    if last and piece.last_axis:
        return replace(piece, last_axis=False), True
    if last:
        raise Refuse(
            "it normalises the steps and the features of a (N, steps, features) sequence, "
            "whose weights the spec holds features first"
        )
    return piece, last
