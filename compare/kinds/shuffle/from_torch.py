"""What the torch importer maps to the shuffle family: one item of ``x.chunk(2, dim=1)``
(``torch.chunk``, ``torch.split``, ``tensor_split`` on the channels: ShuffleNetV2's
split) as a ``channel_slice``, whose channels are read back by running the call itself
on a tensor of channel numbers; ``nn.ChannelShuffle``, ``F.channel_shuffle`` and the
shuffle written out, as torchvision's ShuffleNetV2 does
(``torchvision.models.shufflenetv2.channel_shuffle``)::

    x = x.view(batch, groups, channels // groups, height, width)
    x = torch.transpose(x, 1, 2).contiguous()
    x = x.view(batch, channels, height, width)

The first reshape, the transpose and ``contiguous`` compute nothing of their own there:
the reshape back into the channels reads as the shuffle. Each step checks its own
shapes; a step of another shape, or whose value is read by anything else, is refused
with the reason.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import torch
from torch import fx, nn
from torch.nn import functional as F

from compare.core.registry import register_part
from compare.importers.base import Piece, Refuse
from compare.importers.torch import arg
from compare.kinds.shuffle.spec import ChannelShuffle, ChannelSlice
from compare.kinds.shuffle.torch import SliceChannels

__all__ = ["shuffle_steps"]

_RESHAPES = (torch.reshape, "view", "reshape")
_TRANSPOSES = (torch.transpose, "transpose", torch.swapaxes, "swapaxes", torch.swapdims)


@register_part("torch", "module", nn.ChannelShuffle)
def _shuffle(module: Any, piece: Piece) -> Piece:
    return replace(piece, layer=ChannelShuffle(groups=int(module.groups)))


@register_part("torch", "function", F.channel_shuffle)
def _fn_shuffle(node: Any, piece: Piece) -> Piece:
    return replace(piece, layer=ChannelShuffle(groups=int(arg(node, 0, "groups", 1))))


def _is(node: Any, targets: tuple[Any, ...]) -> bool:
    return (
        isinstance(node, fx.Node)
        and node.op in ("call_function", "call_method")
        and any(node.target is t or node.target == t for t in targets)
    )


def _only_user(node: fx.Node) -> fx.Node | None:
    users = list(node.users)
    return users[0] if len(users) == 1 else None


def _swaps_1_2(node: fx.Node) -> bool:
    dims = [d for d in node.args[1:3]]
    dims += [node.kwargs[k] for k in ("dim0", "dim1", "axis0", "axis1") if k in node.kwargs]
    return sorted(int(d) for d in dims if isinstance(d, int)) == [1, 2]


def shuffle_steps(node: fx.Node) -> tuple[fx.Node, ...] | None:
    """The steps of the written-out shuffle (reshape, transpose(1, 2), optionally
    ``contiguous``, reshape), given any one of them, each the only reader of the one
    before; else None.

    Example:
        >>> class Net(nn.Module):
        ...     def forward(self, x):
        ...         y = torch.transpose(x.view(2, 2, 3, 4, 4), 1, 2).contiguous()
        ...         return y.view(2, 6, 4, 4)
        >>> graph = fx.symbolic_trace(Net()).graph
        >>> [n.name for n in shuffle_steps(list(graph.nodes)[1])]
        ['view', 'transpose', 'contiguous', 'view_1']
    """
    start = node
    for _ in range(3):  # back to the first reshape
        if _is(start, _RESHAPES) and _is(_only_user(start), _TRANSPOSES):
            break
        before = start.args[0] if start.args else None
        if not isinstance(before, fx.Node):
            return None
        start = before
    steps = [start]
    transpose = _only_user(start)
    if not (_is(start, _RESHAPES) and _is(transpose, _TRANSPOSES)):
        return None
    assert transpose is not None
    if not _swaps_1_2(transpose):
        return None
    steps.append(transpose)
    after = _only_user(transpose)
    if _is(after, ("contiguous",)):
        assert after is not None
        steps.append(after)
        after = _only_user(after)
    if not _is(after, _RESHAPES):
        return None
    assert after is not None
    steps.append(after)
    return tuple(steps) if node in steps else None


@register_part("torch", "reshape_op", "channel_shuffle")
def _written_reshape(node: fx.Node, piece: Piece) -> Piece | None:
    """A reshape of the written-out shuffle: into (groups, channels / groups) before the
    transpose, or back into the channels after it."""
    steps = shuffle_steps(node)
    if steps is None:
        return None
    inp, out = piece.in_shape, piece.out_shape
    if node is steps[0]:
        ok = out.size[1:] == inp.size and out.channels * out.size[0] == inp.channels
    else:
        ok = inp.size[1:] == out.size and inp.channels * inp.size[0] == out.channels
    if not ok:
        raise Refuse(
            f"reshapes {inp.torch()[1:]} to {out.torch()[1:]} beside a transpose; a channel "
            "shuffle splits the channels into (groups, channels / groups) and joins them back"
        )
    if node is steps[0]:
        return replace(piece, layer=None)
    # the reshape back: (channels / groups, groups, ...) into the channels it shuffled
    return replace(piece, layer=ChannelShuffle(groups=inp.size[0]), in_shape=out)


@register_part("torch", "function", *_TRANSPOSES)
def _written_transpose(node: fx.Node, piece: Piece) -> Piece:
    """The transpose of the written-out shuffle: part of it (the reshape after it reads
    as the shuffle)."""
    if shuffle_steps(node) is None:
        raise Refuse(
            "a transpose is read only inside a channel shuffle written out (a reshape "
            "into (groups, channels / groups), transpose(1, 2), a reshape back)"
        )
    return replace(piece, layer=None)


@register_part("torch", "function", "contiguous")
def _contiguous(node: fx.Node, piece: Piece) -> Piece:
    """``contiguous()`` changes the memory layout only: it computes nothing."""
    return replace(piece, layer=None)


@register_part("torch", "module", SliceChannels)
def _slice_module(module: Any, piece: Piece) -> Piece:
    """compare's own ``x[:, start:stop]``."""
    return replace(piece, layer=ChannelSlice(start=module.start, stop=module.stop))


