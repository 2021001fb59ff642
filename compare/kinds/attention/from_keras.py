"""What the Keras importer maps to ``multi_head_attention``:
``keras.layers.MultiHeadAttention`` and compare's ``SpecMultiHeadAttention`` (the same
layer, callable on one tensor or a list, as the Keras adapter builds it).

Options the spec has no field for (a ``value_dim`` other than ``key_dim``, another
``output_shape``, attention over other axes, a gate, a sliding window) are named as
unmappable rather than dropped. A ``num_heads * key_dim`` other than the query's
features is mapped: the spec holds it, and the PyTorch side names why it has none.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from compare.adapters._keras_import import keras
from compare.core.registry import register_part
from compare.importers.base import Piece, Refuse
from compare.kinds.attention.keras import SpecMultiHeadAttention, keras_roles
from compare.kinds.attention.spec import MultiHeadAttention

__all__ = ["attention_spec", "spec_order"]


def attention_spec(layer: Any) -> MultiHeadAttention:
    """The spec of a ``keras.layers.MultiHeadAttention``; ``Refuse`` for options it has no
    field for.

    Example:
        >>> attention_spec(keras.layers.MultiHeadAttention(num_heads=4, key_dim=8))
        MultiHeadAttention(num_heads=4, key_dim=8, use_bias=True, dropout=0.0)
        >>> attention_spec(keras.layers.MultiHeadAttention(num_heads=4, key_dim=8, value_dim=4))
        Traceback (most recent call last):
        ...
        compare.importers.base.Refuse: value_dim=4 differs from key_dim=8: ...
    """
    config = layer.get_config()
    key_dim, value_dim = int(config["key_dim"]), config.get("value_dim")
    if value_dim not in (None, key_dim):
        raise Refuse(
            f"value_dim={value_dim} differs from key_dim={key_dim}: the spec's heads have "
            "one width for keys and values (as nn.MultiheadAttention's)"
        )
    options = {
        "output_shape": (None, "the spec's output has the query's features"),
        "attention_axes": (None, "the spec attends over the steps of a sequence"),
        "use_gate": (False, "the spec has no gate on the attention output"),
        "sliding_window": (None, "the spec attends over every step"),
    }
    for option, (want, why) in options.items():
        value = config.get(option, want)
        if value != want and not (option == "attention_axes" and value in ((1,), [1])):
            raise Refuse(f"{option}={value!r}: {why}")
    return MultiHeadAttention(
        num_heads=int(config["num_heads"]),
        key_dim=key_dim,
        use_bias=bool(config["use_bias"]),
        dropout=float(config["dropout"]),
    )


def spec_order(piece: Piece) -> Piece:
    """A Keras ``mha(query, value, key)`` call's inputs in the spec's order: ``[query]``
    when all three are one tensor (self-attention, as PyTorch's ``attn(x, x, x)`` reads),
    ``[query, key_value]`` when the key is the value, else ``[query, key, value]`` (the
    call lists the value before the key).

    Example:
        >>> from compare.core.shapes import Shape
        >>> p = Piece("a", "cls", Shape(4, (3,)), Shape(4, (3,)), sources=(-1, 0, 1),
        ...           in_shapes=(Shape(4, (3,)), Shape(5, (3,)), Shape(6, (3,))))
        >>> q = spec_order(p)
        >>> q.sources, [s.channels for s in q.in_shapes]
        ((-1, 1, 0), [4, 6, 5])
    """
    sources, shapes = piece.sources or (), piece.in_shapes
    if len(sources) == 3:
        sources, shapes = (sources[0], sources[2], sources[1]), (shapes[0], shapes[2], shapes[1])
    if len(sources) == 3 and sources[1] == sources[2]:
        sources, shapes = sources[:2], shapes[:2]
    if len(sources) == 2 and sources[0] == sources[1]:
        sources, shapes = sources[:1], ()
    return replace(piece, sources=sources, in_shapes=shapes)


@register_part("keras", "layer", keras.layers.MultiHeadAttention, SpecMultiHeadAttention)
def _attention(layer: Any, piece: Piece) -> Piece:
    if not isinstance(layer, SpecMultiHeadAttention) and piece.sources:
        piece = spec_order(piece)  # ours is called on the spec's list as it is
    return replace(piece, layer=attention_spec(layer), roles=keras_roles(layer))
