"""Named differences of the dropout family: how each kind behaves in training (what a
random mask drops), and why its default rate matters."""

from __future__ import annotations

from compare.core.registry import ANY, register_part
from compare.differences import LayerFacts, measured
from compare.records import Difference

__all__ = ["dropout_differences", "spatial_dropout_differences", "stochastic_depth_differences"]

register_part(ANY, "explain", "dropout", "spatial_dropout")(
    {"rate": "the fraction of units dropped in training"}
)
register_part(ANY, "explain", "stochastic_depth")(
    {
        "rate": "the probability that a sample (or the batch) is dropped in training",
        "mode": "'row' draws once per sample, 'batch' once for the whole batch",
    }
)

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


_CHANNELS = (
    "the identity in inference in both; in training both zero whole channels of each "
    "sample (PyTorch's DropoutNd, Keras' SpatialDropoutND: a noise shape of (N, 1, ..., "
    "1, C) in Keras, (N, C, 1, ..., 1) in PyTorch) and scale the rest by 1/(1-rate), with "
    "different random masks"
)

_DEPTH = (
    "the identity in inference in both; in training torchvision's StochasticDepth and "
    "Keras' Dropout(noise_shape=(None, 1, ..., 1)) keep each sample (mode 'row') or the "
    "batch ('batch') with probability 1 - rate and scale it by 1/(1-rate), with different "
    "random draws; Keras has no layer of that name (keras_cv's and keras_hub's are "
    "outside Keras)"
)


@register_part(ANY, "differences", "spatial_dropout")
def spatial_dropout_differences(facts: LayerFacts) -> list[Difference]:
    """Channel dropout is the identity in inference, drops channels in training.

    Example:
        >>> from compare.formulas import infer
        >>> from compare.records import FrameworkLayer
        >>> from compare.spec import Input, Model
        >>> from compare.kinds.dropout.spec import SpatialDropout
        >>> m = Model("m", Input(3, (4,)), (SpatialDropout(rate=0.5),))
        >>> t, k = FrameworkLayer("torch", True), FrameworkLayer("keras", True)
        >>> facts = LayerFacts(m.layers[0], infer(m)[0], t, k, {})
        >>> [d.what for d in spatial_dropout_differences(facts)]
        ['training_mode']
    """
    return [measured(Difference("training_mode", _CHANNELS), facts.naive.get("training_mode"))]


@register_part(ANY, "differences", "stochastic_depth")
def stochastic_depth_differences(facts: LayerFacts) -> list[Difference]:
    """Stochastic depth is the identity in inference, drops samples in training.

    Example:
        >>> from compare.formulas import infer
        >>> from compare.records import FrameworkLayer
        >>> from compare.spec import Input, Model
        >>> from compare.kinds.dropout.spec import StochasticDepth
        >>> m = Model("m", Input(3, (4,)), (StochasticDepth(rate=0.5),))
        >>> t, k = FrameworkLayer("torch", True), FrameworkLayer("keras", True)
        >>> facts = LayerFacts(m.layers[0], infer(m)[0], t, k, {})
        >>> [d.what for d in stochastic_depth_differences(facts)]
        ['training_mode']
    """
    return [measured(Difference("training_mode", _DEPTH), facts.naive.get("training_mode"))]
