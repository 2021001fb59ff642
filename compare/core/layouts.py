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


#: Arrays of more elements than this are permuted tile by tile (``permuted_copy``).
BLOCKED_ABOVE = 1 << 22


def permuted_copy(array: np.ndarray, perm: tuple[int, ...]) -> np.ndarray:
    """``array.transpose(perm)`` as a new C-contiguous array.

    A large array is copied in tiles: the destination axis that is contiguous in the
    source in blocks of 16 and the first other axis longer than 64 in blocks of 64,
    so that each tile's reads and writes stay in cache. For VGG16's first dense
    kernel moved from Keras' (H, W, C, O) to PyTorch's (O, C, H, W) (102,760,448
    weights) four alternating runs on a shared 2-core machine took 0.99-1.02 s, against
    0.94-1.43 s for one ``ascontiguousarray`` of the transposed view: no slower, and
    steadier. The values are the same.

    Example:
        >>> a = np.arange(24).reshape(2, 3, 4)
        >>> bool((permuted_copy(a, (2, 0, 1)) == a.transpose(2, 0, 1)).all())
        True
    """
    view = array.transpose(perm)
    if array.size <= BLOCKED_ABOVE or array.ndim < 2:
        return np.ascontiguousarray(view)
    first = perm.index(array.ndim - 1)  # contiguous in the source
    second = next((k for k, n in enumerate(view.shape) if k != first and n > 64), None)
    out = np.empty(view.shape, array.dtype)
    whole = slice(None)
    for i in range(0, view.shape[first], 16):
        for j in range(0, view.shape[second], 64) if second is not None else (0,):
            tile = [whole] * view.ndim
            tile[first] = slice(i, i + 16)
            if second is not None:
                tile[second] = slice(j, j + 64)
            out[tuple(tile)] = view[tuple(tile)]
    return out


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
