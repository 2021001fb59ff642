"""PyTorch builder of the recurrent family: ``lstm``, ``gru`` and ``simple_rnn`` as
``nn.LSTM`` / ``nn.GRU`` / ``nn.RNN`` (layouts and porting: ``compare.kinds.recurrent.spec``).

Every rank-1 activation is channels-first here, (N, features, steps), while the RNN
modules run with ``batch_first=True`` on (N, steps, features) and return a tuple. The
faithful realisation is therefore ``MoveAxis(1, -1)``, the RNN, ``RnnOutput`` (the
output at every step, or the last step) and, with ``return_sequences``,
``MoveAxis(-1, 1)``.

Example:
    >>> from compare.formulas import infer
    >>> from compare.spec import LSTM, Input, Model
    >>> m = Model("m", Input(3, (5,)), (LSTM(units=4),))
    >>> [type(p).__name__ for p in build_recurrent(m.layers[0], infer(m)[0])[0]]
    ['MoveAxis', 'LSTM', 'RnnOutput']
"""

from __future__ import annotations

import functools
import math
from typing import Any

import torch
from torch import nn

from compare.adapters.base import Made, Notes, Unsupported
from compare.adapters.torch_modules import MoveAxis
from compare.core.registry import register_part
from compare.defaults import signature_default
from compare.formulas import LayerFormula
from compare.kinds.recurrent.spec import GRU, LSTM, SimpleRNN, role_name, sublayers

__all__ = [
    "RnnOutput",
    "build_recurrent",
    "last_step_output",
    "recurrent_defaults",
    "torch_roles",
]

_RNN: dict[str, type[nn.Module]] = {"lstm": nn.LSTM, "gru": nn.GRU, "simple_rnn": nn.RNN}
_ACTIVATIONS = {
    "lstm": "fixed: sigmoid gates, tanh cell input and output (nn.LSTM takes no activation)",
    "gru": "fixed: sigmoid gates, tanh candidate (nn.GRU takes no activation)",
}


class RnnOutput(nn.Module):
    """Keep the output sequence of a ``batch_first`` RNN's ``(output, state)`` tuple,
    or only its last step (which equals the final hidden state of a one-layer RNN).

    ``units`` (given for a bidirectional RNN) splits each step into its forward and
    reverse halves. The reverse direction ends at step 0, so the final state of both
    is ``cat(output[:, -1, :units], output[:, 0, units:])`` (``h_n[-2]`` and
    ``h_n[-1]``), what Keras' ``Bidirectional(return_sequences=False)`` returns;
    ``output[:, -1]`` would keep the reverse direction after one step only.

    Example:
        >>> rnn = nn.LSTM(3, 4, batch_first=True)
        >>> RnnOutput(return_sequences=False)(rnn(torch.zeros(2, 5, 3))).shape
        torch.Size([2, 4])
    """

    def __init__(self, return_sequences: bool, units: int = 0) -> None:
        super().__init__()
        self.return_sequences = return_sequences
        self.units = units

    def forward(self, result: tuple[torch.Tensor, Any]) -> torch.Tensor:
        output = result[0]
        if self.return_sequences:
            return output
        if self.units:
            return torch.cat([output[:, -1, : self.units], output[:, 0, self.units :]], -1)
        return output[:, -1]

    def extra_repr(self) -> str:
        units = f", units={self.units} (bidirectional)" if self.units else ""
        return f"return_sequences={self.return_sequences}{units}"


#: Role base -> the start of PyTorch's parameter name.
_PARAMETERS = {
    "kernel": "weight_ih",
    "recurrent_kernel": "weight_hh",
    "bias": "bias_ih",
    "recurrent_bias": "bias_hh",
}


def torch_roles(layer: Any, rnn: nn.Module) -> dict[str, tuple[nn.Module, str]]:
    """Role -> (``rnn``, parameter name) for every layer and direction of ``rnn``.

    Example:
        >>> spec = LSTM(units=2, num_layers=2, bidirectional=True, use_bias=False)
        >>> rnn = nn.LSTM(3, 2, num_layers=2, bidirectional=True, bias=False)
        >>> [attr for _, attr in torch_roles(spec, rnn).values()][-2:]
        ['weight_ih_l1_reverse', 'weight_hh_l1_reverse']
    """
    bases = [base for base in _PARAMETERS if layer.use_bias or "bias" not in base]
    return {
        role_name(base, index, direction): (
            rnn,
            f"{_PARAMETERS[base]}_l{index}" + ("_reverse" if direction else ""),
        )
        for index, direction in sublayers(layer)
        for base in bases
    }


def _shape_only(module: nn.Module) -> bool:
    """Whether ``module`` was built on the ``meta`` device: shapes, no values.

    Example:
        >>> _shape_only(nn.Linear(1, 1, device="meta"))
        True
    """
    return any(p.is_meta for p in module.parameters())


