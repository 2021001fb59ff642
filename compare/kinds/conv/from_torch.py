"""What the torch importer maps to the conv kinds: ``nn.Conv*d``, ``nn.ConvTranspose*d``,
and the explicit padding and crops that fold into them (``compare.kinds.conv.folds``).

Padding modules and ``F.pad`` read as structural pieces: zero padding joins the
convolution after it, ``-inf`` padding the max pool after it. compare's own ``Crop``
(what the adapter puts after a transposed convolution) joins the one before it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from torch import fx, nn
from torch.nn import functional as F

from compare.adapters.torch_modules import Crop
from compare.core.registry import register_part
from compare.importers.base import Pads, Piece, Refuse
from compare.importers.torch import roles
from compare.kinds.conv.spec import Conv, ConvTranspose

__all__: list[str] = []


def _zeros_only(module: nn.Module) -> None:
    mode = getattr(module, "padding_mode", "zeros")
    if mode != "zeros":
        raise Refuse(f"padding_mode={mode!r}; the spec pads with zeros only")


@register_part("torch", "module", nn.Conv1d, nn.Conv2d, nn.Conv3d)
def _conv(module: Any, piece: Piece) -> Piece:
    _zeros_only(module)
    padding = module.padding
    if not isinstance(padding, str):
        padding = tuple(padding) if any(padding) else "valid"
    layer = Conv(
        filters=module.out_channels,
        kernel_size=tuple(module.kernel_size),
        strides=tuple(module.stride),
        padding=padding,
        dilation=tuple(module.dilation),
        groups=module.groups,
        use_bias=module.bias is not None,
    )
    return replace(piece, layer=layer, roles=roles(module, kernel="weight", bias="bias"))


@register_part("torch", "module", nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)
def _conv_transpose(module: Any, piece: Piece) -> Piece:
    _zeros_only(module)
    layer = ConvTranspose(
        filters=module.out_channels,
        kernel_size=tuple(module.kernel_size),
        strides=tuple(module.stride),
        padding=tuple(module.padding) if any(module.padding) else "valid",
        output_padding=tuple(module.output_padding),
        dilation=tuple(module.dilation),
        groups=module.groups,
        use_bias=module.bias is not None,
    )
    return replace(piece, layer=layer, roles=roles(module, kernel="weight", bias="bias"))


@register_part("torch", "depthwise_roles", "depthwise_conv")
def _depthwise_roles(
    found: dict[str, Any], kernel: tuple[int, ...], channels: int, multiplier: int
) -> dict[str, Any]:
    """A grouped conv's (C*M, 1, *k) weight is the depthwise kernel as it is."""
    return {"depthwise_kernel": found["kernel"]}


def _pairs(flat: tuple[int, ...]) -> Pads:
    """torch's (last before, last after, previous before, ...) -> per-axis (before, after)."""
    pairs = [(flat[i], flat[i + 1]) for i in range(0, len(flat), 2)]
    return tuple(reversed(pairs))


def _pad_piece(piece: Piece, flat: tuple[int, ...], value: float) -> Piece:
    if value not in (0, float("-inf")):
        raise Refuse(
            f"pads with value={value}; the spec pads with zeros (convolutions, average "
            "pools) or -inf (max pools) only"
        )
    if any(p < 0 for p in flat):
        raise Refuse(f"negative padding {flat} crops; the spec has no crop before a conv")
    pads = _pairs(tuple(flat))
    if len(pads) > piece.in_shape.rank:
        raise Refuse(f"pads {flat} reach the channel or batch axis; only spatial axes pad")
    # torch pads the last axes; leading spatial axes it leaves alone get (0, 0).
    pads = ((0, 0),) * (piece.in_shape.rank - len(pads)) + pads
    return replace(piece, pad=pads, pad_value=value)


@register_part(
    "torch",
    "module",
    nn.ZeroPad1d,
    nn.ZeroPad2d,
    nn.ZeroPad3d,
    nn.ConstantPad1d,
    nn.ConstantPad2d,
    nn.ConstantPad3d,
)
def _constant_pad(module: Any, piece: Piece) -> Piece:
    return _pad_piece(piece, tuple(module.padding), float(module.value))


@register_part("torch", "module", Crop)
def _crop(module: Any, piece: Piece) -> Piece:
    return replace(piece, crop=tuple(tuple(c) for c in module.crops))


@register_part("torch", "function", F.pad)
def _fn_pad(node: fx.Node, piece: Piece) -> Piece:
    args: list[Any] = list(node.args[1:])
    flat: Any = node.kwargs.get("pad", args[0] if args else None)
    mode = node.kwargs.get("mode", args[1] if len(args) > 1 else "constant")
    value: Any = node.kwargs.get("value", args[2] if len(args) > 2 else None)
    if mode != "constant":
        raise Refuse(f"mode={mode!r}; the spec pads with zeros only")
    return _pad_piece(piece, tuple(flat), float(value or 0))
