"""What the Keras importer maps to the recurrent kinds: ``LSTM`` / ``GRU`` / ``SimpleRNN``
and ``Bidirectional`` wrapping one of them (its forward and backward layer alike but for
``go_backwards``). A stack of them, each but the last returning sequences, is folded
into one spec of ``num_layers`` (``compare.kinds.recurrent.folds``).

Keras' RNN layers take and return channels-last (N, steps, features), which is the
layout every Keras activation has, so each layer is one spec layer. Options the spec
has no field for (running backwards, state kept across batches, dropout masks, other
activations) are named as unmappable rather than dropped.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from compare.adapters._keras_import import keras
from compare.core.registry import register_part
from compare.importers.base import Piece, Refuse
from compare.kinds.recurrent.spec import (
    GRU,
    LSTM,
    MERGE_MODES,
    RECURRENT_ACTIVATIONS,
    SimpleRNN,
    role_name,
)

__all__: list[str] = []

L = keras.layers

#: Keras RNN class -> spec class.
_SPECS: dict[type, Any] = {L.LSTM: LSTM, L.GRU: GRU, L.SimpleRNN: SimpleRNN}

#: Option -> (the value the spec means, why another value has no spec equivalent).
_OPTIONS: dict[str, tuple[Any, str]] = {
    "go_backwards": (False, "the spec's recurrent layer reads the steps forward"),
    "stateful": (False, "the spec's recurrent layer starts every batch from a zero state"),
    "return_state": (False, "the spec's recurrent layer returns one tensor"),
    "dropout": (0.0, "the spec has no dropout on the inputs of a recurrent layer"),
    "recurrent_dropout": (0.0, "the spec has no dropout on the recurrent state"),
}


def _name(fn: Any) -> str:
    return str(getattr(fn, "__name__", fn))


def _spec(layer: Any, backwards: bool = False) -> Any:
    """The one-layer spec of a Keras RNN layer (``backwards``: Bidirectional's backward
    layer, which reads the steps from last to first)."""
    cls = next((c for c in type(layer).__mro__ if c in _SPECS), None)
    if cls is None:
        raise Refuse(f"it wraps a {type(layer).__name__}, not an LSTM, GRU or SimpleRNN")
    config = layer.get_config()
    for option, (want, why) in _OPTIONS.items():
        if option == "go_backwards" and backwards:
            want, why = True, "Bidirectional's backward layer reads the steps backwards"
        value = config.get(option, want)
        if value != want:
            raise Refuse(f"{option}={value!r}: {why}")
    activation = _name(layer.cell.activation)
    extra: dict[str, Any] = {}
    if cls is L.SimpleRNN:
        if activation not in RECURRENT_ACTIVATIONS:
            raise Refuse(
                f"activation={activation!r}; the spec's simple_rnn has "
                f"{', '.join(map(repr, RECURRENT_ACTIVATIONS))} (the ones nn.RNN offers)"
            )
        extra["activation"] = activation
    else:
        recurrent = _name(layer.cell.recurrent_activation)
        if (activation, recurrent) != ("tanh", "sigmoid"):
            raise Refuse(
                f"activation={activation!r}, recurrent_activation={recurrent!r}; the spec's "
                f"{_SPECS[cls].kind} has tanh and sigmoid gates (as nn.{cls.__name__} does)"
            )
    if cls is L.GRU:
        extra["reset_after"] = bool(layer.cell.reset_after)
    return _SPECS[cls](
        units=int(layer.units),
        return_sequences=bool(layer.return_sequences),
        use_bias=bool(layer.cell.use_bias),
        **extra,
    )


def _roles(layer: Any, direction: int = 0) -> dict[str, Any]:
    cell = layer.cell
    return {
        role_name(role, 0, direction): (cell, role, None)
        for role in ("kernel", "recurrent_kernel", "bias")
        if getattr(cell, role, None) is not None
    }


@register_part("keras", "layer", *_SPECS)
def _recurrent(layer: Any, piece: Piece) -> Piece:
    return replace(piece, layer=_spec(layer), roles=_roles(layer))


@register_part("keras", "layer", L.Bidirectional)
def _bidirectional(layer: Any, piece: Piece) -> Piece:
    mode = layer.merge_mode
    if mode not in MERGE_MODES:
        raise Refuse(
            f"merge_mode={mode!r} returns the forward and backward outputs as two "
            f"tensors; the spec's bidirectional layer merges them ({', '.join(MERGE_MODES)})"
        )
    if getattr(layer, "return_state", False):
        raise Refuse("return_state=True: the spec's recurrent layer returns one tensor")
    forward, backward = layer.forward_layer, layer.backward_layer
    spec = _spec(forward)
    back = _spec(backward, backwards=True)
    if back != spec:
        raise Refuse(
            f"its backward layer ({back}) is not the forward one ({spec}) run backwards; "
            "the spec's directions share every option"
        )
    roles = {**_roles(forward), **_roles(backward, 1)}
    return replace(piece, layer=replace(spec, bidirectional=True, merge_mode=mode), roles=roles)
