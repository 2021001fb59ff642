"""Named differences of the dropout kind: how it behaves in training, and why its
default rate matters."""

from __future__ import annotations

from compare.core.registry import ANY, register_part
from compare.differences import LayerFacts, measured
from compare.records import Difference

__all__ = ["dropout_differences"]

register_part(ANY, "explain", "dropout")({"rate": "the fraction of units dropped in training"})

_TRAINING = (
    "the identity in inference in both; in training both zero a random fraction "
    "rate of the units and scale the rest by 1/(1-rate), with different random masks "
    "(Keras' Dropout keeps its random generator's state as a variable: the buffer "
    "elements it reports)"
)


@register_part(ANY, "differences", "dropout")
def dropout_differences(facts: LayerFacts) -> list[Difference]:
    """Dropout is the identity in inference and random in training, in both.

    Example:
        >>> from compare.formulas import infer
        >>> from compare.records import FrameworkLayer
        >>> from compare.spec import Input, Model
        >>> from compare.kinds.dropout.spec import Dropout
        >>> m = Model("m", Input(3), (Dropout(rate=0.5),))
        >>> t, k = FrameworkLayer("torch", True), FrameworkLayer("keras", True)
        >>> [d.what for d in dropout_differences(LayerFacts(m.layers[0], infer(m)[0], t, k, {}))]
        ['training_mode']
    """
    return [measured(Difference("training_mode", _TRAINING), facts.naive.get("training_mode"))]
