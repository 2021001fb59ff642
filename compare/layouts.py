"""Weight and activation layouts as data: axis labels, permutations, their inverses.

Framework-free (numpy only). Every weight role of every family is described by the
axis labels of its array in PyTorch and in Keras, after splitting merged axes
(PyTorch's depthwise weight ``(C*M, 1, H, W)`` is seen as ``(C, M, H, W)``). A port is
then: reshape to the labelled axes, transpose by the permutation the labels imply,
reshape to the destination's own shape. The inverse port uses the same data the
other way round, so a round trip is the identity by construction — and tested.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from compare import sequence
from compare.formulas import LayerFormula, Shape
from compare.spec import Layer

__all__ = [
    "FEATURE_AXES",
    "WeightLayout",
    "activation_to_keras",
    "activation_to_torch",
    "flattened_features",
    "flattened_sizes",
    "inverse",
    "kernel_axes",
    "layout_of",
    "permutation",
    "port_weight",
    "weight_axes",
    "weight_layout",
]

_SPATIAL = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}


def kernel_axes(rank: int) -> tuple[str, ...]:
    """Labels of the spatial kernel axes for a rank.

    Example:
        >>> kernel_axes(2)
        ('H', 'W')
    """
    return _SPATIAL[rank]


@dataclass(frozen=True)
class WeightLayout:
    """How one weight role is laid out in each framework.

    ``torch`` and ``keras`` are the labels of the (split) axes; ``torch_shown`` and
    ``keras_shown`` the labels of the arrays as the frameworks hold them, which is
    what reports show (``O,I,H,W`` and ``H,W,I,O``).

    Example:
        >>> weight_layout("conv", "kernel", 2).keras_shown
        ('H', 'W', 'I', 'O')
    """

    torch: tuple[str, ...]
    keras: tuple[str, ...]
    torch_shown: tuple[str, ...]
    keras_shown: tuple[str, ...]


@functools.cache  # a pure function of a few small values, asked for on every weight
def weight_layout(
    kind: str, role: str, rank: int, *, groups: int = 1, flattened: int = 0
) -> WeightLayout:
    """The layout of ``role`` of family ``kind`` at spatial ``rank``.

    ``flattened`` is the spatial rank of the map a Flatten turned into the dense
    layer's input (0: the input was not flattened from a map).

    Example:
        >>> weight_layout("dense", "kernel", 0, flattened=2).torch
        ('O', 'C', 'H', 'W')
    """
    if flattened:
        return flattened_features(weight_layout(kind, role, rank, groups=groups), flattened)
    k = kernel_axes(rank) if rank else ()
    i = "I/g" if groups > 1 else "I"
    o = "O/g" if groups > 1 else "O"
    if role == "bias":
        return WeightLayout(("O",), ("O",), ("O",), ("O",))
    if kind == "conv" and role == "kernel":
        return WeightLayout(("O", i, *k), (*k, i, "O"), ("O", i, *k), (*k, i, "O"))
    if kind == "conv_transpose" and role == "kernel":
        return WeightLayout(("I", o, *k), (*k, o, "I"), ("I", o, *k), (*k, o, "I"))
    if role == "depthwise_kernel":
        return WeightLayout(("C", "M", *k), (*k, "C", "M"), ("C*M", "1", *k), (*k, "C", "M"))
    if role == "pointwise_kernel":
        ones = ("1",) * rank
        return WeightLayout(("O", "C*M"), ("C*M", "O"), ("O", "C*M", *ones), (*ones, "C*M", "O"))
    if kind == "dense" and role == "kernel":
        return WeightLayout(("O", "I"), ("I", "O"), ("O", "I"), ("I", "O"))
    raise KeyError(f"no layout for role {role!r} of kind {kind!r}")


#: Labels of the axis that runs over a layer's input features (a dense kernel's ``I``, a
#: norm's ``C``). On a vector a Flatten made from a map, that axis is the map's C,*S in
#: PyTorch and *S,C in Keras, whatever the layer's kind.
FEATURE_AXES = ("I", "C")


@functools.cache
def flattened_features(layout: WeightLayout, rank: int) -> WeightLayout:
    """``layout`` of a weight whose input features come from a Flatten of a rank-``rank``
    map: its feature axis splits into C,*S in PyTorch and *S,C in Keras, so a port
    permutes it (a dense kernel's rows, a norm's gamma, beta and running statistics).

    Example:
        >>> norm = WeightLayout(("C",), ("C",), ("C",), ("C",))
        >>> flat = flattened_features(norm, 2)
        >>> flat.torch, flat.keras, flat.torch_shown, flat.keras_shown
        (('C', 'H', 'W'), ('H', 'W', 'C'), ('C*H*W',), ('H*W*C',))
    """
    m = kernel_axes(rank)

    def split(labels: tuple[str, ...], keras: bool) -> tuple[str, ...]:
        out: list[str] = []
        for label in labels:
            out += ([*m, "C"] if keras else ["C", *m]) if label in FEATURE_AXES else [label]
        return tuple(out)

    def shown(labels: tuple[str, ...], keras: bool) -> tuple[str, ...]:
        joined = "*".join((*m, "C") if keras else ("C", *m))
        return tuple(joined if label in FEATURE_AXES else label for label in labels)

    return WeightLayout(
        split(layout.torch, False),
        split(layout.keras, True),
        shown(layout.torch_shown, False),
        shown(layout.keras_shown, True),
    )


def flattened_sizes(
    sizes: dict[str, int], flattened_from: tuple[int, tuple[int, ...]]
) -> dict[str, int]:
    """``sizes`` with the feature axis (``FEATURE_AXES``) split into the flattened map's
    channels and spatial axes (the labels of ``flattened_features``).

    Example:
        >>> flattened_sizes({"O": 10, "I": 12}, (3, (2, 2)))
        {'O': 10, 'C': 3, 'H': 2, 'W': 2}
    """
    channels, size = flattened_from
    out = {label: n for label, n in sizes.items() if label not in FEATURE_AXES}
    return {**out, "C": channels, **dict(zip(kernel_axes(len(size)), size))}


@functools.cache
def permutation(src: tuple[str, ...], dst: tuple[str, ...]) -> tuple[int, ...]:
    """Axis order that turns an array labelled ``src`` into one labelled ``dst``.

    Example:
        >>> permutation(("O", "I", "H", "W"), ("H", "W", "I", "O"))
        (2, 3, 1, 0)
    """
    if sorted(src) != sorted(dst):
        raise ValueError(f"axes {src} and {dst} do not name the same axes")
    return tuple(src.index(label) for label in dst)


def inverse(perm: tuple[int, ...]) -> tuple[int, ...]:
    """The permutation that undoes ``perm``.

    Example:
        >>> inverse((2, 3, 1, 0))
        (3, 2, 0, 1)
    """
    out = [0] * len(perm)
    for position, axis in enumerate(perm):
        out[axis] = position
    return tuple(out)


def port_weight(
    array: np.ndarray,
    layout: WeightLayout,
    sizes: dict[str, int],
    dst_shape: tuple[int, ...],
    *,
    to: str,
) -> np.ndarray:
    """Move one weight array into the other framework's layout.

    ``sizes`` gives the length of each split label; ``to`` is ``"keras"`` or
    ``"torch"``.

    Example:
        >>> w = np.arange(2 * 3 * 1 * 1).reshape(2, 3, 1, 1)
        >>> lay = weight_layout("conv", "kernel", 2)
        >>> port_weight(w, lay, {"O": 2, "I": 3, "H": 1, "W": 1}, (1, 1, 3, 2), to="keras")[0, 0]
        array([[0, 3],
               [1, 4],
               [2, 5]])
    """
    src, dst = (layout.torch, layout.keras) if to == "keras" else (layout.keras, layout.torch)
    split = array.reshape([sizes[label] for label in src])
    return np.ascontiguousarray(split.transpose(permutation(src, dst)).reshape(dst_shape))


def activation_to_keras(x: np.ndarray, shape: Shape) -> np.ndarray:
    """A channels-first activation (N, C, *S) as Keras lays it out (N, *S, C).

    A vector that a Flatten made from a (C, *S) map is reordered from C,*S to *S,C.

    Example:
        >>> activation_to_keras(np.zeros((1, 4, 5, 6)), Shape(4, (5, 6))).shape
        (1, 5, 6, 4)
    """
    if shape.dtype == "int":  # token ids: (N, steps) in both frameworks
        return x
    if shape.rank:
        return np.moveaxis(x, 1, -1)
    if shape.flattened_from is not None:
        c, size = shape.flattened_from
        grid = x.reshape(x.shape[0], c, *size)
        return np.moveaxis(grid, 1, -1).reshape(x.shape[0], -1)
    return x


def activation_to_torch(x: np.ndarray, shape: Shape) -> np.ndarray:
    """The inverse of ``activation_to_keras``.

    Example:
        >>> activation_to_torch(np.zeros((1, 5, 6, 4)), Shape(4, (5, 6))).shape
        (1, 4, 5, 6)
    """
    if shape.dtype == "int":
        return x
    if shape.rank:
        return np.moveaxis(x, -1, 1)
    if shape.flattened_from is not None:
        c, size = shape.flattened_from
        grid = x.reshape(x.shape[0], *size, c)
        return np.moveaxis(grid, -1, 1).reshape(x.shape[0], -1)
    return x


def layout_of(layer: Layer, formula: LayerFormula, role: str) -> WeightLayout:
    """The layout of ``role`` of a resolved layer on its input (any kind).

    Example:
        >>> from compare.spec import Input, Model, Conv
        >>> from compare.formulas import infer
        >>> m = Model("m", Input(40, (28, 28)), (Conv(filters=8, kernel_size=3),))
        >>> layout_of(m.layers[0], infer(m)[0], "kernel").torch
        ('O', 'I', 'H', 'W')
    """
    from compare.layouts_layers import KIND_LAYOUTS

    flat = formula.input.flattened_from
    if layer.kind in KIND_LAYOUTS:
        layout = KIND_LAYOUTS[layer.kind](layer, formula, role)[0]
        return layout if flat is None else flattened_features(layout, len(flat[1]))
    return weight_layout(
        layer.kind,
        role,
        formula.input.rank,
        groups=getattr(layer, "groups", 1),
        flattened=0 if flat is None else len(flat[1]),
    )


def weight_axes(
    layer: Layer, formula: LayerFormula, role: str, framework: str, ndim: int
) -> tuple[str, ...]:
    """Axis labels of ``role`` as ``framework`` holds it; () if the array has other axes.

    Example:
        >>> from compare.spec import Input, Model, Conv
        >>> from compare.formulas import infer
        >>> m = Model("m", Input(40, (28, 28)), (Conv(filters=8, kernel_size=3),))
        >>> weight_axes(m.layers[0], infer(m)[0], "kernel", "keras", 4)
        ('H', 'W', 'I', 'O')
    """
    if layer.kind in sequence.PORTS:  # recurrent families and embedding
        labels = sequence.weight_axes(layer, role, framework)
        return labels if len(labels) == ndim else ()
    layout = layout_of(layer, formula, role)
    shown = layout.torch_shown if framework == "torch" else layout.keras_shown
    if framework == "keras" and role == "depthwise_kernel" and formula.input.rank == 3:
        # Keras has no 3-D depthwise layer: a grouped Conv3D holds it as (*K, 1, C*M).
        return (*shown[:-2], "1", "C*M")
    return shown if len(shown) == ndim else ()


def split_sizes(layer: Layer, formula: LayerFormula, role: str) -> dict[str, int]:
    """Length of every split axis label of ``role`` for this layer.

    Example:
        >>> from compare.spec import Input, Model, Conv
        >>> from compare.formulas import infer
        >>> m = Model("m", Input(40, (28, 28)), (Conv(filters=8, kernel_size=3),))
        >>> split_sizes(m.layers[0], infer(m)[0], "kernel")
        {'O': 8, 'I': 40, 'H': 3, 'W': 3}
    """
    flat = formula.input.flattened_from
    sizes = _split_sizes(layer, formula, role)
    return sizes if flat is None else flattened_sizes(sizes, flat)


def _split_sizes(layer: Layer, formula: LayerFormula, role: str) -> dict[str, int]:
    from compare.layouts_layers import KIND_LAYOUTS

    if layer.kind in KIND_LAYOUTS:
        return KIND_LAYOUTS[layer.kind](layer, formula, role)[1]
    shape_in = formula.input
    rank = shape_in.rank
    kernel = tuple(getattr(layer, "kernel_size", ()) or ())
    spatial = dict(zip(kernel_axes(rank), kernel)) if rank and kernel else {}
    groups = getattr(layer, "groups", 1)
    c = shape_in.channels
    out_c = formula.output.channels
    if role == "bias":
        return {"O": out_c}
    if role == "depthwise_kernel":
        m = getattr(layer, "depth_multiplier", 1)
        return {"C": c, "M": m, **spatial}
    if role == "pointwise_kernel":
        m = getattr(layer, "depth_multiplier", 1)
        return {"O": out_c, "C*M": c * m}
    if layer.kind == "conv":
        i = "I/g" if groups > 1 else "I"
        return {"O": out_c, i: c // groups, **spatial}
    if layer.kind == "conv_transpose":
        o = "O/g" if groups > 1 else "O"
        return {"I": c, o: out_c // groups, **spatial}
    if layer.kind == "dense":
        return {"O": out_c, "I": c}
    raise KeyError(f"no sizes for role {role!r} of kind {layer.kind!r}")
