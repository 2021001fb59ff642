"""What a port that ignores a difference gets wrong, measured with the real frameworks.

Each check takes one layer of a built ``Pair`` after a correct port, the inputs both
frameworks saw and their correct outputs, does the naive thing with the real layer
(or a naively built twin), and measures the output against the correct one. The
result is ``(max_abs_err or None, detail)``: None when the naive port cannot even
run, with the reason in the detail.

A naive Keras weight port (a reshape where a transpose is needed, rows left in C,H,W
order) is evaluated by the real torch layer with those weights moved back to torch's
layout by an exact permutation: the same function, at the cost of one torch call
rather than a Keras call and two writes of its variables.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from compare import sequence
from compare.adapters import get_adapter
from compare.adapters.base import Built, Unsupported
from compare.formulas import LayerFormula, layer_formula
from compare.parity import Pair, max_abs_diff
from compare.spec import ConvTranspose, Dense, Layer
from compare.spec_layers import BatchNorm

__all__ = ["NaiveResult", "naive_checks"]

NaiveResult = tuple[float | None, str]


@dataclasses.dataclass
class Context:
    """One layer's correct run: inputs and outputs in both layouts."""

    pair: Pair
    index: int
    x_torch: np.ndarray
    x_keras: np.ndarray
    y_torch: np.ndarray
    y_keras: np.ndarray
    #: framework -> the layer's role arrays as ported (read once, on first use)
    read: dict[str, dict[str, np.ndarray]] = dataclasses.field(default_factory=dict)

    @property
    def layer(self) -> Layer:
        return self.pair.model.layers[self.index]

    @property
    def formula(self) -> LayerFormula:
        return self.pair.formulas[self.index]

    def built(self, name: str) -> Built:
        b = self.pair.sides[name].layers[self.index]
        assert isinstance(b, Built)
        return b

    def weights(self, name: str) -> dict[str, np.ndarray]:
        """The layer's role arrays in framework ``name`` (the ported weights), read
        from the framework once; checks must not modify them."""
        if name not in self.read:
            self.read[name] = get_adapter(name).get_weights(self.built(name))
        return self.read[name]


def _err(correct: np.ndarray, naive: np.ndarray) -> NaiveResult | None:
    if correct.shape != naive.shape:
        return None, (
            f"the naive port cannot even run as intended: output shape "
            f"{tuple(naive.shape)} instead of {tuple(correct.shape)}"
        )
    return max_abs_diff(correct, naive), ""


def _with_keras_weights(ctx: Context, weights: dict[str, np.ndarray]) -> np.ndarray:
    """The Keras layer's output with ``weights`` (Keras layout) swapped in, then restored."""
    adapter = get_adapter("keras")
    built = ctx.built("keras")
    saved = ctx.weights("keras")
    try:
        adapter.set_weights(built, weights)
        return adapter.run(built, ctx.x_keras)
    finally:
        adapter.set_weights(built, saved)


def _keras_port_in_torch(ctx: Context, naive_keras: dict[str, np.ndarray]) -> np.ndarray:
    """The output the Keras layer gives with the weights ``naive_keras`` (Keras layout),
    computed by the real torch layer it is equivalent to: the weights are moved back
    to torch's layout (an exact permutation) and the torch layer runs with them, its
    own weights untouched. One torch call instead of a Keras call and two writes of
    Keras variables; the error is then measured against torch's correct output."""
    from compare.parity import port_weights

    torch_adapter = get_adapter("torch")
    built = ctx.built("torch")
    shapes = torch_adapter.weight_shapes(built)
    weights = port_weights(ctx.layer, ctx.formula, naive_keras, shapes, to="torch")
    return torch_adapter.run_with(built, weights, ctx.x_torch)


def kernel_layout(ctx: Context) -> NaiveResult | None:
    """Reshape the torch kernel into Keras' shape instead of transposing it."""
    keras_shapes = get_adapter("keras").weight_shapes(ctx.built("keras"))
    role = next((r for r in ("kernel", "depthwise_kernel") if r in keras_shapes), None)
    if role is None:
        return None
    torch_w = ctx.weights("torch")[role]
    # only the kernel is naive: the other weights keep their correct port
    naive: dict[str, np.ndarray] = {role: torch_w.reshape(keras_shapes[role])}
    if ctx.layer.kind in sequence.PORTS:
        # recurrent ports move several arrays at once (gates, biases): run Keras itself
        keras_w = ctx.weights("keras")
        result = _err(ctx.y_keras, _with_keras_weights(ctx, {**keras_w, **naive}))
    else:
        result = _err(ctx.y_torch, _keras_port_in_torch(ctx, naive))
    assert result is not None
    err, why = result
    detail = why or (
        f"{role} reshaped from torch {tuple(torch_w.shape)} to Keras "
        f"{tuple(keras_shapes[role])} instead of transposed"
    )
    return err, detail


