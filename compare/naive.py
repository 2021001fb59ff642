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

from compare.adapters import get_adapter
from compare.adapters.base import Built, Unsupported
from compare.formulas import LayerFormula, layer_formula
from compare.parity import Pair
from compare.spec import ConvTranspose, Dense, Layer

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


def _err(correct: np.ndarray, naive: np.ndarray) -> NaiveResult | None:
    if correct.shape != naive.shape:
        return None, (
            f"the naive port cannot even run as intended: output shape "
            f"{tuple(naive.shape)} instead of {tuple(correct.shape)}"
        )
    return float(np.max(np.abs(correct.astype(np.float64) - naive))), ""


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
    torch_w = get_adapter("torch").get_weights(ctx.built("torch"))[role]
    # only the kernel is naive: the other weights keep their correct port
    naive: dict[str, np.ndarray] = {role: torch_w.reshape(keras_shapes[role])}
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
    naive = {"kernel": get_adapter("torch").get_weights(ctx.built("torch"))["kernel"].T}
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
    adapter.set_weights(twin, adapter.get_weights(ctx.built(framework)))
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


CHECKS: dict[str, Callable[[Context], NaiveResult | None]] = {
    "kernel_layout": kernel_layout,
    "flatten_dense": flatten_dense,
    "padding": asymmetric_same,
    "transpose_padding": transpose_padding,
}


def naive_checks(ctx: Context) -> dict[str, NaiveResult]:
    """Run every naive-port check that applies to this layer.

    Example:
        >>> naive_checks(ctx)["flatten_dense"]  # doctest: +SKIP
        (2.1, 'Dense kernel transposed but its rows not permuted ...')
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
