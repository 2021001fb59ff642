"""Weight and activation layouts of any layer: the engine over the kinds' ``layout``.

The layout data itself is each kind's (``Layer.layout`` in its family package); the
generic machinery (labels, permutations, ports, activation layouts) is
``compare.core.layouts``, re-exported here.

Example:
    >>> from compare.spec import Input, Model, Conv
    >>> from compare.formulas import infer
    >>> m = Model("m", Input(40, (28, 28)), (Conv(filters=8, kernel_size=3),))
    >>> layout_of(m.layers[0], infer(m)[0], "kernel").torch
    ('O', 'I', 'H', 'W')
"""

from __future__ import annotations

from typing import Any

from compare.core import registry
from compare.core.layouts import (
    WeightLayout,
    activation_to_keras,
    activation_to_torch,
    inverse,
    kernel_axes,
    permutation,
    port_weight,
)
from compare.core.shapes import LayerFormula
from compare.spec import Layer

__all__ = [
    "WeightLayout",
    "activation_to_keras",
    "activation_to_torch",
    "inverse",
    "kernel_axes",
    "layout_of",
    "permutation",
    "port_weight",
    "split_sizes",
    "weight_axes",
    "weight_layout",
]


def layout_of(layer: Layer, formula: LayerFormula, role: str) -> WeightLayout:
    """The layout of ``role`` of a resolved layer on its input (any kind).

    Example:
        >>> from compare.spec import Input, Model, Dense, Flatten
        >>> from compare.formulas import infer
        >>> m = Model("m", Input(3, (2, 2)), (Flatten(), Dense(units=4)))
        >>> layout_of(m.layers[1], infer(m)[1], "kernel").keras
        ('H', 'W', 'C', 'O')
    """
    return layer.laid_out(formula, role)[0]


def split_sizes(layer: Layer, formula: LayerFormula, role: str) -> dict[str, int]:
    """Length of every split axis label of ``role`` for this layer.

    Example:
        >>> from compare.spec import Input, Model, Conv
        >>> from compare.formulas import infer
        >>> m = Model("m", Input(40, (28, 28)), (Conv(filters=8, kernel_size=3),))
        >>> split_sizes(m.layers[0], infer(m)[0], "kernel")
        {'O': 8, 'I': 40, 'H': 3, 'W': 3}
    """
    return layer.laid_out(formula, role)[1]


def weight_axes(
    layer: Layer, formula: LayerFormula, role: str, framework: str, ndim: int
) -> tuple[str, ...]:
    """Axis labels of ``role`` as ``framework`` holds it; () if the array has other axes.

    Example:
        >>> from compare.spec import Input, Model, Conv
        >>> from compare.formulas import infer
        >>> m = Model("m", Input(40, (28, 28)), (Conv(filters=8, kernel_size=3),))
        >>> weight_axes(m.layers[0], infer(m)[0], "kernel", "keras", 4)
        ('H', 'W', 'I', 'O')
    """
    return layer.weight_axes(formula, role, framework, ndim)


def weight_layout(kind: str, role: str, rank: int, **options: Any) -> WeightLayout:
    """The layout of ``role`` of ``kind`` at spatial ``rank`` without a layer at hand:
    the kind's own ``weight_layout`` (``groups``, ``flattened`` ... as it takes them).

    Example:
        >>> weight_layout("conv", "kernel", 2).keras_shown
        ('H', 'W', 'I', 'O')
        >>> weight_layout("dense", "kernel", 0, flattened=2).torch
        ('O', 'C', 'H', 'W')
    """
    return registry.kind_class(kind).weight_layout(role, rank, **options)
