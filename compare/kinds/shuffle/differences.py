"""Named differences and the naive-port check of the channel shuffle kind: PyTorch's
``view(n, g, C // g, h, w).transpose(1, 2)`` ported literally onto channels-last data."""

from __future__ import annotations

from typing import Any

from compare.core.registry import ANY, register_part
from compare.differences import LayerFacts, measured
from compare.naive import measure_error
from compare.records import Difference

__all__ = ["literal_reshape", "shuffle_differences"]


def literal_reshape(ctx: Any) -> Any:
    """torchvision's channel shuffle (a reshape to (n, g, C/g, *size), a swap of axes 1
    and 2, a reshape back) applied as written to the channels-last tensor.

    Example:
        >>> from compare.naive import context_of
        >>> from compare.spec import Input, Model
        >>> from compare.kinds.shuffle.spec import ChannelShuffle
        >>> ctx = context_of(Model("m", Input(4, (3, 3)), (ChannelShuffle(groups=2),)))
        >>> err, detail = literal_reshape(ctx)
        >>> err > 0, detail
        (True, "view(n, 2, 2, 3, 3).transpose(1, 2) of PyTorch's code on channels-last data")
    """
    g = ctx.layer.groups
    x = ctx.x_keras
    n, size, c = x.shape[0], x.shape[1:-1], x.shape[-1]
    naive = x.reshape(n, g, c // g, *size).swapaxes(1, 2).reshape(x.shape)
    err, why = measure_error(ctx.y_keras, naive)
    dims = ", ".join(str(d) for d in (g, c // g, *size))
    return err, why or f"view(n, {dims}).transpose(1, 2) of PyTorch's code on channels-last data"


register_part(ANY, "naive_checks", "channel_shuffle")({"reshape_layout": literal_reshape})


@register_part(ANY, "differences", "channel_shuffle")
def shuffle_differences(facts: LayerFacts) -> list[Difference]:
    """The reshape's meaning depends on the layout it is written for.

    Example:
        >>> from compare.formulas import infer
        >>> from compare.records import FrameworkLayer
        >>> from compare.spec import Input, Model
        >>> from compare.kinds.shuffle.spec import ChannelShuffle
        >>> m = Model("m", Input(4, (3, 3)), (ChannelShuffle(groups=2),))
        >>> t, k = FrameworkLayer("torch", True), FrameworkLayer("keras", True)
        >>> [d.what for d in shuffle_differences(LayerFacts(m.layers[0], infer(m)[0], t, k, {}))]
        ['reshape_layout']
    """
    diff = Difference(
        "reshape_layout",
        "a reshape regroups memory order: on PyTorch's channels-first (N, C, *size) the "
        "shuffle's view(n, g, C/g, *size) splits the channels; on Keras' channels-last "
        "(N, *size, C) the same reshape splits the first spatial axis instead, so Keras "
        "reshapes the channel axis alone",
        torch="view(n, g, C/g, *size).transpose(1, 2)",
        keras="Reshape((*size, g, C/g)), Permute, Reshape",
    )
    return [measured(diff, facts.naive.get("reshape_layout"))]
