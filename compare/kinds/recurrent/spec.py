"""The recurrent family, framework-free: ``lstm``, ``gru``, ``simple_rnn`` (one layer, one
direction): specs, shapes and parameter formulas, the gate order of each framework as
data, weight axis labels, and weight porting (numpy only).

Sequence layout. The spec is layout-neutral: a (steps, features) sequence is
``Input(channels=features, size=(steps,))``, a rank-1 activation like any Conv1D input.
Keras holds it as (N, steps, features), which is what its RNN layers take. PyTorch
holds every rank-1 activation channels-first, (N, features, steps); ``nn.LSTM`` and
friends (``batch_first=True``) want (N, steps, features), so the PyTorch realisation is
``MoveAxis(1, -1)``, the RNN, ``RnnOutput`` (picks the output sequence or its last step
out of the tuple the RNN returns) and, for ``return_sequences=True``, ``MoveAxis(-1, 1)``.
Every layer that follows (a Conv1D, a Dense, a Flatten) then sees the usual layouts.
``return_sequences=False`` gives a flat vector of ``units`` features (rank 0).

Gates. Both frameworks stack the gates' weights along one axis of ``G*H`` rows
(``G`` gates, ``H`` units). PyTorch holds the input weights as ``weight_ih_l0``
(G*H, I), Keras as ``kernel`` (I, G*H); the recurrent weights ``weight_hh_l0`` (G*H, H)
and ``recurrent_kernel`` (H, G*H). The gate order is the same for the LSTM (i, f, g/c, o)
but not for the GRU (PyTorch r, z, n; Keras z, r, h): a port reshapes to (G, H, ...),
reorders the gates, transposes, and reshapes back.

Biases. PyTorch always keeps two bias vectors, ``bias_ih_l0`` and ``bias_hh_l0``. For
the LSTM and the simple RNN they are only ever added together, so Keras keeps one:
porting to Keras sums them; porting to PyTorch puts the whole bias into ``bias_ih_l0``
and zeros into ``bias_hh_l0`` (any split with the same sum computes the same function;
all-in-one is the split that round-trips exactly). A GRU with ``reset_after=True`` (Keras'
default and PyTorch's only formulation) needs both, because the recurrent bias sits
inside the reset gate's product: Keras stacks them as ``bias`` (2, 3H), row 0 the
input bias and row 1 the recurrent one. ``reset_after=False`` (the original GRU, reset
gate applied to ``h`` before the matmul, one bias) has no PyTorch equivalent.

Example:
    >>> gate_permutation("gru", "torch", "keras")
    (1, 0, 2)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from compare.core.registry import register_kind
from compare.core.shapes import LayerFormula, Shape
from compare.core.validate import check_bool, check_int, fmt
from compare.core.work import Work
from compare.errors import SpecError
from compare.spec import Layer

__all__ = [
    "GATE_LETTERS",
    "GATE_ORDER",
    "GRU",
    "LSTM",
    "RECURRENT_ACTIVATIONS",
    "RECURRENT_KINDS",
    "SimpleRNN",
    "bias_count",
    "gate_permutation",
    "gates",
    "port_recurrent",
    "reorder_gates",
    "weight_axes",
]

RECURRENT_KINDS = ("lstm", "gru", "simple_rnn")

#: Gate order along the stacked G*H axis, as each framework holds it (neutral names).
GATE_ORDER: dict[str, dict[str, tuple[str, ...]]] = {
    "lstm": {
        "torch": ("input", "forget", "cell", "output"),
        "keras": ("input", "forget", "cell", "output"),
    },
    "gru": {
        "torch": ("reset", "update", "new"),
        "keras": ("update", "reset", "new"),
    },
    "simple_rnn": {"torch": ("cell",), "keras": ("cell",)},
}

#: Each framework's own letters for its gates, in its order (what docs and sources use).
GATE_LETTERS: dict[str, dict[str, str]] = {
    "lstm": {"torch": "i,f,g,o", "keras": "i,f,c,o"},
    "gru": {"torch": "r,z,n", "keras": "z,r,h"},
    "simple_rnn": {"torch": "-", "keras": "-"},
}


def gates(kind: str) -> int:
    """Number of gates stacked in a recurrent family's arrays.

    Example:
        >>> gates("lstm"), gates("gru"), gates("simple_rnn")
        (4, 3, 1)
    """
    return len(GATE_ORDER[kind]["torch"])


def gate_permutation(kind: str, src: str, dst: str) -> tuple[int, ...]:
    """Gate indices of ``src``'s order that give ``dst``'s order.

    Example:
        >>> gate_permutation("lstm", "keras", "torch")
        (0, 1, 2, 3)
    """
    order_src, order_dst = GATE_ORDER[kind][src], GATE_ORDER[kind][dst]
    return tuple(order_src.index(gate) for gate in order_dst)


def reorder_gates(array: np.ndarray, perm: tuple[int, ...], axis: int) -> np.ndarray:
    """Reorder the gate blocks stacked along ``axis`` (of length G*H) by ``perm``.

    Example:
        >>> reorder_gates(np.arange(6), (1, 0, 2), 0)
        array([2, 3, 0, 1, 4, 5])
    """
    g = len(perm)
    moved = np.moveaxis(array, axis, 0)
    blocks = moved.reshape(g, moved.shape[0] // g, *moved.shape[1:])[list(perm)]
    return np.ascontiguousarray(np.moveaxis(blocks.reshape(moved.shape), 0, axis))


def bias_count(layer: Layer, framework: str) -> int:
    """How many bias vectors of G*H a recurrent layer holds in ``framework``.

    Example:
        >>> bias_count(LSTM(units=4), "torch"), bias_count(LSTM(units=4), "keras")
        (2, 1)
    """
    if not getattr(layer, "use_bias", True):
        return 0
    if framework == "torch" or (isinstance(layer, GRU) and layer.reset_after):
        return 2
    return 1


# -- formulas ---------------------------------------------------------------------------
def _describe(shape: Shape) -> str:
    if shape.dtype == "int":
        return f"a sequence of {shape.size[0]} integer token ids"
    if shape.rank == 0:
        return f"a flat vector of {shape.channels} features"
    return f"a {shape.rank}-d map of {shape.channels} channels, size {list(shape.size)}"


#: Activation evaluations per unit per step: the LSTM's three sigmoid gates and two
#: tanh (cell input and output), the GRU's two sigmoid gates and one tanh, the simple
#: RNN's one activation.
ACTIVATIONS_PER_UNIT = {"lstm": 5, "gru": 3, "simple_rnn": 1}


def _need_sequence(layer: Layer, shape: Shape) -> None:
    if shape.rank != 1:
        raise SpecError(
            f"kind='{layer.kind}' needs a sequence (channels=features, size=[steps]), "
            f"but its input is {_describe(shape)}"
        )


def _recurrent(layer: LSTM | GRU | SimpleRNN, shape: Shape) -> LayerFormula:
    _need_sequence(layer, shape)
    g, h, i = gates(layer.kind), layer.units, shape.channels

    def count(biases: int) -> tuple[int, str]:
        inner = f"{i}+{h}" + (f"+{biases}" if biases else "")
        gates_text = f"{g}*" if g > 1 else ""
        return g * h * (i + h + biases), f"{gates_text}{h}*({inner})"

    params, text = count(bias_count(layer, "keras"))
    expression = f"{text} = {params}"
    by_framework: tuple[tuple[str, int], ...] = (("keras", params),)
    if not (isinstance(layer, GRU) and not layer.reset_after):
        torch_params, torch_text = count(bias_count(layer, "torch"))
        by_framework += (("torch", torch_params),)
        if torch_params != params:
            expression += f"; PyTorch keeps two bias vectors: {torch_text} = {torch_params}"
    steps = shape.size if layer.return_sequences else ()
    return LayerFormula(params, expression, shape, Shape(h, steps), framework_params=by_framework)


# -- weight axes ------------------------------------------------------------------------
def weight_axes(layer: Layer, role: str, framework: str) -> tuple[str, ...]:
    """Axis labels of ``role`` as ``framework`` holds it (``4*H``: 4 gates of H units).

    Example:
        >>> weight_axes(LSTM(units=32), "kernel", "torch"), weight_axes(LSTM(units=32),
        ...     "kernel", "keras")
        (('4*H', 'I'), ('I', '4*H'))
    """
    g = gates(layer.kind)
    gh = f"{g}*H" if g > 1 else "H"
    other = {"kernel": "I", "recurrent_kernel": "H"}
    if role in other:
        return (gh, other[role]) if framework == "torch" else (other[role], gh)
    if role == "bias" and framework == "keras" and bias_count(layer, "keras") == 2:
        return ("2", gh)
    return (gh,)


# -- porting ----------------------------------------------------------------------------
def _matrix(array: np.ndarray, perm: tuple[int, ...], to: str) -> np.ndarray:
    """(G*H, X) torch <-> (X, G*H) keras, gates reordered by ``perm``."""
    if to == "keras":
        return np.ascontiguousarray(reorder_gates(array, perm, 0).T)
    return np.ascontiguousarray(reorder_gates(array, perm, 1).T)


def port_recurrent(
    layer: Layer,
    weights: Mapping[str, np.ndarray],
    *,
    to: str,
    reorder: bool = True,
    combine_biases: bool = True,
) -> dict[str, np.ndarray]:
    """Port a recurrent layer's role arrays into framework ``to``.

    Torch roles: ``kernel`` (weight_ih_l0), ``recurrent_kernel`` (weight_hh_l0),
    ``bias`` (bias_ih_l0), ``recurrent_bias`` (bias_hh_l0); Keras roles: ``kernel``,
    ``recurrent_kernel``, ``bias``. ``reorder=False`` and ``combine_biases=False`` (keep
    only the input bias) are the naive ports ``compare.naive`` measures.

    Example:
        >>> w = {"kernel": np.arange(6.0).reshape(3, 2), "recurrent_kernel": np.eye(3),
        ...      "bias": np.ones(3), "recurrent_bias": np.ones(3)}
        >>> out = port_recurrent(GRU(units=1, reset_after=True), w, to="keras")
        >>> out["kernel"].tolist(), out["bias"].shape
        ([[2.0, 0.0, 4.0], [3.0, 1.0, 5.0]], (2, 3))
    """
    src = "keras" if to == "torch" else "torch"
    g = gates(layer.kind)
    perm = gate_permutation(layer.kind, src, to) if reorder else tuple(range(g))
    out = {role: _matrix(weights[role], perm, to) for role in ("kernel", "recurrent_kernel")}
    if "bias" not in weights:
        return out
    two = bias_count(layer, "keras") == 2
    if to == "keras":
        b_ih = reorder_gates(weights["bias"], perm, 0)
        b_hh = reorder_gates(weights["recurrent_bias"], perm, 0)
        if two:
            out["bias"] = np.stack([b_ih, b_hh])
        else:
            out["bias"] = b_ih + b_hh if combine_biases else b_ih
        return out
    bias = reorder_gates(weights["bias"], perm, weights["bias"].ndim - 1)
    if two:
        out["bias"], out["recurrent_bias"] = bias[0].copy(), bias[1].copy()
    else:
        out["bias"], out["recurrent_bias"] = bias, np.zeros_like(bias)
    return out


# -- specs ------------------------------------------------------------------------------
RECURRENT_ACTIVATIONS = ("tanh", "relu")


@dataclass(frozen=True)
class _Recurrent(Layer):
    """Fields shared by the recurrent families (one layer, one direction)."""

    units: int = 0
    return_sequences: bool = False
    use_bias: bool = True

    #: Both frameworks hold other roles (two biases in PyTorch): ported as a whole.
    ported_by_role: ClassVar[bool] = False
    counted_shape_only: ClassVar[bool] = False  # aten.lstm on CPU, a while loop in TF

    def __post_init__(self) -> None:
        check_int("units", self.units, 1)
        check_bool("return_sequences", self.return_sequences)
        check_bool("use_bias", self.use_bias)

    def rule(self, shape: Shape) -> LayerFormula:
        """``G*H*(I+H+biases)``, Keras' count; PyTorch's second bias vector apart.

        Example:
            >>> LSTM(units=32).rule(Shape(16, (10,))).framework_params
            (('keras', 6272), ('torch', 6400))
        """
        return _recurrent(self, shape)  # type: ignore[arg-type]

    def work(self, formula: LayerFormula) -> Work:
        """Every step multiplies the input and the state into every gate:
        ``steps*G*H*(I+H)`` MACs; the bias adds (Keras' count) and the gate
        activations per step apart.

        Example:
            >>> lstm = LSTM(units=32).resolved(1)
            >>> lstm.work(lstm.rule(Shape(16, (10,)))).expression
            '10*4*32*(16+32) = 61440'
        """
        g, h, i = gates(self.kind), self.units, formula.input.channels
        steps = formula.input.size[0]
        macs = steps * g * h * (i + h)
        return Work(
            macs,
            f"{steps}*{g}*{h}*({i}+{h}) = {macs}",
            bias_adds=steps * g * h * bias_count(self, "keras"),  # type: ignore[arg-type]
            activations=steps * h * ACTIVATIONS_PER_UNIT[self.kind],
        )

    def weight_axes(
        self, formula: LayerFormula, role: str, framework: str, ndim: int
    ) -> tuple[str, ...]:
        """Axis labels of ``role`` as ``framework`` holds it (``4*H``: 4 gates of H units).

        Example:
            >>> lstm = LSTM(units=32).resolved(1)
            >>> f = lstm.rule(Shape(16, (10,)))
            >>> lstm.weight_axes(f, "kernel", "torch", 2), lstm.weight_axes(f, "kernel", "keras", 2)
            (('4*H', 'I'), ('I', '4*H'))
        """
        labels = weight_axes(self, role, framework)
        return labels if len(labels) == ndim else ()

    def port(
        self,
        formula: LayerFormula,
        weights: Mapping[str, np.ndarray],
        dst_shapes: Mapping[str, tuple[int, ...]],
        *,
        to: str,
    ) -> dict[str, np.ndarray]:
        """Gates reordered, matrices transposed, biases summed or split (``port_recurrent``).

        Example:
            >>> g = GRU(units=1).resolved(1)
            >>> w = {"kernel": np.ones((3, 2)), "recurrent_kernel": np.eye(3)[:, :1]}
            >>> g.port(g.rule(Shape(2, (4,))), w, {}, to="keras")["kernel"].shape
            (2, 3)
        """
        return port_recurrent(self, weights, to=to)


@register_kind
@dataclass(frozen=True)
class LSTM(_Recurrent):
    """A long short-term memory layer (``nn.LSTM``, ``keras.layers.LSTM``).

    Example:
        >>> LSTM(units=32).to_dict()
        {'kind': 'lstm', 'units': 32, 'return_sequences': False, 'use_bias': True}
    """

    kind: ClassVar[str] = "lstm"


@register_kind
@dataclass(frozen=True)
class GRU(_Recurrent):
    """A gated recurrent unit; ``reset_after`` applies the reset gate after the
    recurrent matmul (PyTorch's only formulation, Keras' default).

    Example:
        >>> GRU(units=8, reset_after=False).reset_after
        False
    """

    reset_after: bool = True
    kind: ClassVar[str] = "gru"

    def __post_init__(self) -> None:
        super().__post_init__()
        check_bool("reset_after", self.reset_after)


@register_kind
@dataclass(frozen=True)
class SimpleRNN(_Recurrent):
    """An Elman RNN ``h = activation(x W + h U + b)`` (``nn.RNN``, ``keras.layers.SimpleRNN``).

    Example:
        >>> SimpleRNN(units=4, activation="relu").activation
        'relu'
    """

    activation: str = "tanh"
    kind: ClassVar[str] = "simple_rnn"

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.activation, str) or self.activation.lower() not in (
            RECURRENT_ACTIVATIONS
        ):
            raise SpecError(
                f"activation={fmt(self.activation)} must be one of "
                f"{', '.join(map(repr, RECURRENT_ACTIVATIONS))} (the ones nn.RNN offers)"
            )
        object.__setattr__(self, "activation", self.activation.lower())
