"""Named differences and naive-port checks of the recurrent kinds (lstm, gru,
simple_rnn).

Their weight differences replace the generic ones: kernels and recurrent kernels with
their gate blocks, the gate order and the biases. Their naive checks:

* ``kernel_layout``: the kernel reshaped instead of transposed, run by Keras itself
  (a recurrent port moves several arrays at once);
* ``gate_order``: a GRU ported without reordering its gate blocks (r,z,n read as z,r,h);
* ``biases``: an LSTM / simple RNN ported with ``bias_ih_l0`` only (``bias_hh_l0``
  dropped instead of summed), or a GRU whose two biases are summed into one row;
* ``directions``: a bidirectional layer whose forward arrays are written into Keras'
  backward layer and the ``_reverse`` ones into the forward layer;
* ``layer_input``: a stacked bidirectional layer whose layer >= 1 kernels read the
  2*H input features as [reverse, forward] instead of [forward, reverse];
* ``last_step``: a bidirectional layer without ``return_sequences`` whose PyTorch side
  keeps ``output[:, -1]`` (the reverse direction after one step) instead of each
  direction's final state.

The defaults table rows (``explain``, ``spec_values``) are here too.
"""

from __future__ import annotations

from typing import Any

import numpy as np

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

__all__ = [
    "biases",
    "derived_values",
    "directions",
    "gate_order",
    "kernel_in_keras",
    "last_step",
    "layer_input",
    "recurrent_weights",
    "stack_differences",
]

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
    return out + stack_differences(facts)


def _name(weights: dict[str, Any], role: str) -> str:
    found = weights.get(role)
    return str(found.name) if found is not None else "?"


def stack_differences(facts: LayerFacts) -> list[Difference]:
    """``stacked_layers``, ``directions`` and ``last_step`` of a deep or bidirectional
    layer, from the weights each framework holds.

    Example:
        >>> from compare.formulas import infer
        >>> from compare.records import FrameworkLayer
        >>> from compare.spec import LSTM, Input, Model
        >>> m = Model("m", Input(3, (5,)), (LSTM(units=4, num_layers=2, bidirectional=True),))
        >>> t, k = FrameworkLayer("torch", True), FrameworkLayer("keras", True)
        >>> [d.what for d in stack_differences(LayerFacts(m.layers[0], infer(m)[0], t, k, {}))]
        ['stacked_layers', 'directions', 'last_step']
    """
    layer, naive = facts.layer, facts.naive
    by_role_t = {w.role: w for w in facts.torch.weights if w.role}
    by_role_k = {w.role: w for w in facts.keras.weights if w.role}
    n = getattr(layer, "num_layers", 1)
    bidirectional = getattr(layer, "bidirectional", False)
    out = []
    if n > 1:
        wt, wk = by_role_t.get("kernel_l1"), by_role_k.get("kernel_l1")
        t_shape = shape_text(wt.shape) if wt is not None else "?"
        k_shape = shape_text(wk.shape) if wk is not None else "?"
        reads = "the 2*H concatenated outputs (forward first)" if bidirectional else "H"
        detail = (
            f"PyTorch holds the {n} layers in one module, their parameters suffixed _l0 .. "
            f"_l{n - 1} ({_name(by_role_t, 'kernel_l1')} {t_shape}); Keras stacks {n} "
            f"layers, each but the last with return_sequences=True "
            f"({_name(by_role_k, 'kernel_l1')} {k_shape}); layer 1 reads {reads}"
        )
        diff = Difference(
            "stacked_layers",
            detail,
            torch=f"1 module, num_layers={n}",
            keras=f"{n} layers",
        )
        out.append(measured(diff, naive.get("layer_input")))
    if bidirectional:
        detail = (
            f"PyTorch keeps the reverse direction in the same module "
            f"({_name(by_role_t, 'kernel_reverse')}); Keras' Bidirectional holds it in "
            f"its backward layer ({_name(by_role_k, 'kernel_reverse')}), which reads the "
            "steps from last to first (go_backwards=True) and whose output sequence "
            "Bidirectional flips back to the input's order; both concatenate [forward, "
            "reverse] at each step, so the _reverse arrays port to the backward layer"
        )
        diff = Difference("directions", detail, torch="_reverse parameters", keras="backward_layer")
        out.append(measured(diff, naive.get("directions")))
        if not getattr(layer, "return_sequences", False):
            detail = (
                "without return_sequences Keras' Bidirectional returns each direction's "
                "final state: the forward output at the last step and the backward one "
                "after it read the first step; in PyTorch's output sequence the reverse "
                "half of step 0 is that final state (h_n[-1]), so RnnOutput keeps "
                "cat(output[:, -1, :H], output[:, 0, H:]); output[:, -1] keeps the "
                "reverse direction after one step"
            )
            diff = Difference(
                "last_step",
                detail,
                torch="cat(output[:, -1, :H], output[:, 0, H:])",
                keras="Bidirectional(return_sequences=False)",
            )
            out.append(measured(diff, naive.get("last_step")))
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


