"""Named differences for the sequence families (lstm, gru, simple_rnn, embedding);
the generic ones (notes, parameter counts, activation layout) come from
``compare.differences``, their naive-port checks from ``compare.kinds.recurrent``.
"""

from __future__ import annotations

from compare import sequence
from compare.formulas import LayerFormula
from compare.naive import NaiveResult
from compare.records import Difference, FrameworkLayer
from compare.spec import Layer

__all__ = ["family_differences"]


def _shape(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(map(str, shape)) + ")"


def _measured(diff: Difference, result: NaiveResult | None) -> Difference:
    if result is None:
        return diff
    err, detail = result
    return Difference(diff.what, diff.detail, diff.torch, diff.keras, err, detail, measured=True)


def _recurrent_diffs(
    layer: Layer,
    torch: FrameworkLayer,
    keras: FrameworkLayer,
    measured: dict[str, NaiveResult],
) -> list[Difference]:
    kind = layer.kind
    by_role_t = {w.role: w for w in torch.weights if w.role}
    by_role_k = {w.role: w for w in keras.weights if w.role}
    letters = sequence.GATE_LETTERS[kind]
    perm = sequence.gate_permutation(kind, "torch", "keras")
    g = sequence.gates(kind)
    out = []
    for role, what in (
        ("kernel", "kernel_layout"),
        ("recurrent_kernel", "recurrent_kernel_layout"),
    ):
        wt, wk = by_role_t.get(role), by_role_k.get(role)
        if wt is None or wk is None:
            continue
        if g == 1 or perm == tuple(range(g)):
            how = "transpose" + (" (the gate blocks keep their order)" if g > 1 else "")
        else:
            how = f"reshape to ({g}, H, ...), take gate blocks {perm}, transpose, reshape back"
        diff = Difference(
            what,
            f"PyTorch holds {wt.name} as {_shape(wt.shape)} [{','.join(wt.axes)}], Keras "
            f"{wk.name} as {_shape(wk.shape)} [{','.join(wk.axes)}]; porting torch->keras "
            f"is: {how}",
            torch=f"{_shape(wt.shape)} [{','.join(wt.axes)}]",
            keras=f"{_shape(wk.shape)} [{','.join(wk.axes)}]",
        )
        out.append(_measured(diff, measured.get("kernel_layout")) if role == "kernel" else diff)
    if g > 1:
        same = perm == tuple(range(g))
        detail = (
            f"gate blocks along the {g}*H axis: PyTorch {letters['torch']}, Keras "
            f"{letters['keras']}: "
            + (
                "the same order (g and c both name the cell candidate), so a port only transposes"
                if same
                else f"a port must reorder them (torch->keras takes blocks {perm})"
            )
        )
        diff = Difference("gate_order", detail, letters["torch"], letters["keras"])
        out.append(_measured(diff, measured.get("gate_order")))
    if getattr(layer, "use_bias", False):
        n_t, n_k = sequence.bias_count(layer, "torch"), sequence.bias_count(layer, "keras")
        bias_k = by_role_k.get("bias")
        kshape = _shape(bias_k.shape) if bias_k is not None else "?"
        if n_k == 1:
            detail = (
                f"PyTorch keeps two bias vectors (bias_ih_l0, bias_hh_l0), Keras one bias "
                f"{kshape}: they are only ever added, so torch->keras sums them and "
                "keras->torch puts the whole bias into bias_ih_l0 and zeros into bias_hh_l0 "
                f"(same function; PyTorch counts {g}*H more parameters)"
            )
        else:
            detail = (
                f"both keep two bias vectors: PyTorch bias_ih_l0 and bias_hh_l0, Keras "
                f"stacks them as bias {kshape} (row 0 input, row 1 recurrent); they cannot "
                "be summed, because the recurrent bias of the candidate sits inside "
                "r*(W_hn h + b_hn)"
            )
        diff = Difference("biases", detail, f"{n_t} x ({g}*H)", f"{n_k} x ({g}*H)")
        out.append(_measured(diff, measured.get("biases")))
    return out


def family_differences(
    layer: Layer,
    formula: LayerFormula,
    torch: FrameworkLayer,
    keras: FrameworkLayer,
    measured: dict[str, NaiveResult],
) -> list[Difference]:
    """Weight-layout, gate-order and bias differences of one sequence-family layer.

    Example:
        >>> family_differences(layer, formula, t, k, {})  # doctest: +SKIP
        [Difference(what='kernel_layout', ...), Difference(what='gate_order', ...), ...]
    """
    if layer.kind in sequence.RECURRENT_KINDS:
        return _recurrent_diffs(layer, torch, keras, measured)
    wt = next((w for w in torch.weights if w.role == "embeddings"), None)
    wk = next((w for w in keras.weights if w.role == "embeddings"), None)
    if wt is None or wk is None:
        return []
    return [
        Difference(
            "embeddings_layout",
            f"PyTorch {wt.name} and Keras {wk.name} are both {_shape(wt.shape)} "
            f"[{','.join(wt.axes)}] (one row per id): a port is a copy",
            torch=f"{_shape(wt.shape)} [{','.join(wt.axes)}]",
            keras=f"{_shape(wk.shape)} [{','.join(wk.axes)}]",
        )
    ]
