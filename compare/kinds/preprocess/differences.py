"""Named differences and naive-port checks of the preprocessing family.

``normalization``: where the statistics live (Keras' non-trainable weights and an
integer ``count``, the PyTorch module's buffers), and Keras' *variance* against
torchvision's ``transforms.Normalize(mean, std)``: a port that passes the std where
Keras wants the variance is measured. Also the random ranges the fresh statistics get
before porting (zeros and ones would let a wrong port pass).
"""

from __future__ import annotations

import numpy as np

from compare.core.registry import ANY, register_part
from compare.differences import LayerFacts, measured
from compare.kinds.preprocess.spec import NORMALIZATION_EPSILON
from compare.naive import Context, NaiveResult, measure_error
from compare.records import Difference

__all__ = ["normalization_differences", "std_as_variance"]

register_part(ANY, "state_ranges", "normalization")({"mean": (-0.5, 0.5), "variance": (0.25, 4.0)})

register_part(ANY, "explain", "rescaling")(
    {"scale": "the factor every input is multiplied by", "offset": "added after the scale"}
)
register_part(ANY, "explain", "normalization")(
    {"invert": "whether the layer standardises or maps standardised values back"}
)


def std_as_variance(ctx: Context) -> NaiveResult | None:
    """torchvision's ``Normalize(mean, std)`` ported as Keras' ``Normalization(mean,
    variance=std)``: the std used where the variance belongs, on this layer's input.

    Example:
        >>> from compare.naive import context_of
        >>> from compare.spec import Input, Model
        >>> from compare.kinds.preprocess.spec import Normalization
        >>> ctx = context_of(Model("m", Input(3, (4,)), (Normalization(),)))
        >>> err, detail = std_as_variance(ctx)
        >>> detail  # err is 0 here: the fresh variance is 1, where std and variance agree
        "variance=std (torchvision Normalize's std) instead of variance=std**2"
    """
    if getattr(ctx.layer, "kind", None) != "normalization":
        return None
    w = ctx.weights("torch")
    shape = (1, -1) + (1,) * ctx.formula.input.rank
    mean = w["mean"].astype(np.float64).reshape(shape)
    std = np.sqrt(w["variance"].astype(np.float64)).reshape(shape)
    wrong = np.maximum(np.sqrt(std), NORMALIZATION_EPSILON)  # sqrt of a "variance" = std
    x = ctx.x_torch.astype(np.float64)
    naive = x * wrong + mean if getattr(ctx.layer, "invert", False) else (x - mean) / wrong
    err, why = measure_error(ctx.y_torch, naive.astype(ctx.y_torch.dtype))
    return err, why or "variance=std (torchvision Normalize's std) instead of variance=std**2"


register_part(ANY, "naive_checks", "normalization")({"std_as_variance": std_as_variance})


@register_part(ANY, "differences", "normalization")
def normalization_differences(facts: LayerFacts) -> list[Difference]:
    """Where the statistics live, and the variance-vs-std port, measured.

    Example:
        >>> from compare.formulas import infer
        >>> from compare.records import FrameworkLayer
        >>> from compare.spec import Input, Model
        >>> from compare.kinds.preprocess.spec import Normalization
        >>> m = Model("m", Input(3, (4,)), (Normalization(),))
        >>> t, k = FrameworkLayer("torch", True), FrameworkLayer("keras", True)
        >>> facts = LayerFacts(m.layers[0], infer(m)[0], t, k, {"std_as_variance": (0.3, "")})
        >>> [d.what for d in normalization_differences(facts)]
        ['statistics_storage', 'variance_not_std']
    """
    storage = Difference(
        "statistics_storage",
        "Keras' Normalization keeps mean and variance as non-trainable weights (counted "
        "in count_params, with an integer 'count' weight) and re-reads them after a "
        "write; PyTorch has no such layer: torchvision normalises in transforms.Normalize "
        "outside the model, and the module here holds them as buffers (not parameters)",
        torch="buffers mean, variance",
        keras="non-trainable mean, variance, count",
    )
    variance = Difference(
        "variance_not_std",
        "Keras takes the variance (and divides by max(sqrt(variance), 1e-7)); "
        "torchvision's Normalize takes the standard deviation",
        torch="std (transforms.Normalize)",
        keras="variance",
    )
    return [storage, measured(variance, facts.naive.get("std_as_variance"))]
