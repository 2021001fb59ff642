"""Shapes and parameter counts of the normalisation, pooling, dropout and activation kinds.

Framework-free, like ``compare.formulas``. A batch norm's running statistics are
``LayerFormula.state``, not ``params``: PyTorch keeps them as buffers, Keras as
non-trainable weights, and the reports reconcile both against these numbers.
"""

from __future__ import annotations

from collections.abc import Callable

from compare.errors import SpecError
from compare.formulas import LayerFormula, Pads, Shape, conv_output_size, same_pads
from compare.spec import Layer, ceil_div, prod
from compare.spec_layers import (
    Activation,
    AvgPool,
    BatchNorm,
    Dropout,
    GlobalAvgPool,
    GlobalMaxPool,
    GroupNorm,
    LayerNorm,
    MaxPool,
    _Pool,
)

__all__ = ["LAYER_RULES", "pool_output_size"]


def _affine(layer: BatchNorm | LayerNorm | GroupNorm, n: int) -> tuple[int, list[str]]:
    names = [name for name, on in (("gamma", layer.scale), ("beta", layer.center)) if on]
    return n * len(names), names


def _norm_text(n: int, names: list[str], params: int) -> str:
    if not names:
        return "0 (no gamma, no beta)"
    return f"{n}*{len(names)} ({', '.join(names)}) = {params}"


def _batch_norm(layer: BatchNorm, shape: Shape) -> LayerFormula:
    c = shape.channels
    params, names = _affine(layer, c)
    text = _norm_text(c, names, params) + f"; running mean, variance {c}*2 = {2 * c}"
    return LayerFormula(params, text, shape, shape, state=2 * c)


def _layer_norm(layer: LayerNorm, shape: Shape) -> LayerFormula:
    n = shape.channels if layer.axes == "channels" else shape.channels * prod(shape.size)
    params, names = _affine(layer, n)
    return LayerFormula(params, _norm_text(n, names, params), shape, shape)


def _group_norm(layer: GroupNorm, shape: Shape) -> LayerFormula:
    if shape.channels % layer.groups:
        raise SpecError(f"groups={layer.groups} must divide channels={shape.channels}")
    if shape.flattened_from is not None and 1 < layer.groups < shape.channels:
        # Each framework groups consecutive features of its own flatten order: different sets.
        raise SpecError(
            f"groups={layer.groups} on the {shape.channels} features of a flatten would group "
            "C,H,W-ordered features in PyTorch and H,W,C-ordered ones in Keras (different "
            "features per group); use groups=1, groups=channels, or normalise before the flatten"
        )
    params, names = _affine(layer, shape.channels)
    return LayerFormula(params, _norm_text(shape.channels, names, params), shape, shape)


def pool_output_size(size: int, pool: int, stride: int, pads: tuple[int, int], ceil: bool) -> int:
    """Output length of pooling on one axis (``ceil``: PyTorch's ``ceil_mode``, where the
    last window must start inside the input or its left padding).

    Example:
        >>> pool_output_size(5, 2, 2, (0, 0), False), pool_output_size(5, 2, 2, (0, 0), True)
        (2, 3)
    """
    if not ceil:
        return conv_output_size(size, pool, stride, 1, pads)
    out = ceil_div(size + pads[0] + pads[1] - pool, stride) + 1
    if (out - 1) * stride >= size + pads[0]:
        out -= 1
    return out


def _pool(layer: _Pool, shape: Shape) -> LayerFormula:
    if shape.rank == 0:
        raise SpecError(
            f"kind='{layer.kind}' needs spatial axes, but its input is a flat vector of "
            f"{shape.channels} features"
        )
    assert isinstance(layer.pool_size, tuple) and isinstance(layer.strides, tuple)
    pads: Pads
    if layer.padding == "valid":
        pads = tuple((0, 0) for _ in shape.size)
    elif layer.padding == "same":
        pads = tuple(
            same_pads(n, k, s, 1) for n, k, s in zip(shape.size, layer.pool_size, layer.strides)
        )
    else:
        assert isinstance(layer.padding, tuple)
        pads = tuple((p, p) for p in layer.padding)
        for axis, (p, k) in enumerate(zip(layer.padding, layer.pool_size)):
            if 2 * p > k:
                raise SpecError(
                    f"padding={p} on spatial axis {axis} must be at most half of "
                    f"pool_size={k} (a window would hold padding only)"
                )
    size = []
    for axis, (n, k, s, pad) in enumerate(zip(shape.size, layer.pool_size, layer.strides, pads)):
        if k > n + pad[0] + pad[1]:
            raise SpecError(
                f"pool_size={k} on spatial axis {axis} is larger than the padded input "
                f"{n + pad[0] + pad[1]}"
            )
        size.append(pool_output_size(n, k, s, pad, layer.ceil_mode))
    return LayerFormula(0, "0", shape, Shape(shape.channels, tuple(size)), pads)


def _global_pool(layer: GlobalAvgPool | GlobalMaxPool, shape: Shape) -> LayerFormula:
    if shape.rank == 0:
        raise SpecError(
            f"kind='{layer.kind}' needs spatial axes, but its input is a flat vector of "
            f"{shape.channels} features"
        )
    out = Shape(shape.channels, (1,) * shape.rank) if layer.keepdims else Shape(shape.channels)
    return LayerFormula(0, "0", shape, out)


def _identity_shape(layer: Dropout | Activation, shape: Shape) -> LayerFormula:
    return LayerFormula(0, "0", shape, shape)


LAYER_RULES: dict[type[Layer], Callable[..., LayerFormula]] = {
    BatchNorm: _batch_norm,
    LayerNorm: _layer_norm,
    GroupNorm: _group_norm,
    MaxPool: _pool,
    AvgPool: _pool,
    GlobalAvgPool: _global_pool,
    GlobalMaxPool: _global_pool,
    Dropout: _identity_shape,
    Activation: _identity_shape,
}