@register_part("torch", "build", "lstm", "gru", "simple_rnn")
def build_recurrent(layer: LSTM | GRU | SimpleRNN, formula: LayerFormula) -> Made:
    """The RNN module between the moves to and from (N, steps, features).

    Example:
        >>> from compare.formulas import infer
        >>> from compare.spec import Input, Model
        >>> m = Model("m", Input(3, (5,)), (GRU(units=4, reset_after=False),))
        >>> build_recurrent(m.layers[0], infer(m)[0])
        Traceback (most recent call last):
        ...
        compare.adapters.base.Unsupported: nn.GRU has only the reset_after=True formulation ...
    """
    if isinstance(layer, GRU) and not layer.reset_after:
        raise Unsupported(
            "nn.GRU has only the reset_after=True formulation (reset gate applied after "
            "the recurrent matmul, n = tanh(W_in x + b_in + r*(W_hn h + b_hn))); "
            "reset_after=False (r applied to h before the matmul) has no PyTorch equivalent"
        )
    if layer.merge_mode != "concat":
        raise Unsupported(
            f"merge_mode={layer.merge_mode!r}: a bidirectional nn.{_RNN[layer.kind].__name__} "
            "always concatenates its forward and reverse outputs (2*units features per "
            "step), and the next stacked layer reads them so; only merge_mode='concat' "
            "has a PyTorch equivalent"
        )
    extra = {"nonlinearity": layer.activation} if isinstance(layer, SimpleRNN) else {}
    features, steps = formula.input.channels, formula.input.size[0]
    rnn = _RNN[layer.kind](
        features,
        layer.units,
        num_layers=layer.num_layers,
        bidirectional=layer.bidirectional,
        batch_first=True,
        bias=layer.use_bias,
        **extra,
    )
    units = layer.units if layer.bidirectional else 0
    parts: list[nn.Module] = [MoveAxis(1, -1), rnn, RnnOutput(layer.return_sequences, units)]
    if layer.return_sequences:
        kept = "every step of output"
    elif units:
        kept = (
            "the forward half of output's last step and the reverse half of its first "
            "(each direction's final state)"
        )
    else:
        kept = "the last step of output"
    layout = (
        f"{type(rnn).__name__}(batch_first=True) takes (N, steps, features) and returns "
        f"a tuple (output, state); MoveAxis(1, -1) turns the channels-first (N, {features}, "
        f"{steps}) into (N, {steps}, {features}), RnnOutput keeps {kept}"
    )
    if layer.return_sequences:
        parts.append(MoveAxis(-1, 1))
        layout += ", MoveAxis(-1, 1) makes it channels-first again"
    roles = torch_roles(layer, rnn)
    bound = 1 / math.sqrt(layer.units)
    init = (
        f"reset_parameters draws every weight and bias from U(-k, k), k = 1/sqrt(units) "
        f"= {bound:.4g}"
    )
    if not _shape_only(rnn):  # meta tensors (the shape-only mode) have no values to read
        largest = max(float(p.detach().abs().max()) for p in rnn.parameters())
        init += f" (largest initial |value| read back: {largest:.4g})"
    activation = _ACTIVATIONS.get(layer.kind) or f"nonlinearity={rnn.nonlinearity!r}"
    training = (
        f"dropout={rnn.dropout} acts only between stacked layers "
        f"(num_layers={rnn.num_layers}): training mode computes what inference does"
    )
    if rnn.bidirectional:
        layout += (
            f"; bidirectional=True: each step holds the forward and the reverse output, "
            f"concatenated ({2 * layer.units} features), and the parameters of the reverse "
            "direction end in _reverse"
        )
    notes: Notes = (
        ("sequence_layout", layout),
        ("initializers", init),
        ("activations", activation),
        ("training", training),
    )
    if isinstance(layer, GRU):
        notes += (
            (
                "reset_after",
                "nn.GRU applies the reset gate after the recurrent matmul: "
                "n = tanh(W_in x + b_in + r*(W_hn h + b_hn)), with both biases",
            ),
        )
    return nn.Sequential(*parts), roles, notes


def last_step_output(module: Any, x: Any) -> Any:
    """What ``module`` (the realisation ``build_recurrent`` made: moves, RNN,
    ``RnnOutput``) gives for the channels-first ``x`` (numpy) when ``RnnOutput`` keeps
    ``output[:, -1]``, the last step of both directions' outputs.

    Example:
        >>> import numpy as np
        >>> gru = nn.GRU(3, 2, batch_first=True)
        >>> module = nn.Sequential(MoveAxis(1, -1), gru, RnnOutput(False))
        >>> last_step_output(module, np.zeros((1, 3, 4), "float32")).shape
        (1, 2)
    """
    move, rnn = module[0], module[1]
    with torch.no_grad():
        return RnnOutput(False)(rnn(move(torch.from_numpy(x)))).numpy()


@functools.cache
def _returns() -> tuple[bool, str]:
    """Read from a real ``nn.RNN``: whether its output holds every step, and how a
    bidirectional one merges its directions."""
    with torch.no_grad():
        output = nn.RNN(1, 1, batch_first=True, bidirectional=True)(torch.zeros(1, 3, 1))[0]
    return output.shape[1] == 3, "concat" if output.shape[-1] == 2 else "?"


@register_part("torch", "defaults", "lstm", "gru", "simple_rnn")
def recurrent_defaults(layer: LSTM | GRU | SimpleRNN, formula: LayerFormula) -> dict[str, Any]:
    """``nn.LSTM`` / ``GRU`` / ``RNN``'s defaults (``nn.RNNBase``'s signature) in the
    spec's terms: its output holds every step (``return_sequences=True``), read from a
    real module, as is how it merges two directions; ``num_layers``, ``bidirectional``
    and ``merge_mode`` when the spec uses them.

    Example:
        >>> recurrent_defaults(LSTM(units=2, num_layers=2), None)
        {'use_bias': True, 'return_sequences': True, 'batch_first': False, 'num_layers': 1}
    """
    every_step, merge = _returns()
    out: dict[str, Any] = {
        "use_bias": signature_default(nn.RNNBase, "bias"),
        "return_sequences": every_step,
        "batch_first": signature_default(nn.RNNBase, "batch_first"),
    }
    if layer.num_layers > 1:
        out["num_layers"] = signature_default(nn.RNNBase, "num_layers")
    if layer.bidirectional:
        out["bidirectional"] = signature_default(nn.RNNBase, "bidirectional")
        out["merge_mode"] = merge
    return out
