"""Keras builder and defaults of the ``prelu`` kind: ``PReLU`` with ``shared_axes``.

One slope: every non-batch axis shared; one per channel: the spatial axes shared (the
channels are last); one per element: none shared (Keras' default).

Example:
    >>> from compare.formulas import infer
    >>> from compare.spec import Input, Model
    >>> from compare.kinds.prelu.spec import PReLU
    >>> m = Model("m", Input(3, (4, 4)), (PReLU(),))
    >>> build_prelu(m.layers[0], infer(m)[0], "p", "float32")[0][0].shared_axes
    [1, 2]
"""

from __future__ import annotations

from typing import Any

from compare.adapters._keras_import import keras
from compare.adapters.base import Made
from compare.core.registry import register_part
from compare.defaults import signature_default
from compare.formulas import LayerFormula
from compare.kinds.prelu.spec import PReLU

__all__ = ["build_prelu", "prelu_defaults", "shared_axes"]

L = keras.layers


def shared_axes(slopes: str, rank: int) -> list[int] | None:
    """Keras' ``shared_axes`` for ``slopes`` on an input of ``rank`` spatial axes.

    Example:
        >>> shared_axes("one", 2), shared_axes("channel", 2), shared_axes("element", 2)
        ([1, 2, 3], [1, 2], None)
    """
    if slopes == "one":
        return list(range(1, rank + 2))
    if slopes == "channel" and rank:
        return list(range(1, rank + 1))
    return None


@register_part("keras", "build", "prelu")
def build_prelu(layer: PReLU, formula: LayerFormula, name: str, dtype: str) -> Made:
    """``PReLU(alpha_initializer=Constant(init), shared_axes=...)``, ``alpha`` its role.

    Example:
        >>> from compare.formulas import infer
        >>> from compare.spec import Input, Model
        >>> m = Model("m", Input(3, (4,)), (PReLU(slopes="element"),))
        >>> build_prelu(m.layers[0], infer(m)[0], "p", "float32")[0][0].shared_axes is None
        True
    """
    prelu = L.PReLU(
        alpha_initializer=keras.initializers.Constant(layer.init),
        shared_axes=shared_axes(layer.slopes, formula.input.rank),
        name=name,
        dtype=dtype,
    )
    return [prelu], {"alpha": (prelu, "alpha", None)}, ()


def _default_init() -> float:
    """The starting slope of ``PReLU()``: its default initializer, drawn."""
    init = keras.initializers.get(signature_default(L.PReLU, "alpha_initializer"))
    return float(keras.ops.convert_to_numpy(init((1,)))[0])


@register_part("keras", "defaults", "prelu")
def prelu_defaults(layer: PReLU, formula: LayerFormula) -> dict[str, Any]:
    """``PReLU()``'s defaults: no shared axes (one slope per element), starting at 0.

    Example:
        >>> prelu_defaults(PReLU(), None)
        {'slopes': 'element', 'init': 0.0}
    """
    shared = signature_default(L.PReLU, "shared_axes")
    return {"slopes": "element" if shared is None else shared, "init": _default_init()}
