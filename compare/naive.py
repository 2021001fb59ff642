"""What a port that ignores a difference gets wrong, measured with the real frameworks.

Each check takes one layer of a built ``Pair`` after a correct port, the inputs both
frameworks saw and their correct outputs, does the naive thing with the real layer
(or a naively built twin), and measures the output against the correct one. The
result is ``(max_abs_err or None, detail)``: None when the naive port cannot even
run, with the reason in the detail.

This module holds the generic machinery: the ``Context`` a check reads, the ways of
measuring a naive port, and the checks that apply to any kind by a property of its
layers (a kernel whose layout differs between the frameworks, TF's asymmetric 'same'
padding, a framework default for a field the kind declares). A family's own checks
live in its ``differences`` module and are registered by kind:
``register_part(ANY, "naive_checks", kind)`` maps check names to checks (a name equal
to a generic check's replaces it for that kind), and
``register_part(ANY, "default_fields", kind)`` names the fields whose framework
default is tried on a naive twin.

A naive Keras weight port (a reshape where a transpose is needed, rows left in C,H,W
order) is evaluated by the real torch layer with those weights moved back to torch's
layout by an exact permutation: the same function, at the cost of one torch call
rather than a Keras call and two writes of its variables.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from compare.adapters import get_adapter
from compare.adapters.base import Built, Unsupported
from compare.core.registry import differences_part
from compare.formulas import LayerFormula, layer_formula
from compare.parity import Pair, max_abs_diff
from compare.spec import Layer

__all__ = [
    "Context",
    "NaiveCheck",
    "NaiveResult",
    "checks_for",
    "context_of",
    "framework_default",
    "keras_port_in_torch",
    "measure_error",
    "naive_checks",
    "naive_twin",
    "reshaped_kernel",
    "twin_of",
    "with_keras_weights",
]

NaiveResult = tuple[float | None, str]


@dataclasses.dataclass
class Context:
    """One layer's correct run: inputs and outputs in both layouts.

    Example:
        >>> from compare.spec import Dense, Input, Model
        >>> ctx = context_of(Model("m", Input(3), (Dense(units=2),)))
        >>> ctx.weights("torch")["kernel"].shape, ctx.x_keras.shape
        ((2, 3), (2, 3))
    """

    pair: Pair
    index: int
    x_torch: np.ndarray
    x_keras: np.ndarray
    y_torch: np.ndarray
    y_keras: np.ndarray
    #: framework -> the layer's role arrays as ported (read once, on first use)
    read: dict[str, dict[str, np.ndarray]] = dataclasses.field(default_factory=dict)
    #: what several checks of this layer measure alike, kept by the first (its key
    #: names the check helper that made it)
    memo: dict[Any, Any] = dataclasses.field(default_factory=dict)

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


#: A naive-port check: None when it does not apply to the context's layer.
NaiveCheck = Callable[[Context], NaiveResult | None]


def context_of(model: Any, index: int = 0, *, seed: int = 0) -> Context:
    """Build ``model`` in both frameworks, port torch's weights to Keras and run it up
    to layer ``index``: that layer's ``Context``, as a naive check sees it (float
    inputs drawn from a normal distribution, token ids all 0).

    Example:
        >>> from compare.spec import Dense, Input, Model
        >>> ctx = context_of(Model("m", Input(3), (Dense(units=2),)))
        >>> ctx.layer.kind, ctx.y_torch.shape
        ('dense', (2, 2))
    """
    from compare import layouts
    from compare.parity import build

    pair = build(model, seed=seed)
    pair.port(src="torch")
    shape = pair.formulas[0].input
    dims = [int(d) for d in shape.torch()[1:] if d is not None]
    if shape.dtype == "int":
        x_t: Any = np.zeros((2, *dims), dtype=np.int64)
    else:
        x_t = np.random.default_rng(seed).standard_normal((2, *dims)).astype("float32")
    x_k = layouts.activation_to_keras(x_t, shape)
    torch_a, keras_a = get_adapter("torch"), get_adapter("keras")
    for i in range(index + 1):
        ctx = Context(pair, i, x_t, x_k, x_t, x_k)
        y_t = torch_a.run(ctx.built("torch"), x_t)
        y_k = keras_a.run(ctx.built("keras"), x_k)
        if i < index:
            x_t, x_k = y_t, y_k
    return Context(pair, index, x_t, x_k, y_t, y_k)


def measure_error(correct: np.ndarray, naive: np.ndarray) -> NaiveResult:
    """A naive output against the correct one: ``(max abs diff, "")``, or ``(None,
    why)`` when the naive port does not even give the output's shape.

    Example:
        >>> measure_error(np.zeros(3), np.ones(3))
        (1.0, '')
        >>> measure_error(np.zeros(3), np.ones(2))[1]
        'the naive port cannot even run as intended: output shape (2,) instead of (3,)'
    """
    if correct.shape != naive.shape:
        return None, (
            f"the naive port cannot even run as intended: output shape "
            f"{tuple(naive.shape)} instead of {tuple(correct.shape)}"
        )
    return max_abs_diff(correct, naive), ""


def with_keras_weights(ctx: Context, weights: dict[str, np.ndarray]) -> np.ndarray:
    """The Keras layer's output with ``weights`` (Keras layout) swapped in, then restored.

    Example:
        >>> from compare.spec import Dense, Input, Model
        >>> ctx = context_of(Model("m", Input(3), (Dense(units=2),)))
        >>> zero = {role: 0 * w for role, w in ctx.weights("keras").items()}
        >>> float(abs(with_keras_weights(ctx, zero)).max())
        0.0
    """
    adapter = get_adapter("keras")
    built = ctx.built("keras")
    saved = ctx.weights("keras")
    try:
        adapter.set_weights(built, weights)
        return adapter.run(built, ctx.x_keras)
    finally:
        adapter.set_weights(built, saved)


def keras_port_in_torch(ctx: Context, naive_keras: dict[str, np.ndarray]) -> np.ndarray:
    """The output the Keras layer gives with the weights ``naive_keras`` (Keras layout),
    computed by the real torch layer it is equivalent to: the weights are moved back
    to torch's layout (an exact permutation) and the torch layer runs with them, its
    own weights untouched. One torch call instead of a Keras call and two writes of
    Keras variables; the error is then measured against torch's correct output.

    Example:
        >>> from compare.spec import Dense, Input, Model
        >>> ctx = context_of(Model("m", Input(3), (Dense(units=2),)))
        >>> y = keras_port_in_torch(ctx, ctx.weights("keras"))  # the correct port
        >>> measure_error(ctx.y_torch, y)
        (0.0, '')
    """
    from compare.parity import port_weights

    torch_adapter = get_adapter("torch")
    built = ctx.built("torch")
    shapes = torch_adapter.weight_shapes(built)
    weights = port_weights(ctx.layer, ctx.formula, naive_keras, shapes, to="torch")
    return torch_adapter.run_with(built, weights, ctx.x_torch)


def _all_written(adapter: Any, built: Built, layer: Layer, formula: LayerFormula) -> bool:
    """Whether ``set_weights`` with every role rewrites all the state ``built`` holds
    (each weight has a role, and there are no buffers besides): only then may a twin
    serve again, its previous weights all overwritten."""
    facts = adapter.facts(built, layer, formula)
    return facts.buffers == 0 and all(w.role is not None for w in facts.weights)


def naive_twin(ctx: Context, framework: str, layer: Layer) -> NaiveResult | None:
    """Build ``layer`` (a naive respelling of the spec) in ``framework`` with the
    correct layer's weights and measure it on the same input.

    A twin whose every weight the port rewrites is kept in the pair and serves the
    next layer with the same naive spec, input shape and dtype (ResNet50's 53 batch
    norms need a dozen Keras twins, not 53): it then holds that layer's weights, so
    it computes what a fresh twin would.

    Example:
        >>> import dataclasses
        >>> from compare.spec import Dense, Input, Model
        >>> ctx = context_of(Model("m", Input(3), (Dense(units=2),)))
        >>> naive_twin(ctx, "keras", dataclasses.replace(ctx.layer, activation="relu"))[0] > 0
        True
    """
    twin = twin_of(ctx, framework, layer)
    if isinstance(twin, Unsupported):
        return None, f"the naive port cannot be built: {twin}"
    x, y = (ctx.x_torch, ctx.y_torch) if framework == "torch" else (ctx.x_keras, ctx.y_keras)
    return measure_error(y, get_adapter(framework).run(twin, x))


def twin_of(ctx: Context, framework: str, layer: Layer) -> Built | Unsupported:
    """``layer`` (a naive respelling of the spec) built in ``framework`` and holding the
    correct layer's weights, or why it cannot be built; kept in the pair for the next
    layer with the same naive spec, input shape and dtype where the port rewrites all
    of its weights (see ``naive_twin``).

    Example:
        >>> import dataclasses
        >>> from compare.spec import Dense, Input, Model
        >>> ctx = context_of(Model("m", Input(3), (Dense(units=2),)))
        >>> twin_of(ctx, "keras", dataclasses.replace(ctx.layer, activation="relu")).classes
        ('Dense',)
    """
    adapter = get_adapter(framework)
    formula = layer_formula(layer, ctx.formula.input)
    twins = ctx.pair.twins
    try:
        key: Any = (framework, layer, formula.input, ctx.pair.dtype)
        twin = twins.get(key)
    except TypeError:  # a spec field that is not hashable: built each time
        key, twin = None, None
    if twin is None:
        try:
            twin = adapter.build(layer, formula, ctx.index, ctx.pair.dtype)
        except Unsupported as exc:
            return exc
        if key is not None and _all_written(adapter, twin, layer, formula):
            twins[key] = twin
    adapter.set_weights(twin, ctx.weights(framework))
    return twin


# -- generic checks: by a property of the layer, for any kind ---------------------------


def reshaped_kernel(
    ctx: Context,
    *,
    through_torch: bool = True,
    evaluate: Callable[[Context, dict[str, np.ndarray]], np.ndarray | None] | None = None,
) -> NaiveResult | None:
    """Reshape the torch kernel into Keras' shape instead of transposing it.

    The naive Keras layer is evaluated by torch (``keras_port_in_torch``), or, with
    ``through_torch=False``, by Keras itself with the naive kernel swapped in (for
    kinds whose port moves several arrays at once). A kind may give its own
    ``evaluate(ctx, naive Keras weights)``, an output comparable to torch's (None
    where it does not apply: then ``keras_port_in_torch``).

    Example:
        >>> from compare.spec import Dense, Input, Model
        >>> ctx = context_of(Model("m", Input(3), (Dense(units=2),)))
        >>> reshaped_kernel(ctx, through_torch=False)[1]
        'kernel reshaped from torch (2, 3) to Keras (3, 2) instead of transposed'
    """
    keras_shapes = get_adapter("keras").weight_shapes(ctx.built("keras"))
    role = next((r for r in ("kernel", "depthwise_kernel") if r in keras_shapes), None)
    if role is None:
        return None
    torch_w = ctx.weights("torch")[role]
    # only the kernel is naive: the other weights keep their correct port
    naive: dict[str, np.ndarray] = {role: torch_w.reshape(keras_shapes[role])}
    if through_torch:
        y = evaluate(ctx, naive) if evaluate is not None else None
        err, why = measure_error(ctx.y_torch, keras_port_in_torch(ctx, naive) if y is None else y)
    else:
        keras_w = ctx.weights("keras")
        err, why = measure_error(ctx.y_keras, with_keras_weights(ctx, {**keras_w, **naive}))
    detail = why or (
        f"{role} reshaped from torch {tuple(torch_w.shape)} to Keras "
        f"{tuple(keras_shapes[role])} instead of transposed"
    )
    return err, detail


def asymmetric_same(ctx: Context) -> NaiveResult | None:
    """TF 'same' with an odd total pad, ported as symmetric integer padding in torch.

    Example:
        >>> from compare.spec import Conv, Input, Model
        >>> layer = Conv(filters=1, kernel_size=2, padding="same")
        >>> asymmetric_same(context_of(Model("m", Input(1, (4,)), (layer,))))[1]
        "symmetric padding=[1] instead of TF's (0, 1); the naive port cannot even run ..."
    """
    pads = ctx.formula.pads
    layer = ctx.layer
    if getattr(layer, "padding", None) != "same":
        return None
    if pads is None or all(a == b for a, b in pads):
        return None
    symmetric = tuple(max(a, b) for a, b in pads)
    naive = dataclasses.replace(layer, padding=symmetric)  # type: ignore[call-arg]
    result = naive_twin(ctx, "torch", naive)
    if result is None:
        return None
    err, why = result
    tf_pads = ", ".join(f"({a}, {b})" for a, b in pads)
    return err, (
        f"symmetric padding={list(symmetric)} instead of TF's {tf_pads}"
        + (f"; {why}" if why else "")
    )


_FIELDS: dict[type, frozenset[str]] = {}


def _field_names(layer: Layer) -> frozenset[str]:
    """The spec fields of a layer's kind (read once per kind)."""
    kind = type(layer)
    if kind not in _FIELDS:
        _FIELDS[kind] = frozenset(f.name for f in dataclasses.fields(layer))
    return _FIELDS[kind]