_SPLITS = (torch.chunk, "chunk", torch.split, "split", torch.tensor_split, "tensor_split")


@register_part("torch", "function", *_SPLITS)
def _split_item(node: fx.Node, piece: Piece) -> Piece:
    """Item ``i`` of a split of the channels: the call is run on a tensor holding each
    position's channel number, and the item must hold consecutive channels whole."""
    split, index = node.args[0], node.args[1]
    assert isinstance(split, fx.Node) and isinstance(index, int)
    args, kwargs = split.args[1:], dict(split.kwargs)
    if any(isinstance(a, fx.Node) for a in (*args, *kwargs.values())):
        raise Refuse("a split whose sizes are computed in the forward; read are given sizes")
    inp = piece.in_shape
    numbers = torch.arange(inp.channels, dtype=torch.float64)
    numbers = numbers.reshape(1, -1, *(1,) * inp.rank).expand(1, inp.channels, *inp.size)
    try:
        if split.op == "call_method":
            parts = getattr(numbers, str(split.target))(*args, **kwargs)
        else:
            target: Any = split.target
            parts = target(numbers, *args, **kwargs)
        item = parts[index]
    except (IndexError, RuntimeError, TypeError) as exc:
        raise Refuse(f"item {index} of {split.target}{tuple(args)}: {exc}") from exc
    channels = item[0].reshape(item.shape[1], -1)
    first = int(channels[0, 0]) if channels.numel() else 0
    want = torch.arange(first, first + item.shape[1], dtype=torch.float64)
    if (
        tuple(item.shape[2:]) != inp.size
        or not bool((channels == channels[:, :1]).all())
        or not torch.equal(channels[:, 0], want)
    ):
        raise Refuse(
            f"item {index} of {split.target}{tuple(args)} does not hold whole channels of "
            f"the {inp.torch()[1:]} input; read is a split of the channels (dim=1)"
        )
    return replace(piece, layer=ChannelSlice(start=first, stop=first + int(item.shape[1])))
