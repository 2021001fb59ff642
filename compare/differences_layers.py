"""Named differences of the normalisation, pooling, dropout and activation kinds.

Framework-free: works on the facts read back, the defaults rows the adapters read
from the frameworks' signatures, and the naive-port measurements.
"""

from __future__ import annotations

from compare.defaults import EXPLAIN
from compare.formulas import LayerFormula
from compare.naive import NaiveResult
from compare.records import DefaultValue, Difference, FrameworkLayer
from compare.spec import Layer

__all__ = ["layer_kind_differences"]

_TRAINING = {
    "batch_norm": (
        "inference (eval() / training=False) normalises with the stored running "
        "statistics in both; in training both normalise with the batch statistics, but "
        "PyTorch updates running_var with the unbiased batch variance (n/(n-1)) and Keras "
        "moving_variance with the biased one, so ported statistics drift apart"
    ),
    "dropout": (
        "the identity in inference in both; in training both zero a random fraction "
        "rate of the units and scale the rest by 1/(1-rate), with different random masks "
        "(Keras' Dropout keeps its random generator's state as a variable: the buffer "
        "elements it reports)"
    ),
}


def _value(value: object) -> str:
    if value is None:
        return "(no such parameter)"
    return repr(value) if isinstance(value, str) else str(value)


def _naive(diff: Difference, result: NaiveResult | None) -> Difference:
    if result is None:
        return diff
    err, detail = result
    return Difference(diff.what, diff.detail, diff.torch, diff.keras, err, detail, measured=True)


def _statistics(formula: LayerFormula, torch: FrameworkLayer, keras: FrameworkLayer) -> Difference:
    c = formula.input.channels
    return Difference(
        "running_statistics",
        f"the running mean and variance ({formula.state} values) are buffers in PyTorch "
        f"(running_mean, running_var, plus num_batches_tracked: 1 more buffer element; "
        f"buffers {torch.buffers}), not parameters, so its count is {torch.params}; Keras "
        f"keeps them as non-trainable weights (moving_mean, moving_variance: "
        f"{keras.non_trainable_params}) and its summary counts params {keras.params} "
        f"(trainable {keras.trainable_params}). Porting copies them too: {c} means and "
        f"{c} variances",
        torch=f"params {torch.params}, buffers {torch.buffers}",
        keras=f"params {keras.params} ({keras.non_trainable_params} non-trainable)",
    )


def layer_kind_differences(
    layer: Layer,
    formula: LayerFormula,
    torch: FrameworkLayer,
    keras: FrameworkLayer,
    naive: dict[str, NaiveResult],
    defaults: tuple[DefaultValue, ...],
) -> list[Difference]:
    """Differences of the kinds in ``compare.spec_layers`` (and the defaults of any kind).

    Example:
        >>> from compare.comparison import compare_model
        >>> from compare.formulas import infer
        >>> from compare.spec import Input, Model
        >>> from compare.spec_layers import BatchNorm
        >>> m = Model("bn", Input(3, (4, 4)), (BatchNorm(),))
        >>> result = compare_model(m, parity=False).layers[0]
        >>> t, k = result.frameworks["torch"], result.frameworks["keras"]
        >>> diffs = layer_kind_differences(m.layers[0], infer(m)[0], t, k, {}, result.defaults)
        >>> [d.what for d in diffs]
        ['running_statistics', 'training_mode', 'default_momentum', 'default_epsilon']
    """
    out: list[Difference] = []
    if formula.state:
        out.append(_statistics(formula, torch, keras))
    if layer.kind in _TRAINING:
        training = Difference("training_mode", _TRAINING[layer.kind])
        out.append(_naive(training, naive.get("training_mode")))
    for row in defaults:
        if not row.differs:
            continue
        why = EXPLAIN.get(row.name, "")
        used = f"the spec's {row.name}={_value(row.spec)} is set explicitly in both"
        detail = (
            f"default {row.name}: PyTorch {_value(row.torch)}, Keras {_value(row.keras)} "
            f"(spec convention){': ' + why if why else ''}; {used}"
        )
        diff = Difference(
            f"default_{row.name}", detail, torch=_value(row.torch), keras=_value(row.keras)
        )
        out.append(_naive(diff, naive.get(f"default_{row.name}")))
    if "softmax_axis" in naive:
        diff = Difference(
            "softmax_axis",
            "softmax normalises the channels: dim=1 in PyTorch's channels-first layout, "
            "axis=-1 in Keras' channels-last one",
            torch="dim=1",
            keras="axis=-1",
        )
        out.append(_naive(diff, naive["softmax_axis"]))
    return out
