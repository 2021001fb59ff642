"""PyTorch builder, defaults and initialisers of the ``dense`` kind: ``nn.Linear``, with
the channels moved last and back when it acts on a feature map.

Example:
    >>> from compare.formulas import infer
    >>> from compare.spec import Dense, Input, Model
    >>> m = Model("m", Input(4), (Dense(units=2),))
    >>> build_dense(m.layers[0], infer(m)[0])[0]
    Linear(in_features=4, out_features=2, bias=True)
"""

from __future__ import annotations

from typing import Any

from torch import nn

from compare.adapters.base import Made
from compare.adapters.torch_defaults import fan_in_uniform
from compare.adapters.torch_modules import MoveAxis
from compare.core.registry import register_part
from compare.defaults import signature_default
from compare.formulas import LayerFormula
from compare.kinds.dense.spec import Dense

__all__ = ["build_dense", "dense_defaults"]

register_part("torch", "initialisers", "dense")(fan_in_uniform)


@register_part("torch", "build", "dense")
def build_dense(layer: Dense, formula: LayerFormula) -> Made:
    """``nn.Linear`` on the channels (between two ``MoveAxis`` on a feature map).

    Example:
        >>> from compare.formulas import infer
        >>> from compare.spec import Input, Model
        >>> m = Model("m", Input(4, (5,)), (Dense(units=2),))
        >>> build_dense(m.layers[0], infer(m)[0])[2][0][0]
        'dense_on_map'
    """
    linear = nn.Linear(formula.input.channels, layer.units, bias=layer.use_bias)
    roles = {"kernel": (linear, "weight"), "bias": (linear, "bias")}
    if formula.input.rank == 0:
        return linear, roles, ()
    note = "nn.Linear acts on the last axis, so channels move last and back"
    module = nn.Sequential(MoveAxis(1, -1), linear, MoveAxis(-1, 1))
    return module, roles, (("dense_on_map", note),)


@register_part("torch", "defaults", "dense")
def dense_defaults(layer: Dense, formula: LayerFormula) -> dict[str, Any]:
    """``nn.Linear``'s defaults in the spec's terms (no activation argument: linear).

    Example:
        >>> dense_defaults(Dense(units=2), None)
        {'use_bias': True, 'activation': 'linear'}
    """
    return {"use_bias": signature_default(nn.Linear, "bias"), "activation": "linear"}
