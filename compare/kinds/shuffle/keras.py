"""Keras builder of the ``channel_shuffle`` kind: ``Reshape`` of the channel axis into
(groups, channels / groups), ``Permute`` of the two, ``Reshape`` back (Keras has no
channel shuffle layer).

Example:
    >>> from compare.formulas import infer
    >>> from compare.spec import Input, Model
    >>> from compare.kinds.shuffle.spec import ChannelShuffle
    >>> m = Model("m", Input(4, (3, 3)), (ChannelShuffle(groups=2),))
    >>> [type(p).__name__ for p in build_shuffle(m.layers[0], infer(m)[0], "s", "float32")[0]]
    ['Reshape', 'Permute', 'Reshape']
"""

from __future__ import annotations

from compare.adapters._keras_import import keras
from compare.adapters.base import Made
from compare.core.registry import register_part
from compare.formulas import LayerFormula
from compare.kinds.shuffle.spec import ChannelShuffle

__all__ = ["build_shuffle"]


@register_part("keras", "build", "channel_shuffle")
def build_shuffle(layer: ChannelShuffle, formula: LayerFormula, name: str, dtype: str) -> Made:
    """(…, C) -> (…, g, C/g) -> (…, C/g, g) -> (…, C), spatial axes untouched.

    Example:
        >>> from compare.formulas import infer
        >>> from compare.spec import Input, Model
        >>> m = Model("m", Input(6, (2,)), (ChannelShuffle(groups=2),))
        >>> build_shuffle(m.layers[0], infer(m)[0], "s", "float32")[0][1].dims
        (1, 3, 2)
    """
    size = formula.input.size
    c, g = formula.input.channels, layer.groups
    rank = len(size)
    split = keras.layers.Reshape((*size, g, c // g), name=f"{name}_split", dtype=dtype)
    swap = keras.layers.Permute(
        (*range(1, rank + 1), rank + 2, rank + 1), name=f"{name}_swap", dtype=dtype
    )
    join = keras.layers.Reshape((*size, c), name=name, dtype=dtype)
    note = (
        "Keras has no channel shuffle: Reshape of the channel axis into "
        f"({g}, {c // g}), Permute of the two, Reshape back"
    )
    return [split, swap, join], {}, (("realisation", note),)
