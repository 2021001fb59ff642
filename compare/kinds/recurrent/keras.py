"""Keras builder of the recurrent family: ``lstm``, ``gru`` and ``simple_rnn`` as
``LSTM`` / ``GRU`` / ``SimpleRNN`` (layouts and porting: ``compare.kinds.recurrent.spec``).

Keras activations are channels-last, so a (steps, features) sequence is already the
(N, steps, features) its RNN layers take: each spec is one Keras layer. The defaults
reported in the notes are read back from the built layer's ``get_config()``.

Example:
    >>> from compare.formulas import infer
    >>> from compare.spec import LSTM, Input, Model
    >>> m = Model("m", Input(3, (5,)), (LSTM(units=4),))
    >>> build_recurrent(m.layers[0], infer(m)[0], "r", "float32")[0][0].units
    4
"""

from __future__ import annotations

from typing import Any

from compare.adapters._keras_import import keras
from compare.adapters.base import Made, Notes
from compare.adapters.keras_defaults import initializer_name
from compare.core.registry import register_part
from compare.defaults import signature_default
from compare.formulas import LayerFormula
from compare.kinds.recurrent.spec import GRU, LSTM, SimpleRNN, role_name

__all__ = ["build_recurrent", "recurrent_defaults"]

L = keras.layers
_RNN: dict[str, Any] = {"lstm": L.LSTM, "gru": L.GRU, "simple_rnn": L.SimpleRNN}


@register_part("keras", "build", "lstm", "gru", "simple_rnn")
def build_recurrent(
    layer: LSTM | GRU | SimpleRNN, formula: LayerFormula, name: str, dtype: str
) -> Made:
    """The Keras RNN layer (one per stacked layer, each wrapped in ``Bidirectional``
    when bidirectional), its cells' weights as roles, its configuration as notes.

    Example:
        >>> from compare.formulas import infer
        >>> from compare.spec import Input, Model
        >>> m = Model("m", Input(3, (5,)), (GRU(units=4),))
        >>> [what for what, _ in build_recurrent(m.layers[0], infer(m)[0], "r", "float32")[2]]
        ['sequence_layout', 'initializers', 'activations', 'training', 'buffers', 'reset_after']
    """
    extra: dict[str, Any] = {}
    if isinstance(layer, GRU):
        extra["reset_after"] = layer.reset_after
    if isinstance(layer, SimpleRNN):
        extra["activation"] = layer.activation
    made: list[Any] = []
    roles: dict[str, Any] = {}
    for index in range(layer.num_layers):
        last = index + 1 == layer.num_layers
        label = name if index == 0 else f"{name}_l{index}"
        rnn = _RNN[layer.kind](
            layer.units,
            return_sequences=layer.return_sequences or not last,
            use_bias=layer.use_bias,
            name=label,
            dtype=dtype,
            **extra,
        )
        if layer.bidirectional:
            wrapper = L.Bidirectional(
                rnn, merge_mode=layer.merge_mode, name=f"bidirectional_{label}", dtype=dtype
            )
            cells: tuple[Any, ...] = (wrapper.forward_layer.cell, wrapper.backward_layer.cell)
            made.append(wrapper)
        else:
            cells = (rnn.cell,)
            made.append(rnn)
        for direction, cell in enumerate(cells):
            for role in ("kernel", "recurrent_kernel", "bias"):
                roles[role_name(role, index, direction)] = (cell, role, None)
    rnn = made[-1].forward_layer if layer.bidirectional else made[-1]
    cfg = rnn.get_config()
    init = ", ".join(
        f"{key}={initializer_name(cfg[key])}"
        for key in ("kernel_initializer", "recurrent_initializer", "bias_initializer")
    )
    if "unit_forget_bias" in cfg:
        init += f", unit_forget_bias={cfg['unit_forget_bias']}"
        if cfg["unit_forget_bias"] and layer.use_bias:
            init += " (the forget gate's bias starts at 1)"
    activation = f"activation={cfg['activation']!r}"
    if "recurrent_activation" in cfg:
        activation += f", recurrent_activation={cfg['recurrent_activation']!r}"
    kept = "every step" if layer.return_sequences else "the last step"
    steps, features = formula.input.size[0], formula.input.channels
    layout = (
        f"{type(rnn).__name__} takes the channels-last (N, {steps}, {features}) as it "
        f"is and returns {kept} (return_sequences={cfg['return_sequences']})"
    )
    if layer.num_layers > 1:
        layout += (
            f"; {layer.num_layers} layers stacked, each but the last with return_sequences=True"
        )
    if layer.bidirectional:
        wrapper = made[-1]
        back = wrapper.backward_layer
        layout += (
            f"; Bidirectional(merge_mode={wrapper.merge_mode!r}) runs a copy of it forward "
            f"and {back.name} with go_backwards={back.go_backwards}, whose output "
            "sequence it flips back to the input's step order before merging"
        )
    notes: Notes = (
        ("sequence_layout", layout),
        ("initializers", init),
        ("activations", activation),
        (
            "training",
            f"dropout={cfg['dropout']}, recurrent_dropout={cfg['recurrent_dropout']}: "
            "training mode computes what inference does; recurrent_dropout (a mask on "
            "h at every step) has no PyTorch equivalent",
        ),
    )
    state = [
        v for part in made for v in part.variables if id(v) not in {id(w) for w in part.weights}
    ]
    if state:
        # v.name, not v.path: the path holds Keras' process-wide counter
        # (seed_generator_7/...), which would make reports depend on what ran before.
        described = ", ".join(f"{v.name} {tuple(int(d) for d in v.shape)}" for v in state)
        notes += (
            (
                "buffers",
                f"{described}: the random-generator state of its dropout masks, a variable "
                "but not a weight (PyTorch draws from the global generator)",
            ),
        )
    if isinstance(layer, GRU):
        text = f"reset_after={cfg['reset_after']}: " + (
            "the reset gate multiplies (h U_h + b_h_recurrent), PyTorch's formulation; "
            "bias is (2, 3*H), input and recurrent rows"
            if cfg["reset_after"]
            else "the reset gate multiplies h before U_h (the original GRU), one bias"
        )
        notes += (("reset_after", text),)
    return made, roles, notes


@register_part("keras", "defaults", "lstm", "gru", "simple_rnn")
def recurrent_defaults(layer: LSTM | GRU | SimpleRNN, formula: LayerFormula) -> dict[str, Any]:
    """``LSTM`` / ``GRU`` / ``SimpleRNN``'s defaults (their signatures), and
    ``Bidirectional``'s ``merge_mode`` when the spec is bidirectional.

    Example:
        >>> recurrent_defaults(GRU(units=2, bidirectional=True), None)
        {'use_bias': True, 'return_sequences': False, 'merge_mode': 'concat'}
    """
    cls = _RNN[layer.kind]
    out: dict[str, Any] = {
        name: signature_default(cls, name) for name in ("use_bias", "return_sequences")
    }
    if layer.bidirectional:
        out["merge_mode"] = signature_default(L.Bidirectional, "merge_mode")
    return out
