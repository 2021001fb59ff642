"""How the importers fold structural pieces and neighbours into the pool kinds.

Framework-free, registered for ``compare.importers.base.assemble``:

* explicit padding before a pool joins it: ``-inf`` padding before a max pool (what
  the spec's max pool pads with; more of it after the end than before, where only a
  last window starts inside, is PyTorch's ``ceil_mode``), zero padding before an
  average pool whose own padding is zero (the padded zeros then count in the divisor:
  ``count_include_pad=True``). Zero padding before a max pool is a max pool with
  ``pad_zeros`` (a padded zero can win: Keras' ``ZeroPadding2D`` before
  ``MaxPooling2D`` in ResNet50V2's stem), the pool's own -inf padding where the value
  it reads is non-negative (after a ReLU);
* a global pool that keeps its size-1 axes, followed by a flatten, is the global pool
  without ``keepdims``;
* an average pool without padding reads with ``count_include_pad=False`` (there is
  nothing to count; PyTorch's default says True, Keras has no such option).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from compare.core.registry import register_part
from compare.core.shapes import pool_output_size
from compare.errors import SpecError
from compare.formulas import Shape, layer_formula, same_pads
from compare.importers.base import Absorb, Fold, Pads, Part, Refuse, fold_pairs
from compare.kinds.flatten.spec import Flatten
from compare.kinds.pool.spec import AvgPool, GlobalAvgPool, GlobalMaxPool, MaxPool
from compare.spec import Layer

__all__ = [
    "NON_NEGATIVE",
    "POOL_PADS",
    "canonical_pool",
    "canonical_pools",
    "fold_pool_pad",
    "global_flatten",
    "zero_pad_after_non_negative",
]

#: pool class -> the explicit padding value that folds into it
POOL_PADS: dict[type, float] = {MaxPool: float("-inf"), AvgPool: 0.0}


def canonical_pool(layer: Layer, shape: Shape) -> Layer:
    """An average pool that pads nothing reads with ``count_include_pad=False``; a pool
    whose ``ceil_mode`` adds no window reads with ``ceil_mode=False``.

    Example:
        >>> canonical_pool(AvgPool(pool_size=2, count_include_pad=True), Shape(1, (4,)))
        AvgPool(pool_size=2, strides=2, padding='valid', ceil_mode=False, count_include_pad=False)
    """
    if isinstance(layer, MaxPool | AvgPool) and layer.ceil_mode:
        resolved: Any = layer.resolved(shape.rank)
        own = layer_formula(resolved, shape).pads or ()
        if all(
            pool_output_size(n, k, s, pad, True) == pool_output_size(n, k, s, pad, False)
            for n, k, s, pad in zip(shape.size, resolved.pool_size, resolved.strides, own)
        ):
            layer = dataclasses.replace(layer, ceil_mode=False)  # no window hangs over
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
    zeros = isinstance(layer, MaxPool) and value == 0.0
    if value != want and not zeros:
        raise Refuse(
            f"padding with {value} before a {layer.kind}; the spec's {layer.kind} pads with {want}"
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
        return layer
    if zeros:
        extra: dict[str, Any] = {"pad_zeros": True}
    elif isinstance(layer, AvgPool):
        extra = {"count_include_pad": True}
    else:
        extra = {}
    if all(a == b for a, b in pad):
        padding = tuple(a for a, _ in pad)
    elif pad == same:
        padding = "same"
    elif not zeros and isinstance(layer, MaxPool) and _is_ceil(resolved, shape, pad):
        # -inf after the end that only lets a last window start inside: ceil_mode
        before = tuple(a for a, _ in pad)
        return dataclasses.replace(
            layer, padding=before if any(before) else "valid", ceil_mode=True
        )
    else:
        raise Refuse(
            f"pads {pad} (before, after per spatial axis) are asymmetric and not "
            f"TensorFlow's 'same' split {same}; the spec pads symmetrically or as 'same'"
        )
    return dataclasses.replace(layer, padding=padding, **extra)


def _is_ceil(pool: Any, shape: Shape, pad: Pads) -> bool:
    """Whether -inf padding ``pad`` before a 'valid' pool is PyTorch's ``padding`` of the
    before sides with ``ceil_mode=True`` (the same windows, the last hanging over)."""
    if pool.ceil_mode:
        return False
    for n, k, s, (a, b) in zip(shape.size, pool.pool_size, pool.strides, pad):
        if b < a or 2 * a > k:
            return False
        if pool_output_size(n, k, s, (a, a), True) != pool_output_size(n, k, s, (a, b), False):
            return False
    return True


#: activations whose output is never negative: a zero pad before a max pool after
#: them cannot win a window, so it is the pool's own (-inf) padding
NON_NEGATIVE = frozenset({"relu", "relu6", "sigmoid", "softmax", "softplus"})


def zero_pad_after_non_negative(parts: list[Part], source: str) -> list[Part]:
    """A zero-padded max pool that reads a non-negative value (a ReLU's, a conv's with
    a ReLU) as the spec's max pool with -inf padding: a padded zero can then win only
    where a real element holds 0 as well, so the two compute the same.

    Example:
        >>> zero_pad_after_non_negative([], "keras")
        []
    """
    by_id = {one.id: one for one in parts}
    for one in parts:
        layer = one.layer
        if not (isinstance(layer, MaxPool) and layer.pad_zeros) or len(one.inputs) != 1:
            continue
        source_part = by_id.get(one.inputs[0])
        if source_part is None:
            continue
        if getattr(source_part.layer, "activation", None) in NON_NEGATIVE:
            one.layer = dataclasses.replace(layer, pad_zeros=False)
    return parts


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
register_part("any", "fold", "max_pool_zero_pad")(Fold(90, zero_pad_after_non_negative))
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
