"""Keras builders of the shuffle family: for ``channel_shuffle``, ``Reshape`` of the
channel axis into (groups, channels / groups), ``Permute`` of the two, ``Reshape`` back
(Keras has no channel shuffle layer); for ``channel_slice``, ``SliceChannels``
(``x[..., start:stop]``; Keras has no slicing layer).

Example:
    >>> from compare.formulas import infer
    >>> from compare.spec import Input, Model
    >>> from compare.kinds.shuffle.spec import ChannelShuffle
    >>> m = Model("m", Input(4, (3, 3)), (ChannelShuffle(groups=2),))
    >>> [type(p).__name__ for p in build_shuffle(m.layers[0], infer(m)[0], "s", "float32")[0]]
    ['Reshape', 'Permute', 'Reshape']
"""

from __future__ import annotations

from typing import Any

from compare.adapters._keras_import import keras
from compare.adapters.base import Made
from compare.core.registry import register_part
from compare.formulas import LayerFormula
from compare.kinds.shuffle.spec import ChannelShuffle, ChannelSlice

__all__ = ["SliceChannels", "build_shuffle", "build_slice"]


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


@keras.saving.register_keras_serializable(package="compare")
class SliceChannels(keras.layers.Layer):
    """``x[..., start:stop]``: some channels of a channels-last tensor.

    Example:
        >>> import numpy as np
        >>> np.asarray(SliceChannels(1, 3)(np.arange(4.0).reshape(1, 4))).tolist()
        [[1.0, 2.0]]
    """

    def __init__(self, start: int, stop: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.start, self.stop = int(start), int(stop)

    def call(self, x: Any) -> Any:
        return x[..., self.start : self.stop]

    def compute_output_shape(self, input_shape: Any) -> Any:
        return (*input_shape[:-1], self.stop - self.start)

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = super().get_config()
        config.update(start=self.start, stop=self.stop)
        return config


@register_part("keras", "build", "channel_slice")
def build_slice(layer: ChannelSlice, formula: LayerFormula, name: str, dtype: str) -> Made:
    """``SliceChannels(start, stop)`` on the last (channel) axis.

    Example:
        >>> build_slice(ChannelSlice(start=2, stop=5), None, "s", "float32")[0][0].stop
        5
    """
    note = "Keras has no slicing layer: SliceChannels slices the last (channel) axis"
    return (
        [SliceChannels(layer.start, layer.stop, name=name, dtype=dtype)],
        {},
        (("realisation", note),),
    )