def flatten_dense(ctx: Context) -> NaiveResult | None:
    """Port a Dense after Flatten with a plain transpose, rows left in C,H,W order."""
    flat = ctx.formula.input.flattened_from
    if not isinstance(ctx.layer, Dense) or flat is None:
        return None
    naive = {"kernel": ctx.weights("torch")["kernel"].T}
    result = _err(ctx.y_torch, _keras_port_in_torch(ctx, naive))
    assert result is not None
    err, why = result
    return err, why or "Dense kernel transposed but its rows not permuted from C,H,W to H,W,C"


def _naive_twin(ctx: Context, framework: str, layer: Layer) -> NaiveResult | None:
    """Build ``layer`` (a naive respelling of the spec) in ``framework`` with the
    correct layer's weights and measure it on the same input."""
    adapter = get_adapter(framework)
    formula = layer_formula(layer, ctx.formula.input)
    try:
        twin = adapter.build(layer, formula, ctx.index, ctx.pair.dtype)
    except Unsupported as exc:
        return None, f"the naive port cannot be built: {exc}"
    adapter.set_weights(twin, ctx.weights(framework))
    x, y = (ctx.x_torch, ctx.y_torch) if framework == "torch" else (ctx.x_keras, ctx.y_keras)
    return _err(y, adapter.run(twin, x))


def asymmetric_same(ctx: Context) -> NaiveResult | None:
    """TF 'same' with an odd total pad, ported as symmetric integer padding in torch."""
    pads = ctx.formula.pads
    layer = ctx.layer
    if isinstance(layer, ConvTranspose) or getattr(layer, "padding", None) != "same":
        return None
    if pads is None or all(a == b for a, b in pads):
        return None
    symmetric = tuple(max(a, b) for a, b in pads)
    naive = dataclasses.replace(layer, padding=symmetric)  # type: ignore[call-arg]
    result = _naive_twin(ctx, "torch", naive)
    if result is None:
        return None
    err, why = result
    tf_pads = ", ".join(f"({a}, {b})" for a, b in pads)
    return err, (
        f"symmetric padding={list(symmetric)} instead of TF's {tf_pads}"
        + (f"; {why}" if why else "")
    )


def transpose_padding(ctx: Context) -> NaiveResult | None:
    """A torch transposed conv with integer padding ported as Keras padding='same'."""
    layer = ctx.layer
    if not isinstance(layer, ConvTranspose) or isinstance(layer.padding, str):
        return None
    if not any(layer.padding):  # type: ignore[arg-type]
        return None
    assert isinstance(layer.padding, tuple)
    zeros = (0,) * len(layer.padding)
    naive = dataclasses.replace(layer, padding="same", output_padding=zeros)
    result = _naive_twin(ctx, "keras", naive)
    if result is None:
        return None
    err, why = result
    text = f"Keras padding='same' instead of cropping {list(layer.padding)}"
    return err, text + (f"; {why}" if why else "")


# -- defaults left unset, softmax axis (normalisation, pooling, activation kinds) ------

#: hyperparameters whose framework default can be tried on a naive twin
DEFAULT_FIELDS = ("epsilon", "count_include_pad", "negative_slope", "alpha")


_FIELDS: dict[type, frozenset[str]] = {}


def _field_names(layer: Layer) -> frozenset[str]:
    """The spec fields of a layer's kind (read once per kind)."""
    kind = type(layer)
    if kind not in _FIELDS:
        _FIELDS[kind] = frozenset(f.name for f in dataclasses.fields(layer))
    return _FIELDS[kind]


def framework_default(field_name: str) -> Callable[[Context], NaiveResult | None]:
    """A check: build the layer with a framework's own default for ``field_name``
    (what a port that leaves the argument out gets) and measure it."""

    def check(ctx: Context) -> NaiveResult | None:
        from compare.defaults import same_value

        layer = ctx.layer
        if field_name not in _field_names(layer):
            return None
        spec = getattr(layer, field_name)
        for framework in ("keras", "torch"):
            default = get_adapter(framework).defaults(layer, ctx.formula).get(field_name)
            if not isinstance(default, bool | int | float) or isinstance(default, bool) != (
                isinstance(spec, bool)
            ):
                continue
            if same_value(default, spec):
                continue
            twin = dataclasses.replace(layer, **{field_name: default})  # type: ignore[arg-type]
            result = _naive_twin(ctx, framework, twin)
            if result is None:
                continue
            err, why = result
            text = f"{framework} left at its default {field_name}={default} instead of {spec}"
            if err == 0.0:
                text += " (no effect in inference)"
            return err, text + (f"; {why}" if why else "")
        return None

    check.__doc__ = f"{field_name} left at a framework's own default."
    return check


_STATISTICS = ("moving_mean", "moving_variance")


def _after_training_batch(framework: str, built: Built, x: np.ndarray) -> dict[str, np.ndarray]:
    """The running statistics after one training-mode batch (the layer is restored)."""
    adapter = get_adapter(framework)
    saved = adapter.get_weights(built)
    try:
        adapter.run(built, x, training=True)
        after = adapter.get_weights(built)
        return {role: after[role] for role in _STATISTICS}
    finally:
        adapter.set_weights(built, saved)


