"""PyTorch builder, defaults and initialisers of ``multi_head_attention``:
``nn.MultiheadAttention(batch_first=True)`` between axis moves (layouts and porting:
``compare.kinds.attention.spec``).

Every rank-1 activation is channels-first here, (N, features, steps), while
``nn.MultiheadAttention(batch_first=True)`` takes ``(query, key, value)`` as
(N, steps, features) and returns a tuple ``(output, weights)``. ``Attention`` is an
``nn.Sequential`` of ``MoveAxis(1, -1)``, the real ``nn.MultiheadAttention`` and
``MoveAxis(-1, 1)`` whose ``forward`` takes one to three inputs: it moves each input's
features last, calls the attention on (query, key, value) with ``need_weights=False``,
keeps the output of the tuple and moves its features back to axis 1.

Example:
    >>> from compare.kinds.attention.spec import MultiHeadAttention
    >>> from compare.core.shapes import Shape
    >>> mha = MultiHeadAttention(num_heads=4).resolved(1)
    >>> module = build_attention(mha, mha.formula((Shape(32, (10,)),)))[0]
    >>> [type(m).__name__ for m in module], sum(p.numel() for p in module.parameters())
    (['MoveAxis', 'MultiheadAttention', 'MoveAxis'], 4224)
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from compare.adapters.base import Built, Made, Notes, Unsupported
from compare.adapters.torch_modules import MoveAxis
from compare.core.registry import register_part
from compare.defaults import signature_default
from compare.formulas import LayerFormula
from compare.kinds.attention.spec import MultiHeadAttention, head_dim

__all__ = ["Attention", "attention_defaults", "attention_initialisers", "build_attention"]

KIND = "multi_head_attention"


class Attention(nn.Sequential):
    """``MoveAxis(1, -1)``, an ``nn.MultiheadAttention(batch_first=True)`` and
    ``MoveAxis(-1, 1)``, called on one input (self-attention), ``query, key_value`` or
    ``query, key, value``, all channels-first; returns the attention's output only.

    Example:
        >>> att = Attention(nn.MultiheadAttention(4, 2, batch_first=True))
        >>> att(torch.zeros(2, 4, 5), torch.zeros(2, 4, 3)).shape
        torch.Size([2, 4, 5])
    """

    def __init__(self, attention: nn.MultiheadAttention) -> None:
        super().__init__(MoveAxis(1, -1), attention, MoveAxis(-1, 1))

    @property
    def attention(self) -> nn.MultiheadAttention:
        """The ``nn.MultiheadAttention`` inside."""
        module = self[1]
        assert isinstance(module, nn.MultiheadAttention)
        return module

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        moved = [self[0](x) for x in xs]
        query = moved[0]
        key = moved[1] if len(moved) > 1 else query
        value = moved[-1]
        output = self.attention(query, key, value, need_weights=False)[0]
        return self[2](output)


def torch_roles(attention: nn.MultiheadAttention) -> dict[str, Any]:
    """role -> (module, attribute) of an ``nn.MultiheadAttention``'s parameters: packed
    ``in_proj_kernel`` when the key and value have E features, else the three
    projections apart.

    Example:
        >>> sorted(torch_roles(nn.MultiheadAttention(4, 2, kdim=3)))[:4]
        ['in_proj_bias', 'key_kernel', 'output_bias', 'output_kernel']
    """
    roles: dict[str, Any] = {}
    if attention.in_proj_weight is not None:
        roles["in_proj_kernel"] = (attention, "in_proj_weight")
    else:
        roles["query_kernel"] = (attention, "q_proj_weight")
        roles["key_kernel"] = (attention, "k_proj_weight")
        roles["value_kernel"] = (attention, "v_proj_weight")
    if attention.in_proj_bias is not None:
        roles["in_proj_bias"] = (attention, "in_proj_bias")
    roles["output_kernel"] = (attention.out_proj, "weight")
    if attention.out_proj.bias is not None:
        roles["output_bias"] = (attention.out_proj, "bias")
    return roles


def _inputs(formula: LayerFormula) -> tuple[int, int, int]:
    shapes = formula.input_shapes
    query = shapes[0]
    key, value = (shapes[1], shapes[-1]) if len(shapes) > 1 else (query, query)
    return query.channels, key.channels, value.channels


@register_part("torch", "build", KIND)
def build_attention(layer: MultiHeadAttention, formula: LayerFormula) -> Made:
    """``Attention`` around ``nn.MultiheadAttention(E, num_heads, batch_first=True)``;
    Unsupported when ``num_heads * key_dim`` is not E (PyTorch fixes it).

    Example:
        >>> from compare.core.shapes import Shape
        >>> mha = MultiHeadAttention(num_heads=4, key_dim=32).resolved(1)
        >>> build_attention(mha, mha.formula((Shape(32, (10,)),)))
        Traceback (most recent call last):
        ...
        compare.adapters.base.Unsupported: nn.MultiheadAttention splits embed_dim=32 ...
    """
    e, ek, ev = _inputs(formula)
    d = head_dim(layer, e)
    if layer.num_heads * d != e:
        raise Unsupported(
            f"nn.MultiheadAttention splits embed_dim={e} into num_heads={layer.num_heads} "
            f"heads of embed_dim // num_heads features; key_dim={d} per head makes "
            f"num_heads*key_dim = {layer.num_heads * d}, not {e} (Keras' key_dim is per "
            "head and free; PyTorch has no such projection width)"
        )
    extra = {"kdim": ek, "vdim": ev} if (ek, ev) != (e, e) else {}
    attention = nn.MultiheadAttention(
        e, layer.num_heads, dropout=layer.dropout, bias=layer.use_bias, batch_first=True, **extra
    )
    module = Attention(attention)
    packed = attention.in_proj_weight is not None
    n = len(formula.input_shapes)
    call = {1: "attention(x, x, x)", 2: "attention(q, kv, kv)", 3: "attention(q, k, v)"}[n]
    notes: Notes = (
        (
            "sequence_layout",
            "nn.MultiheadAttention(batch_first=True) takes (N, steps, features) and returns "
            f"a tuple (output, weights); MoveAxis(1, -1) turns each channels-first input "
            f"into (N, steps, features), {call}[0] keeps the output (need_weights=False), "
            "MoveAxis(-1, 1) makes it channels-first again",
        ),
        (
            "projections",
            (
                f"in_proj_weight ({3 * e}, {e}) holds the q, k and v projections stacked "
                "(rows q, then k, then v), in_proj_bias their biases"
                if packed
                else f"the key ({ek}) or value ({ev}) features differ from embed_dim={e}: "
                "q_proj_weight, k_proj_weight and v_proj_weight are kept apart "
                "(in_proj_weight is None), in_proj_bias stays packed"
            ),
        ),
        (
            "scaling",
            f"scores q.k / sqrt(head_dim) with head_dim = embed_dim // num_heads = {d} "
            f"(1/sqrt({d}) = {1 / math.sqrt(d):.4g})",
        ),
        (
            "training",
            f"dropout={attention.dropout} on the attention probabilities in train() only; "
            "eval() computes the same function as inference",
        ),
    )
    return module, torch_roles(attention), notes


@register_part("torch", "defaults", KIND)
def attention_defaults(layer: MultiHeadAttention, formula: LayerFormula) -> dict[str, Any]:
    """``nn.MultiheadAttention``'s defaults in the spec's terms (``key_dim`` is always
    ``embed_dim // num_heads``, ``num_heads`` is required).

    Example:
        >>> from compare.core.shapes import Shape
        >>> mha = MultiHeadAttention(num_heads=4).resolved(1)
        >>> attention_defaults(mha, mha.formula((Shape(32, (10,)),)))
        {'num_heads': 'required', 'key_dim': 8, 'use_bias': True, 'dropout': 0.0}
    """
    cls = nn.MultiheadAttention
    e = formula.input.channels
    return {
        "num_heads": signature_default(cls, "num_heads"),
        "key_dim": e // layer.num_heads,
        "use_bias": signature_default(cls, "bias"),
        "dropout": signature_default(cls, "dropout"),
    }


@register_part("torch", "initialisers", KIND)
def attention_initialisers(built: Built) -> dict[str, tuple[str, float | None]]:
    """Role -> (initialiser, theoretical std) as ``MultiheadAttention._reset_parameters``
    draws them: xavier_uniform on the input projections (fans of the whole packed
    matrix), zeros for both biases; ``out_proj`` keeps ``nn.Linear``'s
    kaiming_uniform(a=sqrt(5)).

    Example:
        >>> att = nn.MultiheadAttention(4, 2)
        >>> inits = attention_initialisers(Built("torch", att, (), torch_roles(att)))
        >>> inits["in_proj_kernel"][0], round(inits["in_proj_kernel"][1], 4)
        ('xavier_uniform', 0.3536)
    """
    out: dict[str, tuple[str, float | None]] = {}
    for role, (module, attr) in built.roles.items():
        param = getattr(module, attr)
        if role.endswith("bias"):
            out[role] = ("zeros", 0.0)
        elif role == "output_kernel":
            out[role] = ("kaiming_uniform(a=sqrt(5))", 1 / math.sqrt(3 * int(param.shape[1])))
        else:
            fan_out, fan_in = (int(n) for n in param.shape)
            out[role] = ("xavier_uniform", math.sqrt(2.0 / (fan_in + fan_out)))
    return out


@register_part("torch", "masked_run", KIND)
def masked_run(built: Built, x: Any, mask: Any) -> Any:
    """Run a built ``Attention`` on one channels-first sequence ``x`` with
    ``attn_mask=mask`` (boolean (L, S): True where a position may NOT be attended).

    Example:
        >>> import numpy as np
        >>> att = Attention(nn.MultiheadAttention(4, 2, batch_first=True)).eval()
        >>> b = Built("torch", att, ())
        >>> masked_run(b, np.zeros((1, 4, 3), "float32"), np.triu(np.ones((3, 3), bool), 1)).shape
        (1, 4, 3)
    """
    module: Any = built.obj
    with torch.no_grad():
        seq = torch.movedim(torch.from_numpy(x), 1, -1)
        blocked = torch.from_numpy(mask)
        out = module.attention(seq, seq, seq, attn_mask=blocked, need_weights=False)[0]
        return torch.movedim(out, -1, 1).numpy()


@register_part("torch", "batch_first_run", KIND)
def batch_first_run(built: Built, x: Any) -> Any:
    """Run the attention's weights in an ``nn.MultiheadAttention`` left at its default
    ``batch_first=False`` on the (N, steps, features) sequence of ``x`` (channels-first):
    what a port that keeps the Keras layout but forgets ``batch_first=True`` computes.

    Example:
        >>> import numpy as np
        >>> att = Attention(nn.MultiheadAttention(4, 2, batch_first=True)).eval()
        >>> batch_first_run(Built("torch", att, ()), np.zeros((2, 4, 3), "float32")).shape
        (2, 4, 3)
    """
    module: Any = built.obj
    own = module.attention
    twin = nn.MultiheadAttention(
        own.embed_dim,
        own.num_heads,
        bias=own.in_proj_bias is not None,
        kdim=own.kdim,
        vdim=own.vdim,
    )
    twin.load_state_dict(own.state_dict())
    twin.to(next(own.parameters()).dtype).eval()
    with torch.no_grad():
        seq = torch.movedim(torch.from_numpy(x), 1, -1)  # (N, L, E), read as (L, N, E)
        out = twin(seq, seq, seq, need_weights=False)[0]
        return torch.movedim(out, -1, 1).numpy()
