"""Keras builders for the sequence families: ``LSTM`` / ``GRU`` / ``SimpleRNN`` and
``Embedding`` (layouts and porting: ``compare.sequence``).

Keras activations are channels-last, so a (steps, features) sequence is already the
(N, steps, features) its RNN layers take: each spec is one Keras layer. The defaults
reported in the notes are read back from the built layer's ``get_config()``.
Each builder returns (parts, roles, notes) for ``KerasAdapter`` to wrap.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from compare.adapters._keras_import import keras
from compare.adapters.base import Notes
from compare.formulas import LayerFormula
from compare.spec import GRU, LSTM, Embedding, Layer, SimpleRNN

__all__ = ["BUILDERS"]

L = keras.layers
_RNN: dict[str, Any] = {"lstm": L.LSTM, "gru": L.GRU, "simple_rnn": L.SimpleRNN}

Made = tuple[list[Any], dict[str, Any], Notes]


def initializer_name(config: Any) -> str:
    """The class name (and arguments) of a serialised initializer.

    Example:
        >>> initializer_name({"class_name": "RandomUniform",
        ...                   "config": {"minval": -0.05, "maxval": 0.05, "seed": None}})
        'RandomUniform(minval=-0.05, maxval=0.05)'
    """
    if not isinstance(config, dict):
        return str(config)
    args = ", ".join(
        f"{key}={value}"
        for key, value in (config.get("config") or {}).items()
        if key != "seed" and value is not None
    )
    name = str(config.get("class_name", config))
    return f"{name}({args})" if args else name


def _recurrent(layer: LSTM | GRU | SimpleRNN, formula: LayerFormula, name: str, dtype: str) -> Made:
    extra: dict[str, Any] = {}
    if isinstance(layer, GRU):
        extra["reset_after"] = layer.reset_after
    if isinstance(layer, SimpleRNN):
        extra["activation"] = layer.activation
    rnn = _RNN[layer.kind](
        layer.units,
        return_sequences=layer.return_sequences,
        use_bias=layer.use_bias,
        name=name,
        dtype=dtype,
        **extra,
    )
    cell = rnn.cell
    roles = {
        "kernel": (cell, "kernel", None),
        "recurrent_kernel": (cell, "recurrent_kernel", None),
        "bias": (cell, "bias", None),
    }
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
    notes: Notes = (
        (
            "sequence_layout",
            f"{type(rnn).__name__} takes the channels-last (N, {steps}, {features}) as it "
            f"is and returns {kept} (return_sequences={cfg['return_sequences']})",
        ),
        ("initializers", init),
        ("activations", activation),
        (
            "training",
            f"dropout={cfg['dropout']}, recurrent_dropout={cfg['recurrent_dropout']}: "
            "training mode computes what inference does; recurrent_dropout (a mask on "
            "h at every step) has no PyTorch equivalent",
        ),
    )
    state = [v for v in rnn.variables if id(v) not in {id(w) for w in rnn.weights}]
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
    return [rnn], roles, notes


def _embedding(layer: Embedding, formula: LayerFormula, name: str, dtype: str) -> Made:
    emb = L.Embedding(layer.input_dim, layer.output_dim, name=name, dtype=dtype)
    cfg = emb.get_config()
    notes: Notes = (
        (
            "sequence_layout",
            f"Embedding returns the channels-last (N, {formula.input.size[0]}, "
            f"{layer.output_dim}) as it is",
        ),
        (
            "initializers",
            f"embeddings_initializer={initializer_name(cfg['embeddings_initializer'])}",
        ),
        (
            "input_dtype",
            "ids of any integer dtype are cast to int32 (a float input is cast too); an id "
            f"outside [0, {layer.input_dim}) raises on CPU (tf.gather; TensorFlow documents "
            "zeros instead on GPU)",
        ),
        ("masking", f"mask_zero={cfg['mask_zero']}: id 0 is an ordinary row, no mask is made"),
    )
    return [emb], {"embeddings": (emb, "embeddings", None)}, notes


#: spec class -> builder(layer, formula, name, dtype) -> (parts, roles, notes)
BUILDERS: dict[type[Layer], Callable[..., Made]] = {
    LSTM: _recurrent,
    GRU: _recurrent,
    SimpleRNN: _recurrent,
    Embedding: _embedding,
}
