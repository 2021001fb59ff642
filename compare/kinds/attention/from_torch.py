"""What the torch importer maps to ``multi_head_attention``: ``nn.MultiheadAttention``
(``batch_first=True``) and compare's own ``Attention`` (the attention between its axis
moves, as the torch adapter builds it); and how it reads ``nn.TransformerEncoderLayer``
and ``nn.TransformerEncoder`` (``batch_first=True``): as the graph of their children.

``nn.MultiheadAttention`` is called ``attention(query, key, value)`` and returns
``(output, weights)``; a chain passes one tensor on, so in an ``nn.Sequential`` it
appears inside a module that calls it, such as ``Attention``. The mapper reads the
module's options; which values it reads (self- or cross-attention) is read from its
traced call (``call``): ``attn(x, x, x)`` is self-attention, ``attn(q, kv, kv)``
cross-attention with one key-value sequence; a mask or ``is_causal=True`` is refused.

Transformer layers. ``nn.TransformerEncoderLayer.forward`` chooses between a fused
fast path and the plain one by checks on its input that ``torch.fx`` cannot trace.
The importer keeps the layer a leaf and reads, in its place, ``EncoderLayerGraph``: the
plain path written over the layer's own children (``self_attn``, ``linear1``,
``dropout``, ``linear2``, ``norm1``, ``norm2``, ``dropout1``, ``dropout2`` and its
activation), which the importer checks against the layer's own forward on a random
input before reading it. ``nn.TransformerEncoder`` is its layers one after the other
and its optional final ``norm`` (``EncoderGraph``).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import torch
from torch import fx, nn

from compare.core.registry import register_part
from compare.importers.base import Piece, Refuse
from compare.kinds.attention.spec import MultiHeadAttention
from compare.kinds.attention.torch import Attention, torch_roles

__all__ = ["EncoderGraph", "EncoderLayerGraph", "attention_spec", "call_inputs"]


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


def _given(node: fx.Node, names: tuple[str, ...], defaults: dict[str, Any]) -> dict[str, Any]:
    """The traced call's arguments by name (``names``: the positional order)."""
    out = dict(defaults)
    out.update(zip(names, node.args))
    out.update(node.kwargs)
    return out


def _no_masks(given: dict[str, Any], what: str) -> None:
    for name, value in given.items():
        if name.endswith("mask") and value is not None:
            raise Refuse(
                f"{what} is called with {name}=...; the spec's attention attends every "
                "position (masks are named as a difference, not read)"
            )
    if given.get("is_causal"):
        raise Refuse(f"{what} is called with is_causal=True; the spec's attention has no mask")


@register_part("torch", "call", nn.MultiheadAttention)
def call_inputs(node: fx.Node) -> list[fx.Node]:
    """The tensors a traced ``attn(query, key, value, ...)`` reads, in the spec's order:
    one (self-attention), ``query, key_value`` or ``query, key, value``; ``Refuse`` when
    a mask is passed.

    Example:
        >>> class Net(nn.Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.attn = nn.MultiheadAttention(4, 2, batch_first=True)
        ...     def forward(self, x):
        ...         return self.attn(x, x, x, need_weights=False)[0]
        >>> graph = fx.symbolic_trace(Net()).graph
        >>> [n.name for n in call_inputs(next(n for n in graph.nodes if n.op == "call_module"))]
        ['x']
    """
    names = ("query", "key", "value", "key_padding_mask", "need_weights", "attn_mask")
    given = _given(node, names, {"key_padding_mask": None, "attn_mask": None})
    _no_masks(given, "the attention")
    query, key, value = given["query"], given["key"], given["value"]
    if key is query and value is query:
        return [query]
    if key is value:
        return [query, key]
    return [query, key, value]


