"""Folding rules for the normalisation, pooling, dropout and activation kinds.

Framework-free, used by ``compare.importers.base.assemble`` for both frameworks:

* explicit padding before a pool joins it: ``-inf`` padding before a max pool (what
  the spec's max pool pads with), zero padding before an average pool whose own
  padding is zero (the padded zeros then count in the divisor:
  ``count_include_pad=True``). Zero padding before a max pool is not the spec's max
  pool (a padded zero can win) and is named;
* a global pool that keeps its size-1 axes, followed by a flatten, is the global pool
  without ``keepdims``;
* an activation directly after a conv or dense layer that carries none becomes that
  layer's ``activation`` field, when the field can say it (the field has no
  ``negative_slope`` / ``alpha``: only their defaults fold). The spec's two spellings,
  ``Conv(activation="relu")`` and ``Conv`` then ``Activation("relu")``, are one
  network; an import always gives the first, so a PyTorch ``Conv2d, ReLU`` and a Keras
  ``Conv2D(activation="relu")`` read as the same spec;
* an average pool without padding reads with ``count_include_pad=False`` (there is
  nothing to count; PyTorch's default says True, Keras has no such option).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from compare.errors import SpecError
from compare.formulas import Shape, layer_formula, same_pads
from compare.spec import Flatten, Layer
from compare.spec_layers import Activation, AvgPool, GlobalAvgPool, GlobalMaxPool, MaxPool

if TYPE_CHECKING:
    from compare.importers.base import Part

__all__ = ["POOLS", "canonical_pool", "fold_layers", "fold_pool_pad"]

Pads = tuple[tuple[int, int], ...]

#: pool class -> the explicit padding value that folds into it
POOLS: dict[type, float] = {MaxPool: float("-inf"), AvgPool: 0.0}


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


def fold_pool_pad(layer: Any, pad: Pads, value: float, shape: Shape) -> Layer:
    """The pool ``layer`` on ``shape`` after explicit padding ``pad`` with ``value``.

    Raises ``Refuse`` (from ``compare.importers.base``) with the reason when the spec
    cannot say it.

    Example:
        >>> fold_pool_pad(MaxPool(pool_size=3, strides=2), ((0, 1),), float("-inf"),
        ...               Shape(1, (4,))).padding
        'same'
    """
    from compare.importers.base import Refuse

    want = POOLS[type(layer)]
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


def _fusable(owner: Layer, act: Layer) -> bool:
    return (
        owner.post_activation
        and getattr(owner, "activation", None) == "linear"
        and isinstance(act, Activation)
        and act.activation != "linear"
        and act == Activation(activation=act.activation)
    )


def fold_layers(parts: list[Part]) -> list[Part]:
    """Global pool (keepdims) + flatten -> global pool; conv/dense + activation -> the
    layer's ``activation`` field (see the module docstring).

    Example:
        >>> fold_layers([])
        []
    """
    from compare.importers.base import Part

    out: list[Part] = []
    for part in parts:
        part.layer = canonical_pool(part.layer, part.in_shape)
        prev = out[-1] if out else None
        if prev is None:
            out.append(part)
            continue
        layer = prev.layer
        if (
            isinstance(layer, GlobalAvgPool | GlobalMaxPool)
            and layer.keepdims
            and isinstance(part.layer, Flatten)
        ):
            merged: Layer = dataclasses.replace(layer, keepdims=False)
        elif _fusable(layer, part.layer):
            assert isinstance(part.layer, Activation)
            merged = dataclasses.replace(layer, activation=part.layer.activation)  # type: ignore[call-arg]
        else:
            out.append(part)
            continue
        out[-1] = Part(merged, prev.roles, prev.pieces + part.pieces, prev.in_shape, part.out_shape)
    return out
