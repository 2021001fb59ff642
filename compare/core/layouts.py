"""Weight and activation layouts as data: axis labels, permutations, their inverses.

Framework-free (numpy only). Every weight role of every kind is described by the axis
labels of its array in PyTorch and in Keras (a kind's ``layout`` says which), after
splitting merged axes (PyTorch's depthwise weight ``(C*M, 1, H, W)`` is seen as
``(C, M, H, W)``). A port is then: reshape to the labelled axes, transpose by the
permutation the labels imply, reshape to the destination's own shape. The inverse port
uses the same data the other way round, so a round trip is the identity by
construction, and tested.

Example:
    >>> permutation(("O", "I", "H", "W"), ("H", "W", "I", "O"))
    (2, 3, 1, 0)
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from compare.core.shapes import Shape

__all__ = [
    "FEATURE_AXES",
    "WeightLayout",
    "activation_to_keras",
    "activation_to_torch",
    "flattened_features",
    "flattened_sizes",
    "inverse",
    "kernel_axes",
    "permutation",
    "permuted_copy",
    "port_weight",
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
        >>> WeightLayout(("O", "I"), ("I", "O"), ("O", "I"), ("I", "O")).keras
        ('I', 'O')
    """

    torch: tuple[str, ...]
    keras: tuple[str, ...]
    torch_shown: tuple[str, ...]
    keras_shown: tuple[str, ...]


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
        >>> lay = WeightLayout(("O", "I", "H", "W"), ("H", "W", "I", "O"), (), ())
        >>> port_weight(w, lay, {"O": 2, "I": 3, "H": 1, "W": 1}, (1, 1, 3, 2), to="keras")[0, 0]
        array([[0, 3],
               [1, 4],
               [2, 5]])
    """
    src, dst = (layout.torch, layout.keras) if to == "keras" else (layout.keras, layout.torch)
    split = array.reshape([sizes[label] for label in src])
    return permuted_copy(split, permutation(src, dst)).reshape(dst_shape)


#: Arrays of more elements than this are copied in slabs and tiles (``permuted_copy``).
BLOCKED_ABOVE = 1 << 22
#: Elements of one slab of rows (16 MiB of float32): the only temporary a copy makes.
SLAB = 1 << 22
#: Side of the square tiles a slab is transposed in, so that reads and writes stay in cache.
TILE = 256
#: A source axis shorter than this moves with a plain copy (tiles would be slivers).
MIN_TILED_AXIS = 64
#: Arrays of at least this many elements whose last axis moves to the front (a Keras
#: kernel to PyTorch's layout) are copied a few indices of the output's second axis
#: at a time (``permuted_copy``), each slice writing runs of at least ``ROW_RUN``.
PER_SLICE_FROM = 1 << 18
ROW_RUN = 8


def permuted_copy(array: np.ndarray, perm: tuple[int, ...]) -> np.ndarray:
    """``array.transpose(perm)`` as a new C-contiguous array.

    A copy that keeps the source's contiguous (last) axis last only moves whole rows,
    and numpy does it fast. A large one that moves it elsewhere, say to position ``k``,
    is done in two passes per slab of at most ``SLAB`` elements: the rows are gathered
    in the output's order of the other axes (whole-row copies), then each slab,
    a 2-D array of (rows, last axis), is transposed into the output in ``TILE`` x
    ``TILE`` tiles. For VGG16's first dense kernel moved from Keras' (H, W, C, O) to
    PyTorch's (O, C, H, W) (102,760,448 weights) this took 0.5 s on a quiet 2-core
    machine, against 1.0 s for ``ascontiguousarray`` of the transposed view and 1.6 s
    for small 16 x 64 tiles of it; the temporary is one slab (16 MiB), not a second
    copy of the array. A large array whose last axis moves to the front (a conv
    kernel, or VGG16's dense kernel, from Keras' layout to PyTorch's) is copied a few
    indices of the output's second axis at a time instead: each slice's reads stay in
    cache (VGG16's dense kernel: 0.31 s against 0.41 s for the slabs).

    Example:
        >>> a = np.arange(24).reshape(2, 3, 4)
        >>> bool((permuted_copy(a, (2, 0, 1)) == a.transpose(2, 0, 1)).all())
        True
    """
    view = array.transpose(perm)
    last = array.ndim - 1
    if array.size >= PER_SLICE_FROM and array.ndim >= 2 and perm[0] == last:
        # Keras' (H, W, I, O) kernel to PyTorch's (O, I, H, W): a slice of a few input
        # channels reads H*W short rows of O (in cache) and writes O runs of at least
        # ROW_RUN elements. A 3x3 512 -> 512 kernel: 2.0 ms against 10.2 ms for one
        # strided copy; a 1x1 2048 -> 512 one: 0.9 ms against 3.7.
        out = np.empty(view.shape, array.dtype)
        step = max(1, ROW_RUN // max(1, math.prod(view.shape[2:])))
        for j in range(0, view.shape[1], step):
            out[:, j : j + step] = view[:, j : j + step]
        return out
    if (
        array.size <= BLOCKED_ABOVE
        or array.ndim < 2
        or perm[-1] == last
        or array.shape[last] < MIN_TILED_AXIS
    ):
        return np.ascontiguousarray(view)
    k = perm.index(last)
    length = array.shape[last]
    before, after = view.shape[:k], view.shape[k + 1 :]
    # the source in the output's axis order, except its last axis, which stays last
    rows = array.transpose((*perm[:k], *perm[k + 1 :], last))
    out = np.empty(view.shape, array.dtype)
    out3 = out.reshape(int(np.prod(before)), length, int(np.prod(after)))
    width = int(np.prod(after[1:]))  # output elements per index of after's first axis
    step = max(1, SLAB // (width * length))
    for p, index in enumerate(np.ndindex(*before)):
        src = rows[index]  # after + (length,)
        for s in range(0, after[0], step):
            slab = np.ascontiguousarray(src[s : s + step]).reshape(-1, length)
            _transpose_into(out3[p, :, s * width : s * width + slab.shape[0]], slab)
    return out


def _transpose_into(dst: np.ndarray, src: np.ndarray) -> None:
    """``dst[...] = src.T`` for 2-D arrays, in ``TILE`` x ``TILE`` tiles."""
    rows, cols = src.shape
    for i in range(0, rows, TILE):
        for j in range(0, cols, TILE):
            dst[j : j + TILE, i : i + TILE] = src[i : i + TILE, j : j + TILE].T


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
