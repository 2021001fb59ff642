"""Named differences and naive-port measurements for the sequence families
(lstm, gru, simple_rnn, embedding); the generic ones (notes, parameter counts,
activation layout) come from ``compare.differences``.

Importing this module registers its naive checks in ``compare.naive.CHECKS``:

* ``gate_order``: a GRU ported without reordering its gate blocks (r,z,n read as z,r,h);
* ``biases``: an LSTM / simple RNN ported with ``bias_ih_l0`` only (``bias_hh_l0``
  dropped instead of summed), or a GRU whose two biases are summed into one row.
"""

from __future__ import annotations

from compare import naive, sequence
from compare.formulas import LayerFormula
from compare.naive import Context, NaiveResult
from compare.records import Difference, FrameworkLayer
from compare.spec import GRU, Layer

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
        >>> from compare.comparison import compare_model
        >>> from compare.formulas import infer
        >>> from compare.spec import Input, Model
        >>> m = Model("g", Input(4, (6,)), (GRU(units=5),))
        >>> fw = compare_model(m, diagnostics=False).layers[0].frameworks
        >>> diffs = family_differences(m.layers[0], infer(m)[0], fw["torch"], fw["keras"], {})
        >>> [d.what for d in diffs]
        ['kernel_layout', 'recurrent_kernel_layout', 'gate_order', 'biases']
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


# -- naive ports ------------------------------------------------------------------------
def _naive_keras(ctx: Context, **flags: bool) -> NaiveResult | None:
    torch_w = ctx.weights("torch")
    ported = sequence.port_recurrent(ctx.layer, torch_w, to="keras", **flags)
    return naive._err(ctx.y_keras, naive._with_keras_weights(ctx, ported))


def gate_order(ctx: Context) -> NaiveResult | None:
    """Port a GRU torch->keras transposing its arrays but keeping PyTorch's gate order."""
    kind = ctx.layer.kind
    if kind not in sequence.RECURRENT_KINDS:
        return None
    perm = sequence.gate_permutation(kind, "torch", "keras")
    if perm == tuple(range(len(perm))):
        return None
    result = _naive_keras(ctx, reorder=False)
    assert result is not None
    err, why = result
    letters = sequence.GATE_LETTERS[kind]
    return err, why or (
        f"arrays transposed but gate blocks kept in PyTorch's {letters['torch']} order, "
        f"which Keras reads as {letters['keras']}"
    )


def biases(ctx: Context) -> NaiveResult | None:
    """Port torch->keras ignoring how the two bias vectors must be combined."""
    layer = ctx.layer
    if layer.kind not in sequence.RECURRENT_KINDS or not getattr(layer, "use_bias", False):
        return None
    if sequence.bias_count(layer, "keras") == 1:
        result = _naive_keras(ctx, combine_biases=False)
        text = "only bias_ih_l0 ported, bias_hh_l0 dropped instead of added"
    else:
        assert isinstance(layer, GRU)
        torch_w = ctx.weights("torch")
        ported = sequence.port_recurrent(layer, torch_w, to="keras")
        ported["bias"] = ported["bias"].copy()
        ported["bias"][0] += ported["bias"][1]
        ported["bias"][1] = 0
        result = naive._err(ctx.y_keras, naive._with_keras_weights(ctx, ported))
        text = "the two GRU biases summed into the input row (as for an LSTM), recurrent row zero"
    assert result is not None
    err, why = result
    return err, why or text


naive.CHECKS.update({"gate_order": gate_order, "biases": biases})
