"""What the torch importer maps to the recurrent kinds: ``nn.LSTM`` / ``nn.GRU`` /
``nn.RNN`` (``batch_first=True``, any ``num_layers``, either direction) and compare's
own ``RnnOutput``. ``proj_size > 0`` is refused; ``dropout`` between stacked layers acts
in training only, so it is read as none and named in the layer's class (``LSTM with dropout between
layers (training only, read as none)``).

A recurrent module returns a tuple ``(output, state)``; it is registered as a
``sequence_opener``, so ``read_torch`` runs it together with the steps that pick a
tensor out of that tuple (``RnnOutput``, a ``tuple_reader``, or a traced ``out[0]`` /
``out[:, -1]`` / ``h_n[-1]``), and ``pick`` learns, from the real values, whether they
keep every step of the output or only the last one (the spec's ``return_sequences``).

Layout. A ``batch_first`` RNN takes and returns (N, steps, features), the layout Keras
uses, while the spec's PyTorch realisation keeps rank-1 activations channels-first,
(N, features, steps), with ``MoveAxis`` around each RNN. ``read_torch`` tracks which of
the two layouts the running tensor is in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import torch
from torch import nn

from compare.core.registry import register_part
from compare.importers.base import Piece, Refuse
from compare.kinds.recurrent.spec import GRU, LSTM, SimpleRNN
from compare.kinds.recurrent.torch import RnnOutput, torch_roles

__all__ = ["RNN_CLASSES", "pick"]

#: torch RNN class -> spec class.
RNN_CLASSES: dict[type[nn.Module], Any] = {
    nn.LSTM: LSTM,
    nn.GRU: GRU,
    nn.RNN: SimpleRNN,
}


def _base(module: nn.Module) -> type[nn.Module]:
    return next(cls for cls in type(module).__mro__ if cls in RNN_CLASSES)


@register_part("torch", "sequence_opener", *RNN_CLASSES)
@register_part("torch", "module", *RNN_CLASSES)
def _rnn(module: Any, piece: Piece) -> Piece:
    name = type(module).__name__
    unsupported = {
        "batch_first": (
            module.batch_first,
            True,
            "compare reads batch_first=True RNNs, which take (N, steps, features)",
        ),
        "proj_size": (
            getattr(module, "proj_size", 0),
            0,
            "the spec's LSTM has no projection of h (Keras' LSTM has none either)",
        ),
    }
    for field, (value, want, why) in unsupported.items():
        if value != want:
            raise Refuse(f"{name}({field}={value}): {why}")
    extra: dict[str, Any] = {}
    if isinstance(module, nn.RNN):
        extra["activation"] = module.nonlinearity
    # return_sequences is settled by ``pick`` once the steps that read the tuple ran.
    layer = RNN_CLASSES[_base(module)](
        units=module.hidden_size,
        use_bias=bool(module.bias),
        return_sequences=True,
        num_layers=int(module.num_layers),
        bidirectional=bool(module.bidirectional),
        **extra,
    )
    cls = piece.cls
    if module.dropout and module.num_layers > 1:
        # no value: a class name is cut at its last dot (module paths)
        cls = f"{cls} with dropout between layers (training only, read as none)"
    return replace(piece, cls=cls, layer=layer, roles=torch_roles(layer, module))


@register_part("torch", "tuple_reader", RnnOutput)
@register_part("torch", "module", RnnOutput)
def _rnn_output(module: Any, piece: Piece) -> Piece:
    raise Refuse(
        "it takes the (output, state) tuple of an RNN and is read only right after "
        "nn.LSTM / nn.GRU / nn.RNN"
    )


def pick(module: nn.Module, fused: Any, x: torch.Tensor) -> bool:
    """``return_sequences`` of ``module`` (a ``batch_first`` RNN), read from ``fused``
    (the RNN and the steps that reduce its tuple to one tensor): True when that keeps the
    output at every step, False when only the last step (of a bidirectional RNN: each
    direction's final state, the reverse one at step 0). Decided on a random input ``x``.

    Example:
        >>> rnn = nn.GRU(3, 4, batch_first=True)
        >>> pick(rnn, lambda x: rnn(x)[0][:, -1], torch.randn(2, 5, 3))
        False
    """
    with torch.no_grad():
        output = module(x)[0]
        got = fused(x)
    if not isinstance(got, torch.Tensor):
        raise Refuse(f"the steps after it give a {type(got).__name__}, not one tensor")
    h = int(getattr(module, "hidden_size", 0))
    last = output[:, -1]
    if getattr(module, "bidirectional", False):
        # each direction's final state: the reverse one ends at step 0
        last = torch.cat([output[:, -1, :h], output[:, 0, h:]], -1)
    for keeps, want in ((True, output), (False, last)):
        if got.shape == want.shape and torch.allclose(got, want, rtol=1e-5, atol=1e-6):
            return keeps
    naive_last = got.shape == last.shape and torch.allclose(got, output[:, -1], 1e-5, 1e-6)
    if getattr(module, "bidirectional", False) and naive_last:
        raise Refuse(
            "it keeps output[:, -1] of a bidirectional RNN: the forward direction's "
            "final state but the reverse direction after reading one step only, which "
            "Keras' Bidirectional cannot return; each direction's final state is "
            f"torch.cat([out[:, -1, :{h}], out[:, 0, {h}:]], -1) (h_n[-2] and h_n[-1])"
        )
    raise Refuse(
        f"the steps after it keep a {tuple(got.shape)} tensor of its (output, state) tuple; "
        "only the output sequence (out[0]) or its last step (out[0][:, -1], h_n[-1]) is read"
    )


@register_part("torch", "sequence_layout", "lstm", "gru", "simple_rnn")
def _layout(
    piece: Piece, last: bool, x: torch.Tensor, obj: Any, run: Callable[[Any], Any]
) -> tuple[Piece, bool]:
    """A ``batch_first`` RNN needs (N, steps, features); what the steps after it keep of
    its tuple says its ``return_sequences`` and the layout after it."""
    if not last:
        raise Refuse(
            f"{type(obj).__name__}(batch_first=True) takes (N, steps, features), but "
            f"here it gets a {tuple(x.shape)} tensor that is not a sequence in that layout"
        )
    rnn: Any = piece.layer
    probe = torch.randn((2, *x.shape[1:]), dtype=x.dtype)
    keeps = pick(obj, run, probe)
    return replace(piece, layer=replace(rnn, return_sequences=keeps)), keeps
