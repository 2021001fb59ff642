"""Named differences and naive-port checks of ``multi_head_attention``.

Its weight differences replace the generic ones: the packing of q, k and v into
``in_proj_weight``, the head axis, the output projection and the biases. Its naive
checks (run on self-attention layers, the ones with one input):

* ``packing``: each q, k, v block of ``in_proj_weight`` reshaped to Keras'
  (E, H, D) instead of transposed;
* ``heads``: the H*D axis split as (D, H) instead of (H, D) (heads interleaved);
* ``batch_first``: the weights in an ``nn.MultiheadAttention`` left at its default
  ``batch_first=False``, fed the (N, steps, features) sequence Keras uses;
* ``masks``: a boolean causal mask passed unchanged from PyTorch's ``attn_mask``
  (True: may NOT attend) to Keras' ``attention_mask`` (True: MAY attend);
* ``key_dim``: PyTorch's ``embed_dim`` given to Keras as ``key_dim`` (which is per
  head): counted by Keras itself.
"""

from __future__ import annotations

import numpy as np

from compare.core import registry
from compare.core.registry import ANY, register_part
from compare.differences import LayerFacts, measured, shape_text
from compare.kinds.attention.spec import MultiHeadAttention, head_dim, port_attention
from compare.naive import Context, NaiveResult, measure_error, with_keras_weights
from compare.records import Difference
from compare.spec import Layer

__all__ = [
    "attention_differences",
    "attention_weights",
    "batch_first",
    "heads",
    "key_dim",
    "masks",
    "packing",
]

KIND = "multi_head_attention"

register_part(ANY, "explain", KIND)(
    {
        "num_heads": "how many heads the projections are split into",
        "key_dim": "features per head (Keras' key_dim); PyTorch's is embed_dim // num_heads",
        "dropout": "the fraction of attention probabilities dropped in training",
    }
)


@register_part(ANY, "spec_values", KIND)
def derived_values(layer: MultiHeadAttention) -> dict[str, object]:
    """The spec's ``key_dim`` as the defaults table names it: left out, it is
    PyTorch's ``embed_dim // num_heads``.

    Example:
        >>> derived_values(MultiHeadAttention(num_heads=2))
        {'key_dim': 'embed_dim // num_heads'}
    """
    return {"key_dim": "embed_dim // num_heads" if layer.key_dim is None else layer.key_dim}


def _fact(facts: LayerFacts, framework: str, role: str) -> str:
    side = facts.torch if framework == "torch" else facts.keras
    for w in side.weights:
        if w.role == role:
            return f"{w.name} {shape_text(w.shape)} [{','.join(w.axes)}]"
    return "?"


@register_part(ANY, "weight_differences", KIND)
def attention_weights(facts: LayerFacts) -> list[Difference]:
    """Packing of q, k, v, the head axis, the output projection and the biases.

    Example:
        >>> from compare.formulas import infer
        >>> from compare.records import FrameworkLayer
        >>> from compare.spec import Input, Model
        >>> m = Model("m", Input(8, (5,)), (MultiHeadAttention(num_heads=2),))
        >>> t, k = FrameworkLayer("torch", True), FrameworkLayer("keras", True)
        >>> [d.what for d in attention_weights(LayerFacts(m.layers[0], infer(m)[0], t, k, {}))]
        ['packing', 'heads', 'output_kernel_layout', 'biases']
    """
    layer = facts.layer
    assert isinstance(layer, MultiHeadAttention)
    e = facts.formula.input.channels
    h, d = layer.num_heads, head_dim(layer, e)
    torch_roles = {w.role for w in facts.torch.weights}
    packed = "in_proj_kernel" in torch_roles or not torch_roles
    keras_kernels = ", ".join(
        _fact(facts, "keras", f"{p}_kernel") for p in ("query", "key", "value")
    )
    if packed:
        torch_text = _fact(facts, "torch", "in_proj_kernel")
        how = (
            f"split its {3 * h * d} rows into q, k and v blocks of {h * d}, transpose each "
            f"to (E, {h * d}) and reshape to (E, {h}, {d})"
        )
    else:
        torch_text = ", ".join(
            _fact(facts, "torch", f"{p}_kernel") for p in ("query", "key", "value")
        )
        how = f"transpose each to (features, {h * d}) and reshape to (features, {h}, {d})"
    out = [
        measured(
            Difference(
                "packing",
                f"PyTorch holds the input projections as {torch_text}, Keras as "
                f"{keras_kernels}; porting torch->keras is: {how}",
                torch=torch_text,
                keras=keras_kernels,
            ),
            facts.naive.get("packing"),
            why_in_detail=True,
        ),
        measured(
            Difference(
                "heads",
                f"{h} heads of {d} features: PyTorch's H*D axis is head-major (head i owns "
                f"rows i*{d} to i*{d}+{d - 1}), which Keras holds as its own axes (H, D)",
                torch=f"H*D = {h}*{d} (one axis)",
                keras=f"(H, D) = ({h}, {d})",
            ),
            facts.naive.get("heads"),
        ),
        Difference(
            "output_kernel_layout",
            f"PyTorch holds the output projection as {_fact(facts, 'torch', 'output_kernel')}, "
            f"Keras as {_fact(facts, 'keras', 'output_kernel')}; porting torch->keras is: "
            f"transpose to ({h * d}, {e}), reshape to ({h}, {d}, {e})",
            torch=_fact(facts, "torch", "output_kernel"),
            keras=_fact(facts, "keras", "output_kernel"),
        ),
    ]
    if layer.use_bias:
        keras_biases = ", ".join(
            _fact(facts, "keras", f"{p}_bias") for p in ("query", "key", "value")
        )
        out.append(
            Difference(
                "biases",
                f"PyTorch packs the three projection biases as "
                f"{_fact(facts, 'torch', 'in_proj_bias')} (q, k, v), Keras keeps "
                f"{keras_biases}; both start at zero; the output bias (E,) is the same in both",
                torch=_fact(facts, "torch", "in_proj_bias"),
                keras=keras_biases,
            )
        )
    return out