@functools.cache
def framework_default(field_name: str) -> NaiveCheck:
    """A check: build the layer with a framework's own default for ``field_name``
    (what a port that leaves the argument out gets) and measure it.

    Example:
        >>> from compare.spec import Dense, Input, Model
        >>> ctx = context_of(Model("m", Input(3), (Dense(units=2),)))
        >>> framework_default("use_bias")(ctx) is None  # both default to the spec's True
        True
    """

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
            result = _evaluated(ctx, framework, twin)
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


def _evaluated(ctx: Context, framework: str, twin: Layer) -> NaiveResult | None:
    """``naive_twin`` of a spec that differs from the layer's in one field set to a
    framework's default. The default is in the spec's own terms, so the twin means
    the same function in both frameworks (what the correct port proves for any
    supported spec): it is evaluated by PyTorch, whose layers run in a fraction of an
    eager Keras call (ResNet50's 53 batch-norm epsilon twins: 0.02 s instead of
    0.19 s), and by ``framework`` itself where PyTorch cannot build it."""
    built = twin_of(ctx, "torch", twin)
    if isinstance(built, Unsupported):
        return naive_twin(ctx, framework, twin)
    return measure_error(ctx.y_torch, get_adapter("torch").run(built, ctx.x_torch))


#: Checks tried on every layer; each returns None where it does not apply.
GENERIC_CHECKS: Mapping[str, NaiveCheck] = {
    "kernel_layout": reshaped_kernel,
    "padding": asymmetric_same,
}


