"""Named differences of the prelu kind: how each framework says how many slopes there
are (``num_parameters`` vs ``shared_axes``), where they start (0.25 vs 0), and the
random range the fresh slopes get before porting (a constant 0.25 everywhere would let
a port that mixes up the channels pass).
"""

from __future__ import annotations

from compare.core.registry import ANY, register_part
from compare.differences import LayerFacts
from compare.records import Difference

__all__ = ["prelu_differences"]

register_part(ANY, "default_fields", "prelu")(("init",))

register_part(ANY, "state_ranges", "prelu")({"alpha": (-0.5, 0.5)})

register_part(ANY, "explain", "prelu")(
    {
        "slopes": (
            "how many learned slopes: PyTorch's nn.PReLU() has one for the whole tensor, "
            "Keras' PReLU() one per element of the sample (input_shape[1:])"
        ),
        "init": (
            "the slopes' starting value (PyTorch 0.25: leaky from the start; Keras "
            "zeros: a plain ReLU until trained); ported slopes replace it"
        ),
    }
)

_HOW = {
    "one": ("num_parameters=1", "shared_axes=<every non-batch axis>"),
    "channel": ("num_parameters=C", "shared_axes=<the spatial axes>"),
    "element": ("not expressible (1 or C only)", "shared_axes=None"),
}


@register_part(ANY, "differences", "prelu")
def prelu_differences(facts: LayerFacts) -> list[Difference]:
    """How each framework says how many slopes the layer learns.

    Example:
        >>> from compare.formulas import infer
        >>> from compare.records import FrameworkLayer
        >>> from compare.spec import Input, Model
        >>> from compare.kinds.prelu.spec import PReLU
        >>> m = Model("m", Input(3, (4, 4)), (PReLU(),))
        >>> t, k = FrameworkLayer("torch", True), FrameworkLayer("keras", True)
        >>> facts = LayerFacts(m.layers[0], infer(m)[0], t, k, {})
        >>> [(d.torch, d.keras) for d in prelu_differences(facts)]
        [('num_parameters=C', 'shared_axes=<the spatial axes>')]
    """
    slopes = getattr(facts.layer, "slopes", "channel")
    if not facts.formula.input.rank and slopes == "element":
        slopes = "channel"
    torch, keras = _HOW[slopes]
    detail = (
        "PyTorch counts the slopes (num_parameters, broadcast along dim 1, the channels), "
        "Keras names the axes that share one (shared_axes; the alpha weight keeps them as "
        "size-1 axes)"
    )
    return [Difference("slopes", detail, torch=torch, keras=keras)]
