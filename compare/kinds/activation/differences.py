"""Named differences and naive-port checks of the activation kind.

Registered for ``activation``: the default fields a naive twin tries
(``negative_slope``, ``alpha``), the softmax-axis check and difference (softmax and
log_softmax), the hard sigmoid's two definitions (PyTorch and Keras 3:
``relu6(x + 3) / 6``; Keras 2 and ``tf.keras`` before Keras 3: ``clip(0.2 x + 0.5, 0,
1)``, also inside a hand-written ``x * hard_sigmoid(x)`` hard swish) with what porting
one as the other gets wrong, the rows derived from the spec (``approximate``,
``axis``) and why each default matters.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from compare.core.registry import ANY, register_part
from compare.differences import LayerFacts, measured
from compare.naive import Context, NaiveResult, measure_error
from compare.records import Difference

__all__ = [
    "KERAS2_HARD_SIGMOID",
    "derived_values",
    "hard_sigmoid_definition",
    "hard_sigmoid_differences",
    "keras2_hard_sigmoid",
    "softmax_axis",
    "softmax_differences",
]

#: Keras 2's (and tf.keras 2.x's) ``hard_sigmoid``, as its backend defined it
#: (``tf_keras/src/backend.py``: ``x = 0.2 * x + 0.5``, clipped to [0, 1]).
KERAS2_HARD_SIGMOID = "clip(0.2 * x + 0.5, 0, 1)"

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


_SOFTMAXES = ("softmax", "log_softmax")


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
    name = getattr(ctx.layer, "activation", None)
    if name not in _SOFTMAXES or not ctx.formula.output.rank:
        return None
    import torch

    naive = getattr(torch, name)(torch.from_numpy(ctx.x_torch), dim=-1).numpy()
    err, why = measure_error(ctx.y_torch, naive)
    return err, why or f"torch.{name}(dim=-1) (Keras' axis=-1) on a channels-first tensor"


def keras2_hard_sigmoid(x: np.ndarray) -> np.ndarray:
    """Keras 2's hard sigmoid, ``clip(0.2 x + 0.5, 0, 1)`` (slope 1/5, saturating at
    |x| = 2.5; PyTorch's and Keras 3's has slope 1/6 and saturates at |x| = 3).

    Example:
        >>> keras2_hard_sigmoid(np.array([-3.0, 0.0, 1.0, 3.0]))
        array([0. , 0.5, 0.7, 1. ])
    """
    return np.clip(0.2 * x + 0.5, 0.0, 1.0)


def hard_sigmoid_definition(ctx: Context) -> NaiveResult | None:
    """A Keras 2 model's hard sigmoid (or a hard swish written ``x * hard_sigmoid(x)``
    there) ported as PyTorch's ``nn.Hardsigmoid`` / ``nn.Hardswish``: what the two
    definitions disagree by on this layer's input.

    Example:
        >>> from compare.naive import context_of
        >>> from compare.spec import Input, Model
        >>> from compare.kinds.activation.spec import Activation
        >>> ctx = context_of(Model("m", Input(3, (8,)), (Activation(activation="hard_sigmoid"),)))
        >>> err, detail = hard_sigmoid_definition(ctx)
        >>> 0 < err <= 1 / 12, detail
        (True, "Keras 2's clip(0.2 * x + 0.5, 0, 1) instead of relu6(x + 3) / 6")
    """
    name = getattr(ctx.layer, "activation", None)
    if name not in ("hard_sigmoid", "hard_swish"):
        return None
    x = ctx.x_torch.astype(np.float64)
    naive = keras2_hard_sigmoid(x) * (x if name == "hard_swish" else 1.0)
    err, why = measure_error(ctx.y_torch, naive.astype(ctx.y_torch.dtype))
    inner = "x * " if name == "hard_swish" else ""
    return err, why or (
        f"Keras 2's {inner}{KERAS2_HARD_SIGMOID} instead of {inner}relu6(x + 3) / 6"
    )


register_part(ANY, "naive_checks", "activation")(
    {"softmax_axis": softmax_axis, "hard_sigmoid_definition": hard_sigmoid_definition}
)


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
    name = getattr(facts.layer, "activation", "softmax")
    diff = Difference(
        "softmax_axis",
        f"{name} normalises the channels: dim=1 in PyTorch's channels-first layout, "
        "axis=-1 in Keras' channels-last one",
        torch="dim=1",
        keras="axis=-1",
    )
    return [measured(diff, facts.naive["softmax_axis"])]


_HARD = {
    "hard_sigmoid": ("relu6(x + 3) / 6", "relu6(x + 3) / 6 (Keras 3; Keras 2: clip(0.2x + 0.5))"),
    "hard_swish": (
        "x * relu6(x + 3) / 6",
        "x * relu6(x + 3) / 6 (hard_silu, Keras 3; Keras 2 had none: x * hard_sigmoid(x) "
        "there is x * clip(0.2x + 0.5))",
    ),
}


@register_part(ANY, "differences", "activation")
def hard_sigmoid_differences(facts: LayerFacts) -> list[Difference]:
    """The hard sigmoid's definitions across frameworks and versions, where the port
    of a Keras 2 definition was measured.

    Example:
        >>> from compare.formulas import infer
        >>> from compare.records import FrameworkLayer
        >>> from compare.spec import Input, Model
        >>> from compare.kinds.activation.spec import Activation
        >>> m = Model("m", Input(3), (Activation(activation="hard_sigmoid"),))
        >>> t, k = FrameworkLayer("torch", True), FrameworkLayer("keras", True)
        >>> naive = {"hard_sigmoid_definition": (0.08, "")}
        >>> facts = LayerFacts(m.layers[0], infer(m)[0], t, k, naive)
        >>> [d.what for d in hard_sigmoid_differences(facts)]
        ['hard_sigmoid_definition']
    """
    name = getattr(facts.layer, "activation", None)
    if name not in _HARD or "hard_sigmoid_definition" not in facts.naive:
        return []
    torch_def, keras_def = _HARD[name]
    diff = Difference(
        "hard_sigmoid_definition",
        f"{name}: PyTorch and Keras 3 agree on the slope 1/6 (saturating at |x| = 3); "
        f"Keras 2 and tf.keras 2.x define hard_sigmoid as {KERAS2_HARD_SIGMOID} (slope "
        "1/5, saturating at |x| = 2.5), so a model written there does not port as "
        "nn.Hardsigmoid / nn.Hardswish",
        torch=torch_def,
        keras=keras_def,
    )
    return [measured(diff, facts.naive["hard_sigmoid_definition"])]
