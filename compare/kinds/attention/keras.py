"""Keras builder and defaults of ``multi_head_attention``: ``keras.layers.MultiHeadAttention``
(layouts and porting: ``compare.kinds.attention.spec``).

Keras activations are channels-last, so a sequence is already the (N, steps, features)
``MultiHeadAttention`` takes. The layer is called ``mha(query, value, key=None)``, while
compare passes a node one tensor (self-attention) or the list of the values it reads:
``SpecMultiHeadAttention`` is the real ``MultiHeadAttention`` (same weights, same
``call``) whose ``build``, ``call`` and output shape also accept ``[query, key_value]``
or ``[query, key, value]`` (the spec's order) and one tensor for all three.

Example:
    >>> from compare.kinds.attention.spec import MultiHeadAttention
    >>> from compare.core.shapes import Shape
    >>> mha = MultiHeadAttention(num_heads=4).resolved(1)
    >>> layer = build_attention(mha, mha.formula((Shape(32, (10,)),)), "a", "float32")[0][0]
    >>> layer.count_params()
    4224
"""

from __future__ import annotations

import math
from typing import Any

from compare.adapters._keras_import import keras
from compare.adapters.base import Made, Notes
from compare.adapters.keras_defaults import initializer_name
from compare.core.registry import register_part
from compare.defaults import signature_default
from compare.formulas import LayerFormula
from compare.kinds.attention.spec import PROJECTIONS, MultiHeadAttention, head_dim

__all__ = ["SpecMultiHeadAttention", "attention_defaults", "build_attention", "keras_roles"]

KIND = "multi_head_attention"
L = keras.layers


def _split(query: Any, value: Any, key: Any) -> tuple[Any, Any, Any]:
    """(query, value, key) from one tensor or shape, or a list of one to three in the
    spec's order (query, key_value) / (query, key, value)."""
    if value is None and isinstance(query, list | tuple) and len(query) in (1, 2, 3):
        first = query[0]
        nested = isinstance(first, list | tuple) or hasattr(first, "shape")
        if nested:  # a list of tensors or of shapes, not one shape
            items = list(query)
            if len(items) == 3:
                return items[0], items[2], items[1]
            return items[0], items[-1], None
    return query, query if value is None else value, key


def _shapes(query_shape: Any, value_shape: Any) -> bool:
    """Whether ``build`` got a list of shapes as its only argument."""
    return (
        value_shape is None
        and isinstance(query_shape, list)
        and bool(query_shape)
        and isinstance(query_shape[0], list | tuple)
    )


class SpecMultiHeadAttention(L.MultiHeadAttention):  # type: ignore[misc,name-defined]
    """``keras.layers.MultiHeadAttention`` that also takes its inputs as compare's nodes
    pass them: one tensor (self-attention), ``[query, key_value]`` or
    ``[query, key, value]``. Building it twice builds it once.

    Example:
        >>> layer = SpecMultiHeadAttention(num_heads=2, key_dim=2)
        >>> layer.build([(None, 5, 4), (None, 3, 6)])
        >>> tuple(layer.key_dense.kernel.shape), layer.compute_output_shape([(None, 5, 4),
        ...     (None, 3, 6)])
        ((6, 2, 2), (None, 5, 4))
    """

    def build(self, query_shape: Any, value_shape: Any = None, key_shape: Any = None) -> None:
        if self.built:
            return
        if _shapes(query_shape, value_shape):
            query_shape, value_shape, key_shape = _split(query_shape, None, None)
        super().build(query_shape, query_shape if value_shape is None else value_shape, key_shape)

    def call(self, query: Any, value: Any = None, key: Any = None, **kwargs: Any) -> Any:
        query, value, key = _split(query, value, key)
        return super().call(query, value, key, **kwargs)

    def compute_output_shape(
        self, query_shape: Any, value_shape: Any = None, key_shape: Any = None
    ) -> Any:
        if _shapes(query_shape, value_shape):
            query_shape, value_shape, key_shape = _split(query_shape, None, None)
        value_shape = query_shape if value_shape is None else value_shape
        return super().compute_output_shape(query_shape, value_shape, key_shape)

    def compute_output_spec(
        self, query: Any, value: Any = None, key: Any = None, **kwargs: Any
    ) -> Any:
        query, value, key = _split(query, value, key)
        return super().compute_output_spec(query, value, key, **kwargs)


