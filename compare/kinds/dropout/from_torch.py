"""What the torch importer maps to the dropout family: ``nn.Dropout`` and
``F.dropout``, ``nn.Dropout1d/2d/3d`` and ``F.dropout1d/2d/3d`` (channel dropout), and
torchvision's ``StochasticDepth`` (module and ``torchvision.ops.stochastic_depth``),
found by its module path among the modules already imported: the package never imports
torchvision, so a model holding one has loaded it before the importer looks.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from typing import Any

from torch import nn
from torch.nn import functional as F

from compare.core.registry import register_part
from compare.importers.base import Piece, Refuse
from compare.importers.torch import arg
from compare.kinds.dropout.spec import Dropout, SpatialDropout, StochasticDepth

__all__ = ["TORCHVISION_STOCHASTIC_DEPTH"]

#: Where torchvision defines its stochastic depth (module and function of one name).
TORCHVISION_STOCHASTIC_DEPTH = "torchvision.ops.stochastic_depth"


@register_part("torch", "module", nn.Dropout)
def _dropout(module: Any, piece: Piece) -> Piece:
    return replace(piece, layer=Dropout(rate=float(module.p)))


@register_part("torch", "function", F.dropout)
def _fn_dropout(node: Any, piece: Piece) -> Piece:
    return replace(piece, layer=Dropout(rate=float(arg(node, 0, "p", 0.5))))


_CHANNEL_DROPOUT = {nn.Dropout1d: 1, nn.Dropout2d: 2, nn.Dropout3d: 3}
_CHANNEL_FUNCTIONS = {F.dropout1d: 1, F.dropout2d: 2, F.dropout3d: 3}


def _channel_dropout(rank: int, rate: float, piece: Piece) -> Piece:
    if piece.in_shape.rank != rank:
        raise Refuse(
            f"Dropout{rank}d on an input with {piece.in_shape.rank} spatial axes; the "
            f"spec's channel dropout takes its rank from the input ({rank} needed)"
        )
    return replace(piece, layer=SpatialDropout(rate=rate))


@register_part("torch", "module", *_CHANNEL_DROPOUT)
def _spatial(module: Any, piece: Piece) -> Piece:
    return _channel_dropout(_CHANNEL_DROPOUT[type(module)], float(module.p), piece)


@register_part("torch", "function", *_CHANNEL_FUNCTIONS)
def _fn_spatial(node: Any, piece: Piece) -> Piece:
    rank = _CHANNEL_FUNCTIONS[node.target]
    return _channel_dropout(rank, float(arg(node, 0, "p", 0.5)), piece)


def _stochastic_depth(module: Any, piece: Piece) -> Piece:
    return replace(piece, layer=StochasticDepth(rate=float(module.p), mode=str(module.mode)))


def _fn_stochastic_depth(node: Any, piece: Piece) -> Piece:
    rate, mode = arg(node, 0, "p", None), arg(node, 1, "mode", None)
    return replace(piece, layer=StochasticDepth(rate=float(rate), mode=str(mode)))


_torchvision = sys.modules.get(TORCHVISION_STOCHASTIC_DEPTH)
if _torchvision is not None:
    register_part("torch", "module", _torchvision.StochasticDepth)(_stochastic_depth)
    register_part("torch", "function", _torchvision.stochastic_depth)(_fn_stochastic_depth)
