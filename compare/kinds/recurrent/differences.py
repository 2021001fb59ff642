"""Named differences and naive-port checks of the recurrent kinds (lstm, gru,
simple_rnn).

Their weight differences replace the generic ones: kernels and recurrent kernels with
their gate blocks, the gate order and the biases. Their naive checks:

* ``kernel_layout``: the kernel reshaped instead of transposed, run by Keras itself
  (a recurrent port moves several arrays at once);
* ``gate_order``: a GRU ported without reordering its gate blocks (r,z,n read as z,r,h);
* ``biases``: an LSTM / simple RNN ported with ``bias_ih_l0`` only (``bias_hh_l0``
  dropped instead of summed), or a GRU whose two biases are summed into one row.
"""

from __future__ import annotations

from compare.core.registry import ANY, register_part
from compare.differences import LayerFacts, measured, shape_text
from compare.kinds.recurrent import spec as sequence
from compare.kinds.recurrent.spec import GRU
from compare.naive import (
    Context,
    NaiveResult,
    measure_error,
    reshaped_kernel,
    with_keras_weights,
)
from compare.records import Difference

__all__ = ["biases", "gate_order", "kernel_in_keras", "recurrent_weights"]

RECURRENT = ("lstm", "gru", "simple_rnn")


@register_part(ANY, "weight_differences", *RECURRENT)
def recurrent_weights(facts: LayerFacts) -> list[Difference]:
    """Kernel and recurrent-kernel layouts, gate order and biases of a recurrent layer.

    Example:
        >>> from compare.formulas import infer
        >>> from compare.records import FrameworkLayer
        >>> from compare.spec import Input, Model
        >>> m = Model("m", Input(3, (5,)), (GRU(units=4),))
        >>> t, k = FrameworkLayer("torch", True), FrameworkLayer("keras", True)
        >>> [d.what for d in recurrent_weights(LayerFacts(m.layers[0], infer(m)[0], t, k, {}))]
        ['gate_order', 'biases']
    """
    layer, torch, keras, naive = facts.layer, facts.torch, facts.keras, facts.naive
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
            f"PyTorch holds {wt.name} as {shape_text(wt.shape)} [{','.join(wt.axes)}], Keras "
            f"{wk.name} as {shape_text(wk.shape)} [{','.join(wk.axes)}]; porting torch->keras "
            f"is: {how}",
            torch=f"{shape_text(wt.shape)} [{','.join(wt.axes)}]",
            keras=f"{shape_text(wk.shape)} [{','.join(wk.axes)}]",
        )
        out.append(measured(diff, naive.get("kernel_layout")) if role == "kernel" else diff)
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
        out.append(measured(diff, naive.get("gate_order")))
    if getattr(layer, "use_bias", False):
        n_t, n_k = sequence.bias_count(layer, "torch"), sequence.bias_count(layer, "keras")
        bias_k = by_role_k.get("bias")
        kshape = shape_text(bias_k.shape) if bias_k is not None else "?"
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
        out.append(measured(diff, naive.get("biases")))
    return out


# -- naive ports ------------------------------------------------------------------------
def _naive_keras(ctx: Context, **flags: bool) -> NaiveResult:
    torch_w = ctx.weights("torch")
    ported = sequence.port_recurrent(ctx.layer, torch_w, to="keras", **flags)
    return measure_error(ctx.y_keras, with_keras_weights(ctx, ported))


def kernel_in_keras(ctx: Context) -> NaiveResult | None:
    """The kernel reshaped instead of transposed, run by Keras itself (the other arrays
    keep their correct port).

    Example:
        >>> from compare.naive import context_of
        >>> from compare.spec import LSTM, Input, Model
        >>> err, detail = kernel_in_keras(context_of(Model("m", Input(3, (5,)), (LSTM(units=2),))))
        >>> err > 0, detail
        (True, 'kernel reshaped from torch (8, 3) to Keras (3, 8) instead of transposed')
    """
    return reshaped_kernel(ctx, through_torch=False)


def gate_order(ctx: Context) -> NaiveResult | None:
    """Port a GRU torch->keras transposing its arrays but keeping PyTorch's gate order.

    Example:
        >>> from compare.naive import context_of
        >>> from compare.spec import Input, Model
        >>> err, detail = gate_order(context_of(Model("m", Input(3, (5,)), (GRU(units=2),))))
        >>> err > 0, detail
        (True, "arrays transposed but gate blocks kept in PyTorch's r,z,n order, which Keras ...")
    """
    kind = ctx.layer.kind
    perm = sequence.gate_permutation(kind, "torch", "keras")
    if perm == tuple(range(len(perm))):
        return None
    err, why = _naive_keras(ctx, reorder=False)
    letters = sequence.GATE_LETTERS[kind]
    return err, why or (
        f"arrays transposed but gate blocks kept in PyTorch's {letters['torch']} order, "
        f"which Keras reads as {letters['keras']}"
    )


def biases(ctx: Context) -> NaiveResult | None:
    """Port torch->keras ignoring how the two bias vectors must be combined.

    Example:
        >>> from compare.naive import context_of
        >>> from compare.spec import LSTM, Input, Model
        >>> err, detail = biases(context_of(Model("m", Input(3, (5,)), (LSTM(units=2),))))
        >>> err > 0, detail
        (True, 'only bias_ih_l0 ported, bias_hh_l0 dropped instead of added')
    """
    layer = ctx.layer
    if not getattr(layer, "use_bias", False):
        return None
    if sequence.bias_count(layer, "keras") == 1:
        err, why = _naive_keras(ctx, combine_biases=False)
        text = "only bias_ih_l0 ported, bias_hh_l0 dropped instead of added"
    else:
        assert isinstance(layer, GRU)
        torch_w = ctx.weights("torch")
        ported = sequence.port_recurrent(layer, torch_w, to="keras")
        ported["bias"] = ported["bias"].copy()
        ported["bias"][0] += ported["bias"][1]
        ported["bias"][1] = 0
        err, why = measure_error(ctx.y_keras, with_keras_weights(ctx, ported))
        text = "the two GRU biases summed into the input row (as for an LSTM), recurrent row zero"
    return err, why or text


register_part(ANY, "naive_checks", *RECURRENT)(
    {"kernel_layout": kernel_in_keras, "gate_order": gate_order, "biases": biases}
)
