"""Weight layouts of the normalisation kinds (framework-free, numpy-free).

Every role of a norm (``gamma``, ``beta``, ``moving_mean``, ``moving_variance``) is
one value per channel, ``(C,)`` in both frameworks, except a layer norm over all
axes, whose per-element scale is ``(C, *S)`` in PyTorch and ``(*S, C)`` in Keras.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from compare.formulas import LayerFormula
    from compare.layouts import WeightLayout
    from compare.spec import Layer

__all__ = ["KIND_LAYOUTS", "norm_layout"]

NORM_ROLES = ("gamma", "beta", "moving_mean", "moving_variance")


def norm_layout(
    layer: Layer, formula: LayerFormula, role: str
) -> tuple[WeightLayout, dict[str, int]]:
    """Layout and axis sizes of one role of a normalisation layer.

    Example:
        >>> from compare.spec import Input, Model
        >>> from compare.spec_layers import LayerNorm
        >>> from compare.formulas import infer
        >>> m = Model("m", Input(3, (4, 5)), (LayerNorm(axes="all"),))
        >>> lay, sizes = norm_layout(m.layers[0], infer(m)[0], "gamma")
        >>> lay.torch, lay.keras, sizes
        (('C', 'H', 'W'), ('H', 'W', 'C'), {'C': 3, 'H': 4, 'W': 5})
    """
    from compare.layouts import WeightLayout, kernel_axes

    if role not in NORM_ROLES:
        raise KeyError(f"no layout for role {role!r} of kind {layer.kind!r}")
    shape = formula.input
    if getattr(layer, "axes", "channels") == "all" and shape.rank:
        s = kernel_axes(shape.rank)
        sizes = {"C": shape.channels, **dict(zip(s, shape.size))}
        return WeightLayout(("C", *s), (*s, "C"), ("C", *s), (*s, "C")), sizes
    return WeightLayout(("C",), ("C",), ("C",), ("C",)), {"C": shape.channels}


#: kind -> function giving (layout, sizes) of a role; consulted before the conv tables.
KIND_LAYOUTS: dict[str, Callable[..., tuple[WeightLayout, dict[str, int]]]] = {
    "batch_norm": norm_layout,
    "layer_norm": norm_layout,
    "group_norm": norm_layout,
}