@register_part(ANY, "differences", KIND)
def attention_differences(facts: LayerFacts) -> list[Difference]:
    """batch_first, masks, the per-head key_dim (named; measured where the naive checks ran).

    Example:
        >>> from compare.formulas import infer
        >>> from compare.records import FrameworkLayer
        >>> from compare.spec import Input, Model
        >>> m = Model("m", Input(8, (5,)), (MultiHeadAttention(num_heads=2),))
        >>> t, k = FrameworkLayer("torch", True), FrameworkLayer("keras", True)
        >>> [d.what for d in attention_differences(LayerFacts(m.layers[0], infer(m)[0], t, k, {}))]
        ['batch_first', 'masks', 'key_dim']
    """
    layer = facts.layer
    assert isinstance(layer, MultiHeadAttention)
    e = facts.formula.input.channels
    h, d = layer.num_heads, head_dim(layer, e)
    return [
        measured(
            Difference(
                "batch_first",
                "nn.MultiheadAttention defaults to batch_first=False, (steps, N, features); "
                "Keras always takes (N, steps, features): a port must set batch_first=True "
                "(or transpose), or attention runs across the batch instead of the steps",
                torch="batch_first=False (default)",
                keras="(N, steps, features)",
            ),
            facts.naive.get("batch_first"),
        ),
        measured(
            Difference(
                "masks",
                "a boolean mask means the opposite in each: PyTorch's attn_mask True marks a "
                "position that may NOT be attended (a float mask is added to the scores), "
                "Keras' attention_mask True one that MAY; a causal mask is "
                "triu(ones, 1) in PyTorch and tril(ones) in Keras (use_causal_mask=True)",
                torch="attn_mask: True = blocked",
                keras="attention_mask: True = attended",
            ),
            facts.naive.get("masks"),
        ),
        measured(
            Difference(
                "key_dim",
                f"Keras' key_dim is per head: this layer is MultiHeadAttention(num_heads={h}, "
                f"key_dim={d}); nn.MultiheadAttention(embed_dim={e}, num_heads={h}) takes the "
                f"total width and splits it ({e} // {h} = {d})",
                torch=f"embed_dim={e} (total)",
                keras=f"key_dim={d} (per head)",
            ),
            facts.naive.get("key_dim"),
        ),
    ]


# -- naive ports ------------------------------------------------------------------------
def _single(ctx: Context) -> MultiHeadAttention | None:
    layer: Layer = ctx.layer
    if not isinstance(layer, MultiHeadAttention) or len(ctx.formula.input_shapes) != 1:
        return None
    return layer


def _naive_keras(ctx: Context, **flags: bool) -> NaiveResult:
    layer = _single(ctx)
    assert layer is not None
    ported = port_attention(ctx.weights("torch"), layer.num_heads, to="keras", **flags)
    return measure_error(ctx.y_keras, with_keras_weights(ctx, ported))


