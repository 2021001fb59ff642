"""Named differences and naive-port checks of the activation kind.

Registered for ``activation``: the default fields a naive twin tries
(``negative_slope``, ``alpha``), the softmax-axis check and difference, the rows
derived from the spec (``approximate``, ``axis``) and why each default matters.
"""

from __future__ import annotations

from typing import Any

from compare.core.registry import ANY, register_part
from compare.differences import LayerFacts, measured
from compare.naive import Context, NaiveResult, measure_error
from compare.records import Difference

__all__ = ["derived_values", "softmax_axis", "softmax_differences"]

register_part(ANY, "default_fields", "activation")(("negative_slope", "alpha"))

register_part(ANY, "explain", "activation")(
    {
        "negative_slope": "the slope of leaky_relu for negative inputs",
        "alpha": "the saturation value of elu for negative inputs",
        "approximate": "gelu as the exact erf form or the tanh approximation",
        "axis": (
            "the axis softmax normalises; Keras' -1 is the channels in its channels-last "
            "layout, PyTorch's nn.Softmax() without dim picks one implicitly (deprecated)"
        ),
    }
)


@register_part(ANY, "spec_values", "activation")
def derived_values(layer: Any) -> dict[str, Any]:
    """The defaults rows an activation derives from its spec: ``approximate``
    (gelu_tanh) and ``axis`` (softmax acts on the channels).

    Example:
        >>> from compare.kinds.activation.spec import Activation
        >>> derived_values(Activation(activation="gelu"))
        {'approximate': False, 'axis': 'channels'}
    """
    return {"approximate": layer.activation == "gelu_tanh", "axis": "channels"}


def softmax_axis(ctx: Context) -> NaiveResult | None:
    """Keras' softmax(axis=-1) ported literally to a channels-first torch tensor.

    Example:
        >>> from compare.naive import context_of
        >>> from compare.spec import Input, Model
        >>> from compare.kinds.activation.spec import Activation
        >>> ctx = context_of(Model("m", Input(3, (4,)), (Activation(activation="softmax"),)))
        >>> err, detail = softmax_axis(ctx)
        >>> err > 0, detail
        (True, "torch.softmax(dim=-1) (Keras' axis=-1) on a channels-first tensor")
    """
    if getattr(ctx.layer, "activation", None) != "softmax" or not ctx.formula.output.rank:
        return None
    import torch

    naive = torch.softmax(torch.from_numpy(ctx.x_torch), dim=-1).numpy()
    err, why = measure_error(ctx.y_torch, naive)
    return err, why or "torch.softmax(dim=-1) (Keras' axis=-1) on a channels-first tensor"


register_part(ANY, "naive_checks", "activation")({"softmax_axis": softmax_axis})


@register_part(ANY, "differences_after_defaults", "activation")
def softmax_differences(facts: LayerFacts) -> list[Difference]:
    """The channel axis softmax normalises, where its naive port was measured.

    Example:
        >>> from compare.formulas import infer
        >>> from compare.records import FrameworkLayer
        >>> from compare.spec import Input, Model
        >>> from compare.kinds.activation.spec import Activation
        >>> m = Model("m", Input(3, (4,)), (Activation(activation="softmax"),))
        >>> t, k = FrameworkLayer("torch", True), FrameworkLayer("keras", True)
        >>> facts = LayerFacts(m.layers[0], infer(m)[0], t, k, {"softmax_axis": (0.4, "")})
        >>> [(d.what, d.torch, d.keras) for d in softmax_differences(facts)]
        [('softmax_axis', 'dim=1', 'axis=-1')]
    """
    if "softmax_axis" not in facts.naive:
        return []
    diff = Difference(
        "softmax_axis",
        "softmax normalises the channels: dim=1 in PyTorch's channels-first layout, "
        "axis=-1 in Keras' channels-last one",
        torch="dim=1",
        keras="axis=-1",
    )
    return [measured(diff, facts.naive["softmax_axis"])]
