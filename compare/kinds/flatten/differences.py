"""Named differences of the flatten kind: the order its features come out in."""

from __future__ import annotations

from compare import layouts
from compare.core.registry import ANY, register_part
from compare.differences import LayerFacts, shape_text
from compare.records import Difference

__all__ = ["flatten_order"]


@register_part(ANY, "differences", "flatten")
def flatten_order(facts: LayerFacts) -> list[Difference]:
    """PyTorch flattens C,H,W, Keras H,W,C: the same features in a different order.

    Example:
        >>> from compare.formulas import infer
        >>> from compare.records import FrameworkLayer
        >>> from compare.spec import Flatten, Input, Model
        >>> m = Model("m", Input(2, (3,)), (Flatten(),))
        >>> t, k = FrameworkLayer("torch", True), FrameworkLayer("keras", True)
        >>> facts = LayerFacts(m.layers[0], infer(m)[0], t, k, {})
        >>> [(d.torch, d.keras) for d in flatten_order(facts)]
        [('C,L', 'L,C')]
    """
    formula = facts.formula
    if not formula.input.rank:
        return []
    axes = ",".join(layouts.kernel_axes(formula.input.rank))
    return [
        Difference(
            "flatten_order",
            f"PyTorch flattens {shape_text(formula.input.torch())} in C,{axes} order, Keras "
            f"{shape_text(formula.input.keras())} in {axes},C order: the same "
            f"{formula.output.channels} features in a different order",
            torch=f"C,{axes}",
            keras=f"{axes},C",
        )
    ]