def _stats_err(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> float:
    return max(float(np.max(np.abs(a[r].astype(np.float64) - b[r]))) for r in _STATISTICS)


def momentum_in_training(ctx: Context) -> NaiveResult | None:
    """A batch norm left at a framework's default momentum: its running statistics
    after one training batch, against the correct layer's (inference is unaffected)."""
    from compare.defaults import same_value

    layer = ctx.layer
    if not isinstance(layer, BatchNorm):
        return None
    for framework in ("keras", "torch"):
        adapter = get_adapter(framework)
        default = adapter.defaults(layer, ctx.formula).get("momentum")
        if not isinstance(default, float) or same_value(default, layer.momentum):
            continue
        twin_spec = dataclasses.replace(layer, momentum=default)
        correct = ctx.built(framework)
        try:
            twin = adapter.build(twin_spec, ctx.formula, ctx.index, ctx.pair.dtype)
        except Unsupported as exc:
            return None, f"the naive port cannot be built: {exc}"
        adapter.set_weights(twin, ctx.weights(framework))
        x = ctx.x_torch if framework == "torch" else ctx.x_keras
        err = _stats_err(
            _after_training_batch(framework, correct, x), _after_training_batch(framework, twin, x)
        )
        return err, (
            f"{framework} left at its default momentum={default} instead of "
            f"{layer.momentum}: no effect in inference; after one training batch the running "
            "statistics differ by this much"
        )
    return None


def running_variance_update(ctx: Context) -> NaiveResult | None:
    """One training batch in both correctly ported batch norms: PyTorch updates the
    running variance with the unbiased batch variance, Keras with the biased one."""
    layer = ctx.layer
    if not isinstance(layer, BatchNorm) or layer.momentum == 0.0:
        return None
    torch_stats = _after_training_batch("torch", ctx.built("torch"), ctx.x_torch)
    keras_stats = _after_training_batch("keras", ctx.built("keras"), ctx.x_keras)
    n = ctx.x_torch.size // ctx.formula.input.channels
    return _stats_err(torch_stats, keras_stats), (
        f"running statistics after one training batch of {n} values per channel, ported "
        f"layers with momentum={layer.momentum}: PyTorch's running_var uses the batch "
        f"variance times {n}/{n - 1}, Keras' moving_variance the biased one"
    )


def softmax_axis(ctx: Context) -> NaiveResult | None:
    """Keras' softmax(axis=-1) ported literally to a channels-first torch tensor."""
    layer = ctx.layer
    if getattr(layer, "activation", None) != "softmax" or not ctx.formula.output.rank:
        return None
    if layer.kind != "activation":
        return None  # inside a conv/dense the pre-activation output is not at hand
    import torch

    x = ctx.x_torch
    naive = torch.softmax(torch.from_numpy(x), dim=-1).numpy()
    result = _err(ctx.y_torch, naive)
    assert result is not None
    err, why = result
    return err, why or "torch.softmax(dim=-1) (Keras' axis=-1) on a channels-first tensor"


CHECKS: dict[str, Callable[[Context], NaiveResult | None]] = {
    "kernel_layout": kernel_layout,
    "flatten_dense": flatten_dense,
    "padding": asymmetric_same,
    "transpose_padding": transpose_padding,
    **{f"default_{name}": framework_default(name) for name in DEFAULT_FIELDS},
    "default_momentum": momentum_in_training,
    "training_mode": running_variance_update,
    "softmax_axis": softmax_axis,
}


def naive_checks(ctx: Context) -> dict[str, NaiveResult]:
    """Run every naive-port check that applies to this layer.

    Example (the Dense after a Flatten of a 2x3x3 map, both sides ported):
        >>> from compare.layouts import activation_to_keras
        >>> from compare.parity import build
        >>> from compare.spec import Dense, Flatten, Input, Model
        >>> pair = build(Model("fd", Input(2, (3, 3)), (Flatten(), Dense(units=4))), seed=0)
        >>> pair.port(src="torch")
        >>> x_t = np.random.default_rng(0).standard_normal((2, 18)).astype("float32")
        >>> x_k = activation_to_keras(x_t, pair.formulas[1].input)
        >>> t, k = (pair.sides[name].layers[1] for name in ("torch", "keras"))
        >>> y_t, y_k = get_adapter("torch").run(t, x_t), get_adapter("keras").run(k, x_k)
        >>> err, detail = naive_checks(Context(pair, 1, x_t, x_k, y_t, y_k))["flatten_dense"]
        >>> err > 0.1, detail
        (True, 'Dense kernel transposed but its rows not permuted from C,H,W to H,W,C')
    """
    out = {}
    for what, check in CHECKS.items():
        try:
            result = check(ctx)
        except Exception as exc:  # a naive port may break in any framework-specific way
            result = None, f"the naive port failed: {type(exc).__name__}: {exc}"
        if result is not None:
            out[what] = result
    return out


# Families kept in their own modules register their checks in CHECKS when imported.
import compare.sequence_differences  # noqa: E402, F401  (gate_order, biases)