def packing(ctx: Context) -> NaiveResult | None:
    """Each q, k, v block reshaped to (E, H, D) instead of transposed (torch -> keras).

    Example:
        >>> from compare.naive import context_of
        >>> from compare.spec import Input, Model
        >>> m = Model("m", Input(8, (5,)), (MultiHeadAttention(num_heads=2),))
        >>> err, detail = packing(context_of(m))
        >>> err > 0, detail
        (True, 'each q, k, v block of in_proj_weight (and out_proj.weight) reshaped, not ...')
    """
    if _single(ctx) is None:
        return None
    err, why = _naive_keras(ctx, transpose=False)
    return err, why or (
        "each q, k, v block of in_proj_weight (and out_proj.weight) reshaped, not transposed"
    )


def heads(ctx: Context) -> NaiveResult | None:
    """The H*D axis split as (D, H): the heads interleaved.

    Example:
        >>> from compare.naive import context_of
        >>> from compare.spec import Input, Model
        >>> m = Model("m", Input(8, (5,)), (MultiHeadAttention(num_heads=2),))
        >>> heads(context_of(m))[0] > 0
        True
    """
    layer = _single(ctx)
    if layer is None or layer.num_heads == 1:
        return None
    err, why = _naive_keras(ctx, heads_first=False)
    return err, why or "the H*D axis split as (D, H) instead of (H, D): heads interleaved"


def batch_first(ctx: Context) -> NaiveResult | None:
    """The same weights in ``nn.MultiheadAttention(batch_first=False)``, the default.

    Example:
        >>> from compare.naive import context_of
        >>> from compare.spec import Input, Model
        >>> m = Model("m", Input(8, (5,)), (MultiHeadAttention(num_heads=2),))
        >>> batch_first(context_of(m))[0] > 0
        True
    """
    if _single(ctx) is None:
        return None
    run = registry.part("torch", "batch_first_run", KIND)
    err, why = measure_error(ctx.y_torch, run(ctx.built("torch"), ctx.x_torch))
    return err, why or (
        "batch_first left at False: (N, steps, features) read as (steps, N, features), "
        "so each step attends over the samples of the batch"
    )


def masks(ctx: Context) -> NaiveResult | None:
    """A causal boolean mask passed unchanged from PyTorch's attn_mask to Keras'
    attention_mask (measured against PyTorch's masked output).

    Example:
        >>> from compare.naive import context_of
        >>> from compare.spec import Input, Model
        >>> m = Model("m", Input(8, (5,)), (MultiHeadAttention(num_heads=2),))
        >>> masks(context_of(m))[1]
        'the causal attn_mask triu(ones(5, 5), 1) given to Keras as attention_mask ...'
    """
    if _single(ctx) is None:
        return None
    steps = ctx.formula.input.size[0]
    if steps < 2:
        return None
    blocked = np.triu(np.ones((steps, steps), dtype=bool), 1)
    y_torch = registry.part("torch", "masked_run", KIND)(ctx.built("torch"), ctx.x_torch, blocked)
    keras_run = registry.part("keras", "masked_run", KIND)
    y_right = keras_run(ctx.built("keras"), ctx.x_keras, ~blocked)
    y_naive = keras_run(ctx.built("keras"), ctx.x_keras, blocked)
    want = np.moveaxis(y_torch, 1, -1)
    right, _ = measure_error(want, y_right)
    err, why = measure_error(want, y_naive)
    return err, why or (
        f"the causal attn_mask triu(ones({steps}, {steps}), 1) given to Keras as "
        f"attention_mask unchanged (inverted, the two agree to {right:.2g})"
    )


def key_dim(ctx: Context) -> NaiveResult | None:
    """PyTorch's embed_dim given to Keras as key_dim: a layer of another size, counted by
    Keras; the weights cannot even be ported (err None).

    Example:
        >>> from compare.naive import context_of
        >>> from compare.spec import Input, Model
        >>> m = Model("m", Input(32, (5,)), (MultiHeadAttention(num_heads=4),))
        >>> key_dim(context_of(m))[1]
        "MultiHeadAttention(num_heads=4, key_dim=32) holds 16,800 parameters (Keras' count), ..."
    """
    layer = _single(ctx)
    if layer is None or layer.num_heads == 1:
        return None
    e, count = registry.part("keras", "count_as_embed", KIND)(layer, ctx.formula)
    return None, (
        f"MultiHeadAttention(num_heads={layer.num_heads}, key_dim={e}) holds {count:,} "
        f"parameters (Keras' count), not {ctx.formula.params:,}: {layer.num_heads} heads "
        f"of {e} features each, which no weights of nn.MultiheadAttention(embed_dim={e}) fill"
    )


register_part(ANY, "naive_checks", KIND)(
    {
        "packing": packing,
        "heads": heads,
        "batch_first": batch_first,
        "masks": masks,
        "key_dim": key_dim,
    }
)
