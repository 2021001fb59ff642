"""Framework-free output shapes and parameter counts: the oracle the frameworks are held to.

Nothing here imports torch, tensorflow or keras, and nothing here names a kind: each
kind's ``rule`` (in its family package) gives its ``LayerFormula``. ``infer(model)``
walks a model, checks every rule that needs the incoming shape, and returns one
``LayerFormula`` per layer with the parameter count as a number and as a readable
expression (``"8*(3*3*40)+8 = 2888"``).

Example:
    >>> from compare.catalog import seed_model
    >>> [f.expression for f in infer(seed_model())][1]
    '8*(3*3*40)+8 = 2888'
"""

from __future__ import annotations

from compare.core.shapes import (
    LayerFormula,
    Pads,
    Shape,
    conv_output_size,
    pool_output_size,
    same_pads,
)
from compare.spec import Layer, Model

__all__ = [
    "LayerFormula",
    "Pads",
    "Shape",
    "conv_output_size",
    "infer",
    "layer_formula",
    "pool_output_size",
    "same_pads",
]


def layer_formula(layer: Layer, shape: Shape) -> LayerFormula:
    """The formula of one resolved layer on an input of ``shape`` (raises SpecError).

    Example:
        >>> from compare.spec import Dense
        >>> layer_formula(Dense(units=10).resolved(0), Shape(8)).params
        90
    """
    return layer.formula((shape,))


def infer(model: Model) -> tuple[LayerFormula, ...]:
    """One formula per layer: the shape rules were checked when the model was made.

    Example:
        >>> from compare.spec import Input, Model, Conv, Flatten, Dense
        >>> m = Model("seed", Input(1, (28, 28)), (Conv(filters=40, kernel_size=3),
        ...     Conv(filters=8, kernel_size=3), Flatten(), Dense(units=10)))
        >>> [f.params for f in infer(m)]
        [400, 2888, 0, 46090]
    """
    return model.formulas  # a Model infers once, when it is made
