"""PyTorch builder, defaults and initialisers of the ``prelu`` kind: ``nn.PReLU``.

``nn.PReLU`` holds one slope or one per channel (dim 1): one per element of a map
(Keras' default) is ``Unsupported``, with the reason.

Example:
    >>> from compare.formulas import infer
    >>> from compare.spec import Input, Model
    >>> from compare.kinds.prelu.spec import PReLU
    >>> m = Model("m", Input(3, (4, 4)), (PReLU(),))
    >>> build_prelu(m.layers[0], infer(m)[0])[0]
    PReLU(num_parameters=3)
"""

from __future__ import annotations

from typing import Any

from torch import nn

from compare.adapters.base import Built, Made, Unsupported
from compare.core.registry import register_part
from compare.defaults import signature_default
from compare.formulas import LayerFormula
from compare.kinds.prelu.spec import PReLU

__all__ = ["build_prelu", "prelu_defaults", "prelu_initialisers"]


@register_part("torch", "build", "prelu")
def build_prelu(layer: PReLU, formula: LayerFormula) -> Made:
    """``nn.PReLU(num_parameters, init)``, its ``weight`` the ``alpha`` role.

    Example:
        >>> from compare.formulas import infer
        >>> from compare.spec import Input, Model
        >>> m = Model("m", Input(3, (4,)), (PReLU(slopes="element"),))
        >>> build_prelu(m.layers[0], infer(m)[0])
        Traceback (most recent call last):
        ...
        compare.adapters.base.Unsupported: nn.PReLU holds one slope or one per channel ...
    """
    shape = formula.input
    if layer.slopes == "element" and shape.rank:
        raise Unsupported(
            "nn.PReLU holds one slope or one per channel (num_parameters 1 or C, applied "
            f"on dim 1); one slope per element of the {shape.channels}x"
            f"{'x'.join(map(str, shape.size))} sample (Keras' default PReLU()) cannot be "
            "expressed"
        )
    module = nn.PReLU(num_parameters=layer.count(shape), init=layer.init)
    return module, {"alpha": (module, "weight")}, ()


@register_part("torch", "defaults", "prelu")
def prelu_defaults(layer: PReLU, formula: LayerFormula) -> dict[str, Any]:
    """``nn.PReLU()``'s defaults: one slope for the whole tensor, starting at 0.25.

    Example:
        >>> prelu_defaults(PReLU(), None)
        {'slopes': 'one', 'init': 0.25}
    """
    n = signature_default(nn.PReLU, "num_parameters")
    return {"slopes": "one" if n == 1 else n, "init": signature_default(nn.PReLU, "init")}


@register_part("torch", "initialisers", "prelu")
def prelu_initialisers(built: Built) -> dict[str, tuple[str, float | None]]:
    """Role -> (initialiser, std): ``nn.PReLU`` fills its weight with ``init``, read
    back from the built module (``reset_parameters`` fills with ``self.init``).

    Example:
        >>> m = nn.PReLU(3, init=0.1)
        >>> prelu_initialisers(Built("torch", m, (), {"alpha": (m, "weight")}))
        {'alpha': ('constant(0.1)', 0.0)}
    """
    module = built.roles["alpha"][0]
    return {"alpha": (f"constant({float(module.init):g})", 0.0)}