def directions(ctx: Context) -> NaiveResult | None:
    """Port torch->keras with the forward arrays written into the backward layer and
    the ``_reverse`` ones into the forward layer.

    Example:
        >>> from compare.naive import context_of
        >>> from compare.spec import LSTM, Input, Model
        >>> spec = LSTM(units=2, bidirectional=True, return_sequences=True)
        >>> err, detail = directions(context_of(Model("m", Input(3, (5,)), (spec,))))
        >>> err > 0, detail
        (True, "forward arrays ported into Keras' backward layer and _reverse ones into ...")
    """
    if not getattr(ctx.layer, "bidirectional", False):
        return None
    err, why = _naive_keras(ctx, swap_directions=True)
    return err, why or (
        "forward arrays ported into Keras' backward layer and _reverse ones into the forward layer"
    )


def layer_input(ctx: Context) -> NaiveResult | None:
    """Port the kernels of layers >= 1 of a bidirectional stack with their 2*H input
    features read as [reverse, forward] (Keras concatenates [forward, backward], as
    PyTorch does).

    Example:
        >>> from compare.naive import context_of
        >>> from compare.spec import GRU, Input, Model
        >>> spec = GRU(units=2, num_layers=2, bidirectional=True)
        >>> err, detail = layer_input(context_of(Model("m", Input(3, (5,)), (spec,))))
        >>> err > 0, detail
        (True, 'the 2*H inputs of layer 1 read as [reverse, forward] in kernel_l1 and ...')
    """
    layer = ctx.layer
    if getattr(layer, "num_layers", 1) < 2 or not getattr(layer, "bidirectional", False):
        return None
    h: int = getattr(layer, "units")  # noqa: B009 - every recurrent spec has units
    ported = sequence.port_recurrent(layer, ctx.weights("torch"), to="keras")
    swapped = []
    for index, direction in sequence.sublayers(layer):
        if index == 0:
            continue
        role = sequence.role_name("kernel", index, direction)
        ported[role] = np.concatenate([ported[role][h:], ported[role][:h]])
        swapped.append(role)
    err, why = measure_error(ctx.y_keras, with_keras_weights(ctx, ported))
    return err, why or (
        f"the 2*H inputs of layer 1 read as [reverse, forward] in {' and '.join(swapped)}"
    )


def last_step(ctx: Context) -> NaiveResult | None:
    """A bidirectional layer without ``return_sequences`` whose PyTorch side keeps
    ``output[:, -1]``, run by PyTorch against the correct (Keras-equal) output.

    Example:
        >>> from compare.naive import context_of
        >>> from compare.spec import LSTM, Input, Model
        >>> spec = LSTM(units=2, bidirectional=True)
        >>> err, detail = last_step(context_of(Model("m", Input(3, (5,)), (spec,))))
        >>> err > 0, detail
        (True, 'output[:, -1] kept: the reverse direction after reading one step, not ...')
    """
    layer = ctx.layer
    if not getattr(layer, "bidirectional", False) or getattr(layer, "return_sequences", True):
        return None
    from compare.kinds.recurrent.torch import last_step_output

    naive = last_step_output(ctx.built("torch").obj, ctx.x_torch)
    err, why = measure_error(ctx.y_torch, naive)
    return err, why or (
        "output[:, -1] kept: the reverse direction after reading one step, not all of them"
    )


register_part(ANY, "naive_checks", *RECURRENT)(
    {
        "kernel_layout": kernel_in_keras,
        "gate_order": gate_order,
        "biases": biases,
        "directions": directions,
        "layer_input": layer_input,
        "last_step": last_step,
    }
)

register_part(ANY, "explain", *RECURRENT)(
    {
        "num_layers": "how many recurrences are stacked, each reading the outputs of the last",
        "bidirectional": "whether each layer also runs from the last step to the first",
        "batch_first": (
            "nn.LSTM's default takes (steps, N, features); compare builds "
            "batch_first=True, Keras' only layout (N, steps, features)"
        ),
        "merge_mode": "how Bidirectional merges the forward and backward outputs",
        "return_sequences": "whether every step or only the last is returned",
    }
)


@register_part(ANY, "spec_values", *RECURRENT)
def derived_values(layer: Any) -> dict[str, Any]:
    """The defaults rows a recurrent layer derives from its spec: the stack fields
    (``to_dict`` leaves them out at 1, false, "concat") and the batch-first layout
    compare builds.

    Example:
        >>> from compare.spec import LSTM
        >>> derived_values(LSTM(units=2))
        {'num_layers': 1, 'bidirectional': False, 'merge_mode': 'concat', 'batch_first': True}
    """
    return {
        "num_layers": layer.num_layers,
        "bidirectional": layer.bidirectional,
        "merge_mode": layer.merge_mode,
        "batch_first": True,
    }
