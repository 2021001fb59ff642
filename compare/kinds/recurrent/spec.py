"""The recurrent family, framework-free: ``lstm``, ``gru``, ``simple_rnn``, stacked
(``num_layers``) and bidirectional: specs, shapes and parameter formulas, the gate order
of each framework as data, weight axis labels, and weight porting (numpy only).

Stacks and directions. ``num_layers=L`` stacks L recurrences, each reading the whole
output sequence of the one before; ``bidirectional=True`` runs every layer forward and
backward over the steps and concatenates the two outputs (``merge_mode="concat"``), so
layer ``l >= 1`` reads ``2*H`` features. PyTorch builds the whole stack as one
``nn.LSTM(num_layers=L, bidirectional=True)`` holding ``weight_ih_l{l}`` and
``weight_ih_l{l}_reverse``; Keras as L layers, each a ``Bidirectional`` wrapper of a
forward and a backward layer. A weight role of layer ``l`` and direction ``d`` is the
one-layer role with PyTorch's suffix: ``kernel`` (layer 0, forward), ``kernel_l1``,
``kernel_reverse``, ``kernel_l1_reverse`` (``role_name``). Keras' ``merge_mode`` "sum",
"mul" and "ave" are specs too, built by Keras only: ``nn.LSTM`` always concatenates.

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
from typing import Any, ClassVar

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
    "MERGE_MODES",
    "RECURRENT_ACTIVATIONS",
    "RECURRENT_KINDS",
    "SimpleRNN",
    "bias_count",
    "directions",
    "gate_permutation",
    "gates",
    "layer_input",
    "output_features",
    "port_recurrent",
    "reorder_gates",
    "role_name",
    "split_role",
    "sublayers",
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


def directions(layer: Layer) -> int:
    """1, or 2 for a bidirectional layer.

    Example:
        >>> directions(LSTM(units=4)), directions(LSTM(units=4, bidirectional=True))
        (1, 2)
    """
    return 2 if getattr(layer, "bidirectional", False) else 1


def sublayers(layer: Layer) -> tuple[tuple[int, int], ...]:
    """Every (layer index, direction) of a stack, direction 1 the reverse one, in
    PyTorch's parameter order.

    Example:
        >>> sublayers(LSTM(units=4, num_layers=2, bidirectional=True))
        ((0, 0), (0, 1), (1, 0), (1, 1))
    """
    n = getattr(layer, "num_layers", 1)
    return tuple((i, d) for i in range(n) for d in range(directions(layer)))


def role_name(base: str, index: int, direction: int) -> str:
    """The role of ``base`` (``kernel`` ...) in layer ``index`` and ``direction``: the
    one-layer name with PyTorch's suffix, layer 0 forward unsuffixed.

    Example:
        >>> role_name("kernel", 0, 0), role_name("bias", 1, 0), role_name("kernel", 1, 1)
        ('kernel', 'bias_l1', 'kernel_l1_reverse')
    """
    return base + (f"_l{index}" if index else "") + ("_reverse" if direction else "")


def split_role(role: str) -> tuple[str, int, int]:
    """``role_name`` undone: (base, layer index, direction).

    Example:
        >>> split_role("recurrent_kernel_l2_reverse"), split_role("bias")
        (('recurrent_kernel', 2, 1), ('bias', 0, 0))
    """
    direction = 0
    if role.endswith("_reverse"):
        role, direction = role[: -len("_reverse")], 1
    base, sep, index = role.rpartition("_l")
    if sep and index.isdigit():
        return base, int(index), direction
    return role, 0, direction


def layer_input(layer: Layer, features: int, index: int) -> int:
    """Features layer ``index`` of a stack reads: the input's for layer 0, then the
    merged output of the layer before (``2*H`` when bidirectional and concatenated).

    Example:
        >>> layer_input(LSTM(units=8, num_layers=2, bidirectional=True), 5, 1)
        16
    """
    return features if index == 0 else output_features(layer)


def output_features(layer: Layer) -> int:
    """Features of the stack's output at each step.

    Example:
        >>> output_features(GRU(units=8, bidirectional=True, merge_mode="sum"))
        8
    """
    units: int = getattr(layer, "units")  # noqa: B009 - every recurrent spec has units
    concat = getattr(layer, "merge_mode", "concat") == "concat"
    return units * (directions(layer) if concat else 1)


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
    g, h = gates(layer.kind), layer.units
    dirs = directions(layer)

    def count(biases: int) -> tuple[int, str]:
        total, terms = 0, []
        for index in range(layer.num_layers):
            i = layer_input(layer, shape.channels, index)
            inner = f"{i}+{h}" + (f"+{biases}" if biases else "")
            factors = (f"{dirs}*" if dirs > 1 else "") + (f"{g}*" if g > 1 else "")
            total += dirs * g * h * (i + h + biases)
            terms.append(f"{factors}{h}*({inner})")
        return total, " + ".join(terms)

    params, text = count(bias_count(layer, "keras"))
    expression = f"{text} = {params}"
    by_framework: tuple[tuple[str, int], ...] = (("keras", params),)
    if not (isinstance(layer, GRU) and not layer.reset_after) and layer.merge_mode == "concat":
        torch_params, torch_text = count(bias_count(layer, "torch"))
        by_framework += (("torch", torch_params),)
        if torch_params != params:
            expression += f"; PyTorch keeps two bias vectors: {torch_text} = {torch_params}"
    steps = shape.size if layer.return_sequences else ()
    return LayerFormula(
        params,
        expression,
        shape,
        Shape(output_features(layer), steps),
        framework_params=by_framework,
    )


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
    role, index, _ = split_role(role)
    wide = output_features(layer) > getattr(layer, "units", 0)
    read = "I" if index == 0 else ("2*H" if wide else "H")
    other = {"kernel": read, "recurrent_kernel": "H"}
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
    swap_directions: bool = False,
) -> dict[str, np.ndarray]:
    """Port a recurrent layer's role arrays into framework ``to``.

    Torch roles: ``kernel`` (weight_ih_l0), ``recurrent_kernel`` (weight_hh_l0),
    ``bias`` (bias_ih_l0), ``recurrent_bias`` (bias_hh_l0); Keras roles: ``kernel``,
    ``recurrent_kernel``, ``bias``; each with ``role_name``'s suffix for the other layers
    and the reverse direction of a stack. ``reorder=False``, ``combine_biases=False``
    (keep only the input bias) and ``swap_directions=True`` (each forward array written
    into the reverse direction and back) are the naive ports ``compare.naive`` measures.

    Example:
        >>> w = {"kernel": np.arange(6.0).reshape(3, 2), "recurrent_kernel": np.eye(3),
        ...      "bias": np.ones(3), "recurrent_bias": np.ones(3)}
        >>> out = port_recurrent(GRU(units=1, reset_after=True), w, to="keras")
        >>> out["kernel"].tolist(), out["bias"].shape
        ([[2.0, 0.0, 4.0], [3.0, 1.0, 5.0]], (2, 3))
    """
    out: dict[str, np.ndarray] = {}
    for index, direction in sublayers(layer):
        names = {
            split_role(role)[0]: role
            for role in weights
            if split_role(role)[1:] == (index, direction)
        }
        one = _port_one(
            layer,
            {base: weights[role] for base, role in names.items()},
            to=to,
            reorder=reorder,
            combine_biases=combine_biases,
        )
        target = 1 - direction if swap_directions else direction
        out.update({role_name(base, index, target): array for base, array in one.items()})
    return out


def _port_one(
    layer: Layer,
    weights: Mapping[str, np.ndarray],
    *,
    to: str,
    reorder: bool,
    combine_biases: bool,
) -> dict[str, np.ndarray]:
    """``port_recurrent`` for one layer and direction, its roles unsuffixed."""
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

#: How Keras' ``Bidirectional`` merges the two directions (``None``, a list of two
#: tensors, is not one layer's output); PyTorch's bidirectional RNNs concatenate.
MERGE_MODES = ("concat", "sum", "mul", "ave")

#: Fields left out of ``to_dict`` at these values: a one-layer, one-direction spec
#: reads as it always did.
_QUIET = {"num_layers": 1, "bidirectional": False, "merge_mode": "concat"}


@dataclass(frozen=True)
class _Recurrent(Layer):
    """Fields shared by the recurrent families: ``num_layers`` stacked recurrences,
    each run in both directions when ``bidirectional`` (outputs merged by
    ``merge_mode``)."""

    units: int = 0
    return_sequences: bool = False
    use_bias: bool = True
    num_layers: int = 1
    bidirectional: bool = False
    merge_mode: str = "concat"

    #: Both frameworks hold other roles (two biases in PyTorch): ported as a whole.
    ported_by_role: ClassVar[bool] = False
    counted_shape_only: ClassVar[bool] = False  # aten.lstm on CPU, a while loop in TF

    def __post_init__(self) -> None:
        check_int("units", self.units, 1)
        check_bool("return_sequences", self.return_sequences)
        check_bool("use_bias", self.use_bias)
        check_int("num_layers", self.num_layers, 1)
        check_bool("bidirectional", self.bidirectional)
        if not isinstance(self.merge_mode, str) or self.merge_mode.lower() not in MERGE_MODES:
            raise SpecError(
                f"merge_mode={fmt(self.merge_mode)} must be one of "
                f"{', '.join(map(repr, MERGE_MODES))} (how Keras' Bidirectional merges the "
                "forward and backward outputs into one tensor)"
            )
        object.__setattr__(self, "merge_mode", self.merge_mode.lower())
        if self.merge_mode != "concat" and not self.bidirectional:
            raise SpecError(
                f"merge_mode={fmt(self.merge_mode)} merges the two directions of a "
                "bidirectional layer, but bidirectional=False runs one direction "
                "(leave merge_mode='concat' or set bidirectional=true)"
            )

    def to_dict(self) -> dict[str, Any]:
        """Canonical fields; ``num_layers``, ``bidirectional`` and ``merge_mode`` only
        when they are not 1, false and "concat".

        Example:
            >>> LSTM(units=4, num_layers=2, return_sequences=True).to_dict()["num_layers"]
            2
            >>> "bidirectional" in LSTM(units=4).to_dict()
            False
        """
        out = super().to_dict()
        for name, quiet in _QUIET.items():
            if out.get(name) == quiet and type(out.get(name)) is type(quiet):
                del out[name]
        return out

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
        g, h = gates(self.kind), self.units
        steps, dirs = formula.input.size[0], directions(self)
        inputs = [layer_input(self, formula.input.channels, n) for n in range(self.num_layers)]
        macs = sum(steps * dirs * g * h * (i + h) for i in inputs)
        factors = f"{steps}*" + (f"{dirs}*" if dirs > 1 else "") + f"{g}*{h}"
        text = " + ".join(f"{factors}*({i}+{h})" for i in inputs)
        runs = dirs * self.num_layers
        return Work(
            macs,
            f"{text} = {macs}",
            bias_adds=runs * steps * g * h * bias_count(self, "keras"),
            activations=runs * steps * h * ACTIVATIONS_PER_UNIT[self.kind],
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
