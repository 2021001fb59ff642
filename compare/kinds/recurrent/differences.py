"""Naive-port checks of the recurrent kinds (lstm, gru, simple_rnn):

* ``kernel_layout``: the kernel reshaped instead of transposed, run by Keras itself
  (a recurrent port moves several arrays at once);
* ``gate_order``: a GRU ported without reordering its gate blocks (r,z,n read as z,r,h);
* ``biases``: an LSTM / simple RNN ported with ``bias_ih_l0`` only (``bias_hh_l0``
  dropped instead of summed), or a GRU whose two biases are summed into one row.
"""

from __future__ import annotations

from compare import sequence
from compare.core.registry import ANY, register_part
from compare.naive import (
    Context,
    NaiveResult,
    measure_error,
    reshaped_kernel,
    with_keras_weights,
)
from compare.spec import GRU

__all__ = ["biases", "gate_order", "kernel_in_keras"]

RECURRENT = ("lstm", "gru", "simple_rnn")


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