def einsum_fan_axes(dense: Any) -> tuple[list[int], list[int]]:
    """The kernel axes an ``EinsumDense`` draws its fan-in and fan-out from, read from its
    own ``equation`` (kernel letters found in the input term, and in the output term),
    as ``EinsumDense.build`` hands them to a variance-scaling initializer.

    Example:
        >>> einsum_fan_axes(keras.layers.EinsumDense("abc,cde->abde", (None, 2, 4)))
        ([0], [1, 2])
    """
    left, out = dense.equation.split("->")
    inp, kernel = left.split(",")
    return (
        [i for i, c in enumerate(kernel) if c in inp],
        [i for i, c in enumerate(kernel) if c in out],
    )


def _fan_aware(dense: Any) -> None:
    """Keep on ``dense`` the initializer with the fan axes ``build`` gave the kernel's
    draw (``EinsumDense.build`` clones it for the draw and keeps the axis-free one),
    so that the initialisers table reads the one that drew the weights."""
    init = dense.kernel_initializer
    if isinstance(init, keras.initializers.VarianceScaling) and init.input_axes is None:
        config = init.get_config()
        config["input_axes"], config["output_axes"] = einsum_fan_axes(dense)
        dense.kernel_initializer = type(init).from_config(config)


def keras_roles(layer: Any) -> dict[str, Any]:
    """role -> (sub-layer, attribute, None) of a built ``MultiHeadAttention``'s weights.

    Example:
        >>> mha = keras.layers.MultiHeadAttention(num_heads=2, key_dim=2, use_bias=False)
        >>> mha.build((None, 3, 4), (None, 3, 4))
        >>> sorted(keras_roles(mha))
        ['key_kernel', 'output_kernel', 'query_kernel', 'value_kernel']
    """
    dense = {
        "query": layer.query_dense,
        "key": layer.key_dense,
        "value": layer.value_dense,
        "output": layer.output_dense,
    }
    roles: dict[str, Any] = {}
    for name in (*PROJECTIONS, "output"):
        for what in ("kernel", "bias"):
            if getattr(dense[name], what, None) is not None:
                roles[f"{name}_{what}"] = (dense[name], what, None)
    return roles