class EncoderLayerGraph(nn.Module):
    """``nn.TransformerEncoderLayer``'s plain (not fast) path without masks, over the
    layer's own children, written so that ``torch.fx`` traces it.

    Example:
        >>> layer = nn.TransformerEncoderLayer(8, 2, 16, batch_first=True).eval()
        >>> x = torch.randn(2, 5, 8)
        >>> bool(torch.allclose(EncoderLayerGraph(layer)(x), layer(x), atol=1e-6))
        True
    """

    def __init__(self, layer: nn.TransformerEncoderLayer) -> None:
        super().__init__()
        self.norm_first = bool(layer.norm_first)
        self.self_attn: nn.MultiheadAttention = layer.self_attn
        self.linear1: nn.Module = layer.linear1
        self.dropout: nn.Module = layer.dropout
        self.linear2: nn.Module = layer.linear2
        self.norm1: nn.Module = layer.norm1
        self.norm2: nn.Module = layer.norm2
        self.dropout1: nn.Module = layer.dropout1
        self.dropout2: nn.Module = layer.dropout2
        self.activation: Any = layer.activation

    def _sa(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout1(self.self_attn(x, x, x, need_weights=False)[0])

    def _ff(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.norm_first:
            x = x + self._sa(self.norm1(x))
            return x + self._ff(self.norm2(x))
        x = self.norm1(x + self._sa(x))
        return self.norm2(x + self._ff(x))


class EncoderGraph(nn.Module):
    """``nn.TransformerEncoder`` without masks: its layers in turn, then its ``norm``.

    Example:
        >>> layer = nn.TransformerEncoderLayer(8, 2, 16, batch_first=True)
        >>> encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False).eval()
        >>> x = torch.randn(2, 5, 8)
        >>> bool(torch.allclose(EncoderGraph(encoder)(x), encoder(x), atol=1e-6))
        True
    """

    def __init__(self, encoder: nn.TransformerEncoder) -> None:
        super().__init__()
        self.layers = encoder.layers
        self.norm = encoder.norm

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x)
        return self.norm(x) if self.norm is not None else x


def _batch_first(layer: nn.TransformerEncoderLayer, what: str) -> None:
    if not layer.self_attn.batch_first:
        raise Refuse(
            f"{what}(batch_first=False) takes (steps, N, features); compare reads the batch "
            "on axis 0: the same layer built with batch_first=True holds the same weights "
            "and takes (N, steps, features)"
        )


@register_part("torch", "expand", nn.TransformerEncoderLayer)
def _encoder_layer(module: Any, node: fx.Node) -> nn.Module:
    names = ("src", "src_mask", "src_key_padding_mask", "is_causal")
    _no_masks(_given(node, names, {}), "the encoder layer")
    _batch_first(module, "TransformerEncoderLayer")
    return EncoderLayerGraph(module)


@register_part("torch", "expand", nn.TransformerEncoder)
def _encoder(module: Any, node: fx.Node) -> nn.Module:
    names = ("src", "mask", "src_key_padding_mask", "is_causal")
    _no_masks(_given(node, names, {}), "the encoder")
    for k, layer in enumerate(module.layers):
        if not isinstance(layer, nn.TransformerEncoderLayer):
            raise Refuse(f"layers.{k} is a {type(layer).__name__}, not a TransformerEncoderLayer")
        _batch_first(layer, "TransformerEncoderLayer")
    return EncoderGraph(module)


@register_part("torch", "sequence_layout", "multi_head_attention")
def _layout(piece: Piece, last: bool, x: torch.Tensor, obj: Any, run: Any) -> tuple[Piece, bool]:
    """``nn.MultiheadAttention(batch_first=True)`` takes and returns (N, steps,
    features); compare's ``Attention`` channels-first tensors."""
    if isinstance(obj, Attention):
        if last:
            raise Refuse("compare's Attention takes channels-first (N, features, steps) tensors")
        return piece, False
    if not last:
        raise Refuse(
            "nn.MultiheadAttention(batch_first=True) takes (N, steps, features), but here it "
            f"gets a {tuple(x.shape)} tensor read channels-first"
        )
    return piece, True
