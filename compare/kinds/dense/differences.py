"""Named differences and naive-port checks of the dense kind.

A Dense after a Flatten reads its features in C,H,W order in PyTorch and H,W,C in
Keras: its kernel's port permutes the rows, and ``flatten_dense`` measures a port
that only transposes. Its kernel layout is measured by the generic check.
"""

from __future__ import annotations

from compare import layouts
from compare.core.registry import ANY, register_part
from compare.differences import LayerFacts, measured
from compare.naive import Context, NaiveResult, keras_port_in_torch, measure_error
from compare.records import Difference

__all__ = ["flatten_dense", "flatten_dense_differences"]

register_part(ANY, "explain", "dense")(
    {
        "use_bias": "whether the layer adds a learned bias",
        "activation": "the function applied to the layer's output",
    }
)


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
    naive = {"kernel": ctx.weights("torch")["kernel"].T}
    err, why = measure_error(ctx.y_torch, keras_port_in_torch(ctx, naive))
    return err, why or "Dense kernel transposed but its rows not permuted from C,H,W to H,W,C"


register_part(ANY, "naive_checks", "dense")({"flatten_dense": flatten_dense})


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
