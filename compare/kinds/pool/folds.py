"""How the importers fold structural pieces and neighbours into the pool kinds.

Framework-free, registered for ``compare.importers.base.assemble``:

* explicit padding before a pool joins it: ``-inf`` padding before a max pool (what
  the spec's max pool pads with), zero padding before an average pool whose own
  padding is zero (the padded zeros then count in the divisor:
  ``count_include_pad=True``). Zero padding before a max pool is not the spec's max
  pool (a padded zero can win) and is named;
* a global pool that keeps its size-1 axes, followed by a flatten, is the global pool
  without ``keepdims``;
* an average pool without padding reads with ``count_include_pad=False`` (there is
  nothing to count; PyTorch's default says True, Keras has no such option).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from compare.core.registry import register_part
from compare.errors import SpecError
from compare.formulas import Shape, layer_formula, same_pads
from compare.importers.base import Absorb, Fold, Pads, Part, Refuse, fold_pairs
from compare.kinds.flatten.spec import Flatten
from compare.kinds.pool.spec import AvgPool, GlobalAvgPool, GlobalMaxPool, MaxPool
from compare.spec import Layer

__all__ = ["POOL_PADS", "canonical_pool", "canonical_pools", "fold_pool_pad", "global_flatten"]

#: pool class -> the explicit padding value that folds into it
POOL_PADS: dict[type, float] = {MaxPool: float("-inf"), AvgPool: 0.0}


def canonical_pool(layer: Layer, shape: Shape) -> Layer:
    """An average pool that pads nothing reads with ``count_include_pad=False``.

    Example:
        >>> canonical_pool(AvgPool(pool_size=2, count_include_pad=True), Shape(1, (4,)))
        AvgPool(pool_size=2, strides=2, padding='valid', ceil_mode=False, count_include_pad=False)
    """
    if not isinstance(layer, AvgPool) or not layer.count_include_pad:
        return layer
    pads = layer_formula(layer.resolved(shape.rank), shape).pads
    if pads is not None and not any(a or b for a, b in pads):
        return dataclasses.replace(layer, count_include_pad=False)
    return layer


def fold_pool_pad(layer: Any, pad: Pads, values: tuple[float, ...], shape: Shape) -> Layer:
    """The pool ``layer`` on ``shape`` after explicit padding ``pad`` (made of paddings
    with ``values``); ``Refuse`` with the reason when the spec cannot say it.

    Example:
        >>> fold_pool_pad(MaxPool(pool_size=3, strides=2), ((0, 1),), (float("-inf"),),
        ...               Shape(1, (4,))).padding
        'same'
    """
    if len(set(values)) > 1:
        raise Refuse("consecutive paddings pad with different values")
    value = values[0]
    want = POOL_PADS[type(layer)]
    if value != want:
        why = " (a padded zero could win)" if isinstance(layer, MaxPool) else ""
        raise Refuse(
            f"padding with {value} before a {layer.kind}; the spec's {layer.kind} "
            f"pads with {want}{why}"
        )
    if len(pad) != shape.rank:
        raise Refuse(f"pads {pad} do not have one (before, after) pair per spatial axis")
    try:
        resolved: Any = layer.resolved(shape.rank)
        padded = Shape(shape.channels, tuple(n + a + b for n, (a, b) in zip(shape.size, pad)))
        own = layer_formula(resolved, padded).pads
    except SpecError as exc:
        raise Refuse(str(exc)) from exc
    if own is None or any(a or b for a, b in own):
        raise Refuse("explicit padding before a pool that pads itself as well")
    same = tuple(
        same_pads(n, k, s, 1) for n, k, s in zip(shape.size, resolved.pool_size, resolved.strides)
    )
    padding: Any
    if not any(a or b for a, b in pad):
        padding = "valid"
    elif all(a == b for a, b in pad):
        padding = tuple(a for a, _ in pad)
    elif pad == same:
        padding = "same"
    else:
        raise Refuse(
            f"pads {pad} (before, after per spatial axis) are asymmetric and not "
            f"TensorFlow's 'same' split {same}; the spec pads symmetrically or as 'same'"
        )
    extra = {"count_include_pad": True} if isinstance(layer, AvgPool) and padding != "valid" else {}
    return dataclasses.replace(layer, padding=padding, **extra)


def canonical_pools(parts: list[Part], source: str) -> list[Part]:
    """``canonical_pool`` on every part.

    Example:
        >>> canonical_pools([], "torch")
        []
    """
    for one in parts:
        one.layer = canonical_pool(one.layer, one.in_shape)
    return parts


def global_flatten(parts: list[Part], source: str) -> list[Part]:
    """A global pool with ``keepdims`` and the flatten after it, as the global pool
    without ``keepdims``.

    Example:
        >>> global_flatten([], "keras")
        []
    """

    def join(prev: Part, one: Part) -> Part | None:
        layer = prev.layer
        if not (
            isinstance(layer, GlobalAvgPool | GlobalMaxPool)
            and layer.keepdims
            and isinstance(one.layer, Flatten)
        ):
            return None
        merged = dataclasses.replace(layer, keepdims=False)
        return Part(merged, prev.roles, prev.pieces + one.pieces, prev.in_shape, one.out_shape)

    return fold_pairs(parts, join)


register_part("any", "pad", "max_pool", "avg_pool")(Absorb("pool", fold_pool_pad))
register_part("any", "fold", "avg_pool")(Fold(30, canonical_pools))
register_part("any", "fold", "global_pool_flatten")(Fold(30, global_flatten))


def fold_expand(layer: Any, axes: int, shape: Shape) -> Layer:
    """A global pool without ``keepdims`` and Keras' ``Reshape((1, 1, C))`` after it (the
    squeeze of a squeeze-excitation block), as the global pool with ``keepdims``.

    Example:
        >>> from compare.kinds.pool.spec import GlobalAvgPool
        >>> fold_expand(GlobalAvgPool(), 2, Shape(8, (5, 5))).keepdims
        True
    """
    if getattr(layer, "keepdims", True) or axes != shape.rank:
        raise Refuse(
            f"it gives the pooled vector {axes} size-1 axes, but the pool's input has "
            f"{shape.rank} spatial axes"
        )
    return dataclasses.replace(layer, keepdims=True)


register_part("any", "expand", "global_avg_pool", "global_max_pool")(
    Absorb("global pool", fold_expand)
)