def checks_for(kind: str) -> dict[str, NaiveCheck]:
    """Every naive-port check of a kind, by name: the generic ones, a framework-default
    check ``default_<field>`` per field the kind declares, then the kind's own (a
    kind's check replaces the generic one of the same name).

    Example:
        >>> list(checks_for("no_such_kind"))
        ['kernel_layout', 'padding']
    """
    checks = dict(GENERIC_CHECKS)
    for name in differences_part("default_fields", kind) or ():
        checks[f"default_{name}"] = framework_default(name)
    checks.update(differences_part("naive_checks", kind) or {})
    return checks


def naive_checks(ctx: Context) -> dict[str, NaiveResult]:
    """Run every naive-port check that applies to this layer.

    Example:
        >>> from compare.spec import Dense, Input, Model
        >>> ctx = context_of(Model("m", Input(3), (Dense(units=2),)))
        >>> err, detail = naive_checks(ctx)["kernel_layout"]
        >>> err > 0, detail
        (True, 'kernel reshaped from torch (2, 3) to Keras (3, 2) instead of transposed')
    """
    out = {}
    for what, check in checks_for(ctx.layer.kind).items():
        try:
            result = check(ctx)
        except Exception as exc:  # a naive port may break in any framework-specific way
            result = None, f"the naive port failed: {type(exc).__name__}: {exc}"
        if result is not None:
            out[what] = result
    return out
