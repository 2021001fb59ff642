"""How the importers fold structural pieces and neighbours into the conv kinds.

Framework-free, registered for ``compare.importers.base.assemble``:

* explicit zero padding before a ``conv``, ``depthwise_conv`` or ``separable_conv``
  joins it: symmetric pads become integer padding, TensorFlow's asymmetric split
  becomes ``'same'``; any other asymmetric padding has no spec equivalent and is named;
* a crop after a ``conv_transpose`` joins it, by the same rule;
* a convolution whose ``groups`` equal its input channels (> 1) is a depthwise
  convolution (the same function: output channel ``c*M + m`` reads input channel ``c``),
  with the same activation;
  each framework's importer says how its kernel reads as the depthwise one
  (``(framework, "depthwise_roles", "depthwise_conv")``);
* a bias-free depthwise convolution without an activation, followed by a 1x1
  convolution (stride 1, no padding, no groups), is a separable convolution with the
  1x1 convolution's activation.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from compare.core.registry import part, register_part
from compare.errors import SpecError
from compare.formulas import Shape, layer_formula, same_pads
from compare.importers.base import Absorb, Fold, Pads, Part, Refuse, add_pads, fold_pairs
from compare.kinds.conv.spec import Conv, ConvTranspose, DepthwiseConv, SeparableConv
from compare.spec import Layer

__all__ = ["fold_crop", "fold_pad", "separable", "to_depthwise"]


def _tf_same(layer: Any, shape: Shape) -> Pads:
    resolved: Any = layer.resolved(shape.rank)
    return tuple(
        same_pads(n, k, s, d)
        for n, k, s, d in zip(shape.size, resolved.kernel_size, resolved.strides, resolved.dilation)
    )


def _express(pads: Pads, same: Pads) -> str | tuple[int, ...]:
    """Spec padding for explicit pads: 'valid', symmetric ints, or TF 'same'."""
    if all(a == 0 and b == 0 for a, b in pads):
        return "valid"
    if all(a == b for a, b in pads):
        return tuple(a for a, _ in pads)
    if pads == same:
        return "same"
    raise Refuse(
        f"pads {pads} (before, after per spatial axis) are asymmetric and not "
        f"TensorFlow's 'same' split {same}; the spec pads symmetrically or as 'same'"
    )


def fold_pad(layer: Any, pad: Pads, values: tuple[float, ...], shape: Shape) -> Layer:
    """The convolution ``layer`` on ``shape`` after explicit padding ``pad`` (made of
    paddings with ``values``); ``Refuse`` with the reason when the spec cannot say it.

    Example:
        >>> fold_pad(Conv(filters=2, kernel_size=3), ((1, 1), (1, 1)), (0.0,),
        ...          Shape(1, (8, 8))).padding
        (1, 1)
    """
    if any(v != 0 for v in values):
        raise Refuse(f"pads with {values[0]}; a convolution pads with zeros")
    if len(pad) != shape.rank:
        raise Refuse(f"pads {pad} do not have one (before, after) pair per spatial axis")
    padded = Shape(shape.channels, tuple(n + a + b for n, (a, b) in zip(shape.size, pad)))
    try:
        own = layer_formula(layer.resolved(shape.rank), padded).pads
    except SpecError as exc:
        raise Refuse(str(exc)) from exc
    assert own is not None
    total = add_pads(pad, own)
    return dataclasses.replace(layer, padding=_express(total, _tf_same(layer, shape)))


def fold_crop(layer: ConvTranspose, crop: Pads, shape: Shape) -> ConvTranspose:
    """The transposed convolution ``layer`` on ``shape`` followed by a crop ``crop``.

    Example:
        >>> fold_crop(ConvTranspose(filters=2, kernel_size=3), ((1, 1),), Shape(1, (4,))).padding
        (1,)
    """
    if len(crop) != shape.rank:
        raise Refuse(f"crop {crop} does not have one (start, end) pair per spatial axis")
    try:
        formula = layer_formula(layer.resolved(shape.rank), shape)
        same_layer = dataclasses.replace(layer, padding="same", output_padding=0)
        same = layer_formula(same_layer.resolved(shape.rank), shape)
    except SpecError as exc:
        raise Refuse(str(exc)) from exc
    assert formula.pads is not None and formula.extend is not None
    total = add_pads(crop, formula.pads)
    if all(a == b for a, b in total):
        padding: Any = tuple(a for a, _ in total)
        if not any(padding):
            padding = "valid"
        return dataclasses.replace(layer, padding=padding)
    if total == same.pads and formula.extend == same.extend:
        return dataclasses.replace(layer, padding="same", output_padding=0)
    raise Refuse(
        f"the crop {total} of the transposed output is asymmetric and not what "
        f"padding='same' crops here {same.pads}; the spec crops symmetrically or as 'same'"
    )


register_part("any", "pad", "conv", "depthwise_conv", "separable_conv")(
    Absorb("convolution", fold_pad)
)
register_part("any", "crop", "conv_transpose")(Absorb("transposed convolution", fold_crop))


def _ints(value: int | tuple[int, ...]) -> tuple[int, ...]:
    return (value,) if isinstance(value, int) else value


def _is_pointwise(layer: Layer) -> bool:
    if not isinstance(layer, Conv) or layer.groups != 1:
        return False
    ones = (layer.kernel_size, layer.strides, layer.dilation)
    flat = [v for value in ones for v in _ints(value)]
    padding = layer.padding
    no_pad = padding == "valid" or (not isinstance(padding, str) and not any(_ints(padding)))
    return all(v == 1 for v in flat) and no_pad


def to_depthwise(parts: list[Part], source: str) -> list[Part]:
    """Every conv whose ``groups`` equal its input channels (> 1), as a depthwise conv,
    its kernel read through ``source``'s ``depthwise_roles``.

    Example:
        >>> to_depthwise([], "torch")
        []
    """
    out: list[Part] = []
    for one in parts:
        layer, c = one.layer, one.in_shape.channels
        if isinstance(layer, Conv) and layer.groups == c > 1:
            m = layer.filters // c
            depthwise = DepthwiseConv(
                kernel_size=layer.kernel_size,
                strides=layer.strides,
                padding=layer.padding,
                dilation=layer.dilation,
                use_bias=layer.use_bias,
                activation=layer.activation,
                depth_multiplier=m,
            )
            roles = dict(one.roles)
            read = part(source, "depthwise_roles", "depthwise_conv")
            roles.update(read({"kernel": roles.pop("kernel")}, _ints(layer.kernel_size), c, m))
            one = Part(depthwise, roles, one.pieces, one.in_shape, one.out_shape)
        out.append(one)
    return out


def separable(parts: list[Part], source: str) -> list[Part]:
    """A bias-free depthwise conv and the 1x1 conv after it, as one separable conv.

    Example:
        >>> separable([], "keras")
        []
    """

    def join(prev: Part, one: Part) -> Part | None:
        if not (
            isinstance(prev.layer, DepthwiseConv)
            and not prev.layer.use_bias
            and prev.layer.activation == "linear"
            and _is_pointwise(one.layer)
        ):
            return None
        pointwise = one.layer
        assert isinstance(pointwise, Conv)
        d = prev.layer
        layer = SeparableConv(
            filters=pointwise.filters,
            kernel_size=d.kernel_size,
            strides=d.strides,
            padding=d.padding,
            dilation=d.dilation,
            use_bias=pointwise.use_bias,
            activation=pointwise.activation,
            depth_multiplier=d.depth_multiplier,
        )
        roles = {"depthwise_kernel": prev.roles["depthwise_kernel"]}
        roles["pointwise_kernel"] = one.roles["kernel"]
        if "bias" in one.roles:
            roles["bias"] = one.roles["bias"]
        return Part(layer, roles, prev.pieces + one.pieces, prev.in_shape, one.out_shape)

    return fold_pairs(parts, join)


register_part("any", "fold", "depthwise_conv")(Fold(10, to_depthwise))
register_part("any", "fold", "separable_conv")(Fold(20, separable))
