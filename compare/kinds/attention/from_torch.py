"""What the torch importer maps to ``multi_head_attention``: ``nn.MultiheadAttention``
(``batch_first=True``) and compare's own ``Attention`` (the attention between its axis
moves, as the torch adapter builds it).

``nn.MultiheadAttention`` is called ``attention(query, key, value)`` and returns
``(output, weights)``; a chain passes one tensor on, so in an ``nn.Sequential`` it
appears inside a module that calls it, such as ``Attention``. The mapper reads the
module's options; how many values it reads (self- or cross-attention) is the graph's.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from torch import nn

from compare.core.registry import register_part
from compare.importers.base import Piece, Refuse
from compare.kinds.attention.spec import MultiHeadAttention
from compare.kinds.attention.torch import Attention, torch_roles

__all__ = ["attention_spec"]


def attention_spec(module: nn.MultiheadAttention) -> MultiHeadAttention:
    """The spec of an ``nn.MultiheadAttention``; ``Refuse`` for options it has no field for.

    Example:
        >>> attention_spec(nn.MultiheadAttention(32, 4, batch_first=True))
        MultiHeadAttention(num_heads=4, key_dim=None, use_bias=True, dropout=0.0)
        >>> attention_spec(nn.MultiheadAttention(32, 4))
        Traceback (most recent call last):
        ...
        compare.importers.base.Refuse: MultiheadAttention(batch_first=False): ...
    """
    unsupported = {
        "batch_first": (
            module.batch_first,
            True,
            "compare reads batch_first=True attention, which takes (N, steps, features)",
        ),
        "add_bias_kv": (
            module.bias_k is not None,
            False,
            "the spec has no learned key/value bias rows appended to the sequence",
        ),
        "add_zero_attn": (
            module.add_zero_attn,
            False,
            "the spec appends no zero key/value step",
        ),
    }
    for field, (value, want, why) in unsupported.items():
        if value != want:
            raise Refuse(f"MultiheadAttention({field}={value}): {why}")
    return MultiHeadAttention(
        num_heads=int(module.num_heads),
        use_bias=module.in_proj_bias is not None,
        dropout=float(module.dropout),
    )


@register_part("torch", "module", nn.MultiheadAttention)
def _attention(module: Any, piece: Piece) -> Piece:
    return replace(piece, layer=attention_spec(module), roles=torch_roles(module))


@register_part("torch", "module", Attention)
def _wrapped(module: Any, piece: Piece) -> Piece:
    inner = module.attention
    return replace(piece, layer=attention_spec(inner), roles=torch_roles(inner))
