"""Named differences and naive-port checks of the pooling kinds (max_pool, avg_pool,
global_avg_pool, global_max_pool).

Their padding is measured by the generic 'same'-padding check; registered here: the
default field a naive twin tries (``count_include_pad``) and why each default matters.
"""

from __future__ import annotations

from typing import Any

from compare.core.registry import ANY, register_part
from compare.differences import LayerFacts, measured
from compare.records import Difference

__all__ = ["max_pool_differences", "pad_value_check"]

POOLS = ("max_pool", "avg_pool")
GLOBAL_POOLS = ("global_avg_pool", "global_max_pool")

register_part(ANY, "default_fields", "avg_pool")(("count_include_pad",))

register_part(ANY, "explain", *POOLS)(
    {
        "pool_size": "the pooling window",
        "strides": "the step between windows (both default to the window)",
        "padding": "PyTorch's padding is an integer (0), Keras' a mode ('valid')",
        "ceil_mode": (
            "PyTorch can add a last, partial window; Keras has no such option (a max "
            "pool realises it with -inf padding, an average as a masked mean)"
        ),
        "count_include_pad": (
            "whether padded zeros count in the average's divisor; Keras has no parameter: "
            "its 'same' always excludes them"
        ),
    }
)

register_part(ANY, "explain", *GLOBAL_POOLS)(
    {"keepdims": "whether the pooled spatial axes stay as size-1 axes"}
)


def pad_value_check(ctx: Any) -> Any:
    """A padded max pool ported with the other padding value: PyTorch's ``padding=``
    (-inf) for a zero pad, or Keras' ``ZeroPadding`` before the pool for PyTorch's -inf
    (the ResNet stem's common port).

    Example:
        >>> from compare.naive import context_of
        >>> from compare.spec import Input, Model
        >>> from compare.kinds.pool.spec import MaxPool
        >>> layer = MaxPool(pool_size=2, strides=2, padding=1)  # corner windows: 1 element
        >>> err, detail = pad_value_check(context_of(Model("m", Input(2, (6, 6)), (layer,))))
        >>> err > 0, detail
        (True, 'Keras ZeroPadding2D before the pool: zeros instead of -inf')
    """
    import dataclasses

    from compare.naive import naive_twin

    layer: Any = ctx.layer
    pads = ctx.formula.pads
    if layer.kind != "max_pool" or not pads or not any(a or b for a, b in pads):
        return None
    if layer.ceil_mode:
        return None
    rank = ctx.formula.input.rank
    if layer.pad_zeros:
        result = naive_twin(ctx, "torch", dataclasses.replace(layer, pad_zeros=False))
        text = f"PyTorch MaxPool{rank}d(padding=...): -inf instead of zeros"
    else:
        result = naive_twin(ctx, "keras", dataclasses.replace(layer, pad_zeros=True))
        text = f"Keras ZeroPadding{rank}D before the pool: zeros instead of -inf"
    if result is None:
        return None
    err, why = result
    return err, why or text


register_part(ANY, "naive_checks", "max_pool")({"pad_value": pad_value_check})


@register_part(ANY, "differences", "max_pool")
def max_pool_differences(facts: LayerFacts) -> list[Difference]:
    """What a padded max pool pads with, where the naive port was measured.

    Example:
        >>> from compare.formulas import infer
        >>> from compare.records import FrameworkLayer
        >>> from compare.spec import Input, Model
        >>> from compare.kinds.pool.spec import MaxPool
        >>> m = Model("m", Input(1, (6, 6)), (MaxPool(pool_size=3, strides=2, padding=1),))
        >>> t, k = FrameworkLayer("torch", True), FrameworkLayer("keras", True)
        >>> facts = LayerFacts(m.layers[0], infer(m)[0], t, k, {"pad_value": (0.5, "")})
        >>> [(d.what, d.naive_max_abs_err) for d in max_pool_differences(facts)]
        [('pad_value', 0.5)]
    """
    if "pad_value" not in facts.naive:
        return []
    layer: Any = facts.layer
    if layer.pad_zeros:
        text = (
            "the padding holds zeros (an explicit zero pad before the pool): on a signed "
            "input a padded zero wins every window whose real elements are all negative; "
            "a pool's own padding (PyTorch's padding=, Keras' 'same') pads -inf"
        )
    else:
        text = (
            "a max pool's own padding is -inf (never wins); Keras pads it only as 'same', "
            "and ZeroPadding before the pool pads zeros, which win on a signed input"
        )
    diff = Difference(
        "pad_value",
        text,
        torch="zero pad + MaxPool" if layer.pad_zeros else "padding= (-inf)",
        keras="ZeroPadding + valid" if layer.pad_zeros else "NegInfPadding / 'same' (-inf)",
    )
    return [measured(diff, facts.naive["pad_value"])]
