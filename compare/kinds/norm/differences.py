"""Named differences and naive-port checks of the normalisation kinds (batch_norm,
layer_norm, group_norm).

Registered by kind: the default fields a naive twin tries (``epsilon``), the batch
norm's running statistics and training-mode differences with their measurements
(``default_momentum``, ``training_mode``), why each default matters, and the random
ranges the fresh scale, shift and statistics get before porting (ones and zeros would
let a wrong port pass).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from compare.adapters import get_adapter
from compare.adapters.base import Built, Unsupported
from compare.core.registry import ANY, register_part
from compare.defaults import same_value
from compare.differences import LayerFacts, measured
from compare.kinds.norm.spec import BatchNorm
from compare.naive import Context, NaiveResult, twin_of
from compare.records import Difference

__all__ = ["batch_norm_differences", "momentum_in_training", "running_variance_update"]

NORMS = ("batch_norm", "layer_norm", "group_norm")

_STATISTICS = ("moving_mean", "moving_variance")

register_part(ANY, "default_fields", *NORMS)(("epsilon",))

register_part(ANY, "state_ranges", *NORMS)(
    {
        "gamma": (0.5, 1.5),
        "beta": (-0.5, 0.5),
        "moving_mean": (-0.5, 0.5),
        "moving_variance": (0.5, 2.0),
    }
)

register_part(ANY, "explain", *NORMS)(
    {
        "momentum": (
            "the spec's momentum is the weight of the new batch statistic (PyTorch's "
            "convention); Keras' momentum weighs the old running value, so Keras gets "
            "1 - momentum. It acts only in training: inference uses the stored statistics"
        ),
        "epsilon": "added to the variance before the square root; it changes every output",
        "center": "whether a learned shift beta exists",
        "scale": "whether a learned scale gamma exists",
        "axes": "the axes a layer norm normalises over",
        "groups": "number of channel groups",
    }
)


def _after_training_batch(framework: str, built: Built, x: np.ndarray) -> dict[str, np.ndarray]:
    """The running statistics after one training-mode batch (the layer is left as it was)."""
    after = get_adapter(framework).trained_state(built, x)
    return {role: after[role] for role in _STATISTICS}


def _correct_after_training(ctx: Context, framework: str) -> dict[str, np.ndarray]:
    """``_after_training_batch`` of the correctly ported layer, once per layer: both
    batch-norm checks compare against it."""
    key = ("after_training_batch", framework)
    if key not in ctx.memo:
        x = ctx.x_torch if framework == "torch" else ctx.x_keras
        ctx.memo[key] = _after_training_batch(framework, ctx.built(framework), x)
    stats: dict[str, np.ndarray] = ctx.memo[key]
    return stats


def _stats_err(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> float:
    return max(float(np.max(np.abs(a[r].astype(np.float64) - b[r]))) for r in _STATISTICS)


def momentum_in_training(ctx: Context) -> NaiveResult | None:
    """A batch norm left at a framework's default momentum: its running statistics
    after one training batch, against the correct layer's (inference is unaffected).

    Example:
        >>> from compare.naive import context_of
        >>> from compare.spec import Input, Model
        >>> ctx = context_of(Model("m", Input(2, (4,)), (BatchNorm(),)))
        >>> err, detail = momentum_in_training(ctx)
        >>> err > 0, detail[:54]
        (True, 'keras left at its default momentum=0.01 instead of 0.1')
    """
    layer = ctx.layer
    if not isinstance(layer, BatchNorm):
        return None
    for framework in ("keras", "torch"):
        adapter = get_adapter(framework)
        default = adapter.defaults(layer, ctx.formula).get("momentum")
        if not isinstance(default, float) or same_value(default, layer.momentum):
            continue
        twin = twin_of(ctx, framework, dataclasses.replace(layer, momentum=default))
        if isinstance(twin, Unsupported):
            return None, f"the naive port cannot be built: {twin}"
        x = ctx.x_torch if framework == "torch" else ctx.x_keras
        err = _stats_err(
            _correct_after_training(ctx, framework), _after_training_batch(framework, twin, x)
        )
        return err, (
            f"{framework} left at its default momentum={default} instead of "
            f"{layer.momentum}: no effect in inference; after one training batch the running "
            "statistics differ by this much"
        )
    return None


def running_variance_update(ctx: Context) -> NaiveResult | None:
    """One training batch in both correctly ported batch norms: PyTorch updates the
    running variance with the unbiased batch variance, Keras with the biased one.

    Example:
        >>> from compare.naive import context_of
        >>> from compare.spec import Input, Model
        >>> ctx = context_of(Model("m", Input(2, (4,)), (BatchNorm(),)))
        >>> err, detail = running_variance_update(ctx)
        >>> err > 0, detail[:67]
        (True, 'running statistics after one training batch of 8 values per channel')
    """
    layer = ctx.layer
    if not isinstance(layer, BatchNorm) or layer.momentum == 0.0:
        return None
    torch_stats = _correct_after_training(ctx, "torch")
    keras_stats = _correct_after_training(ctx, "keras")
    n = ctx.x_torch.size // ctx.formula.input.channels
    return _stats_err(torch_stats, keras_stats), (
        f"running statistics after one training batch of {n} values per channel, ported "
        f"layers with momentum={layer.momentum}: PyTorch's running_var uses the batch "
        f"variance times {n}/{n - 1}, Keras' moving_variance the biased one"
    )


register_part(ANY, "naive_checks", "batch_norm")(
    {"default_momentum": momentum_in_training, "training_mode": running_variance_update}
)

_TRAINING = (
    "inference (eval() / training=False) normalises with the stored running "
    "statistics in both; in training both normalise with the batch statistics, but "
    "PyTorch updates running_var with the unbiased batch variance (n/(n-1)) and Keras "
    "moving_variance with the biased one, so ported statistics drift apart"
)


@register_part(ANY, "differences", "batch_norm")
def batch_norm_differences(facts: LayerFacts) -> list[Difference]:
    """Where a batch norm keeps its running statistics, and how training mode differs.

    Example:
        >>> from compare.formulas import infer
        >>> from compare.records import FrameworkLayer
        >>> from compare.spec import Input, Model
        >>> m = Model("m", Input(2, (4,)), (BatchNorm(),))
        >>> t, k = FrameworkLayer("torch", True), FrameworkLayer("keras", True)
        >>> facts = LayerFacts(m.layers[0], infer(m)[0], t, k, {})
        >>> [d.what for d in batch_norm_differences(facts)]
        ['running_statistics', 'training_mode']
    """
    formula, torch, keras = facts.formula, facts.torch, facts.keras
    out: list[Difference] = []
    if formula.state:
        c = formula.input.channels
        out.append(
            Difference(
                "running_statistics",
                f"the running mean and variance ({formula.state} values) are buffers in "
                f"PyTorch (running_mean, running_var, plus num_batches_tracked: 1 more buffer "
                f"element; buffers {torch.buffers}), not parameters, so its count is "
                f"{torch.params}; Keras keeps them as non-trainable weights (moving_mean, "
                f"moving_variance: {keras.non_trainable_params}) and its summary counts params "
                f"{keras.params} (trainable {keras.trainable_params}). Porting copies them "
                f"too: {c} means and {c} variances",
                torch=f"params {torch.params}, buffers {torch.buffers}",
                keras=f"params {keras.params} ({keras.non_trainable_params} non-trainable)",
            )
        )
    out.append(measured(Difference("training_mode", _TRAINING), facts.naive.get("training_mode")))
    return out
