"""Named differences and naive-port checks of the dense kind.

A Dense after a Flatten reads its features in C,H,W order in PyTorch and H,W,C in
Keras: its kernel's port permutes the rows, and ``flatten_dense`` measures a port
that only transposes. Its kernel layout is measured by the generic check.
"""

from __future__ import annotations

import numpy as np

from compare import layouts
from compare.adapters import get_adapter
from compare.core.registry import ANY, register_part
from compare.differences import LayerFacts, measured
from compare.naive import Context, NaiveResult, keras_port_in_torch, measure_error, reshaped_kernel
from compare.records import Difference

__all__ = [
    "flatten_dense",
    "flatten_dense_differences",
    "keras_dense_in_torch",
    "reshaped_dense_kernel",
]

register_part(ANY, "explain", "dense")(
    {
        "use_bias": "whether the layer adds a learned bias",
        "activation": "the function applied to the layer's output",
    }
)


def keras_dense_in_torch(ctx: Context, kernel: np.ndarray) -> np.ndarray | None:
    """The output the Keras Dense gives with ``kernel`` (Keras' (in, out) layout) on the
    layer's input in the order Keras reads it (torch's own input, its C,H,W features
    put in H,W,C order after a Flatten), computed by the real torch layer with the
    kernel's transpose, a view: ``x @ kernel == linear(x, kernel.T)``, with no weight
    permuted or copied (VGG16's first dense kernel holds 102,760,448). None for an
    input of more than two axes (the generic path handles it).

    Example:
        >>> from compare.naive import context_of, measure_error
        >>> from compare.spec import Dense, Input, Model
        >>> ctx = context_of(Model("m", Input(3), (Dense(units=2),)))
        >>> y = keras_dense_in_torch(ctx, ctx.weights("keras")["kernel"])  # the correct port
        >>> measure_error(ctx.y_torch, y)[0] < 1e-6  # float32 rounding: a strided product
        True
    """
    x = ctx.x_torch
    if x.ndim != 2:
        return None
    if ctx.formula.input.flattened_from is not None:
        channels, size = ctx.formula.input.flattened_from
        spatial = tuple(range(2, 2 + len(size)))
        x = x.reshape(len(x), channels, *size).transpose(0, *spatial, 1).reshape(len(x), -1)
    return get_adapter("torch").run_with(ctx.built("torch"), {"kernel": kernel.T}, x)


def reshaped_dense_kernel(ctx: Context) -> NaiveResult | None:
    """The generic kernel-layout check (torch's kernel reshaped into Keras' shape, not
    transposed), evaluated by ``keras_dense_in_torch``.

    Example:
        >>> from compare.naive import context_of
        >>> from compare.spec import Dense, Flatten, Input, Model
        >>> ctx = context_of(Model("m", Input(2, (3,)), (Flatten(), Dense(units=2))), 1)
        >>> err, detail = reshaped_dense_kernel(ctx)
        >>> err > 0, detail
        (True, 'kernel reshaped from torch (2, 6) to Keras (6, 2) instead of transposed')
    """
    return reshaped_kernel(ctx, evaluate=lambda c, naive: keras_dense_in_torch(c, naive["kernel"]))


def flatten_dense(ctx: Context) -> NaiveResult | None:
    """Port a Dense after Flatten with a plain transpose, rows left in C,H,W order.

    Example:
        >>> from compare.naive import context_of
        >>> from compare.spec import Dense, Flatten, Input, Model
        >>> ctx = context_of(Model("m", Input(2, (3,)), (Flatten(), Dense(units=2))), 1)
        >>> err, detail = flatten_dense(ctx)
        >>> err > 0, detail
        (True, 'Dense kernel transposed but its rows not permuted from C,H,W to H,W,C')
    """
    if ctx.formula.input.flattened_from is None:
        return None
    torch_w = ctx.weights("torch")["kernel"]
    y = keras_dense_in_torch(ctx, torch_w.T)
    if y is None:
        y = keras_port_in_torch(ctx, {"kernel": torch_w.T})
    err, why = measure_error(ctx.y_torch, y)
    return err, why or "Dense kernel transposed but its rows not permuted from C,H,W to H,W,C"


register_part(ANY, "naive_checks", "dense")(
    {"flatten_dense": flatten_dense, "kernel_layout": reshaped_dense_kernel}
)


@register_part(ANY, "differences", "dense")
def flatten_dense_differences(facts: LayerFacts) -> list[Difference]:
    """The row order a Dense after Flatten must be ported with (none elsewhere).

    Example:
        >>> from compare.formulas import infer
        >>> from compare.records import FrameworkLayer
        >>> from compare.spec import Dense, Flatten, Input, Model
        >>> m = Model("m", Input(2, (3,)), (Flatten(), Dense(units=2)))
        >>> t, k = FrameworkLayer("torch", True), FrameworkLayer("keras", True)
        >>> facts = LayerFacts(m.layers[1], infer(m)[1], t, k, {})
        >>> [d.what for d in flatten_dense_differences(facts)]
        ['flatten_dense']
    """
    formula = facts.formula
    if formula.input.flattened_from is None:
        return []
    c, size = formula.input.flattened_from
    axes = ",".join(layouts.kernel_axes(len(size)))
    diff = Difference(
        "flatten_dense",
        f"the Dense after Flatten reads {formula.input.channels} features in "
        f"C,{axes} order in PyTorch and {axes},C in Keras: porting its kernel "
        f"must permute the rows (reshape to ({c}, {', '.join(map(str, size))}), "
        "move C last), not only transpose",
    )
    return [measured(diff, facts.naive.get("flatten_dense"), why_in_detail=True)]