@register_part("keras", "build", KIND)
def build_attention(
    layer: MultiHeadAttention, formula: LayerFormula, name: str, dtype: str
) -> Made:
    """``SpecMultiHeadAttention(num_heads, key_dim)``, built on the formula's input
    shapes so that its projections (and so its roles) exist.

    Example:
        >>> from compare.core.shapes import Shape
        >>> mha = MultiHeadAttention(num_heads=2).resolved(1)
        >>> made = build_attention(mha, mha.formula((Shape(8, (5,)), Shape(6, (3,)))), "a",
        ...                        "float32")
        >>> tuple(made[0][0].key_dense.kernel.shape)
        (6, 2, 4)
    """
    e = formula.input.channels
    d = head_dim(layer, e)
    attention = SpecMultiHeadAttention(
        num_heads=layer.num_heads,
        key_dim=d,
        dropout=layer.dropout,
        use_bias=layer.use_bias,
        name=name,
        dtype=dtype,
    )
    shapes = [s.keras() for s in formula.input_shapes]
    attention.build(shapes if len(shapes) > 1 else shapes[0])
    for dense in (
        attention.query_dense,
        attention.key_dense,
        attention.value_dense,
        attention.output_dense,
    ):
        _fan_aware(dense)
    cfg = attention.get_config()
    n = len(shapes)
    call = {1: "mha(x, x)", 2: "mha(q, kv)", 3: "mha(q, v, key=k)"}[n]
    init = (
        f"kernel_initializer={initializer_name(cfg['kernel_initializer'])} on every "
        f"EinsumDense kernel, bias_initializer={initializer_name(cfg['bias_initializer'])}"
    )
    notes: Notes = (
        (
            "sequence_layout",
            f"MultiHeadAttention takes the channels-last (N, steps, features) as they are: "
            f"{call}; value_dim={cfg['value_dim']}, output_shape={cfg['output_shape']} "
            "(None: the query's features)",
        ),
        (
            "projections",
            f"query, key and value are separate EinsumDense layers, each kernel "
            f"(features, num_heads={cfg['num_heads']}, key_dim={cfg['key_dim']}) and bias "
            f"(num_heads, key_dim); attention_output kernel (num_heads, key_dim, {e})",
        ),
        (
            "scaling",
            f"the query is multiplied by 1/sqrt(key_dim) = 1/sqrt({cfg['key_dim']}) = "
            f"{1 / math.sqrt(cfg['key_dim']):.4g} before q.k",
        ),
        (
            "training",
            f"dropout={cfg['dropout']} on the attention probabilities when called with "
            "training=True only",
        ),
        ("initializers", init),
    )
    return [attention], keras_roles(attention), notes


@register_part("keras", "defaults", KIND)
def attention_defaults(layer: MultiHeadAttention, formula: LayerFormula) -> dict[str, Any]:
    """``MultiHeadAttention``'s defaults in the spec's terms (``num_heads`` and
    ``key_dim`` are required).

    Example:
        >>> attention_defaults(MultiHeadAttention(num_heads=4), None)
        {'num_heads': 'required', 'key_dim': 'required', 'use_bias': True, 'dropout': 0.0}
    """
    cls = L.MultiHeadAttention
    return {
        name: signature_default(cls, name)
        for name in ("num_heads", "key_dim", "use_bias", "dropout")
    }


@register_part("keras", "masked_run", KIND)
def masked_run(built: Any, x: Any, mask: Any) -> Any:
    """Call the built layer on one (N, steps, features) sequence with
    ``attention_mask=mask`` (boolean (L, S): True where a position MAY be attended).

    Example:
        >>> import numpy as np
        >>> from compare.adapters.base import Built
        >>> layer = SpecMultiHeadAttention(num_heads=1, key_dim=2)
        >>> layer.build((None, 3, 2))
        >>> masked_run(Built("keras", [layer], ()), np.zeros((1, 3, 2), "float32"),
        ...            np.tril(np.ones((3, 3), bool))).shape
        (1, 3, 2)
    """
    layer = built.obj[0]
    y = layer(x, x, attention_mask=mask[None], training=False)
    return keras.ops.convert_to_numpy(y)


@register_part("keras", "count_as_embed", KIND)
def count_as_embed(layer: MultiHeadAttention, formula: LayerFormula) -> tuple[int, int]:
    """(key_dim, parameters) of a Keras ``MultiHeadAttention`` given PyTorch's
    ``embed_dim`` as its ``key_dim``: what a port that reads key_dim as the total width
    builds, counted by Keras itself.

    Example:
        >>> from compare.core.shapes import Shape
        >>> mha = MultiHeadAttention(num_heads=4).resolved(1)
        >>> count_as_embed(mha, mha.formula((Shape(32, (10,)),)))
        (32, 16800)
    """
    e = formula.input.channels
    shapes = [s.keras() for s in formula.input_shapes]
    twin = L.MultiHeadAttention(num_heads=layer.num_heads, key_dim=e, use_bias=layer.use_bias)
    query, value, key = _split(shapes, None, None) if len(shapes) > 1 else (shapes[0],) * 3
    twin.build(query, value, key)
    return e, int(twin.count_params())
