"""Keras builder of ``position_embedding``: ``PositionAdd``, a layer of ours holding the
(steps, features) table and adding it to a (N, steps, features) sequence (Keras itself
has none; keras_hub's ``PositionEmbedding`` returns the table instead of adding it).

Example:
    >>> import numpy as np
    >>> layer = PositionAdd()
    >>> tuple(layer(np.zeros((2, 3, 4), "float32")).shape), tuple(layer.embeddings.shape)
    ((2, 3, 4), (3, 4))
"""

from __future__ import annotations

from typing import Any

from compare.adapters._keras_import import keras
from compare.adapters.base import Made, Notes
from compare.core.registry import register_part
from compare.formulas import LayerFormula
from compare.kinds.position.spec import PositionEmbedding

__all__ = ["PositionAdd", "build_position"]


@keras.saving.register_keras_serializable(package="compare")
class PositionAdd(keras.layers.Layer):
    """``x + embeddings``: a learned (steps, features) table added to (N, steps, features).

    Example:
        >>> import numpy as np
        >>> layer = PositionAdd()
        >>> y = layer(np.zeros((1, 2, 3), "float32"))
        >>> bool(np.allclose(np.asarray(y)[0], np.asarray(layer.embeddings)))
        True
    """

    def build(self, input_shape: Any) -> None:
        self.embeddings = self.add_weight(
            name="embeddings",
            shape=(int(input_shape[1]), int(input_shape[2])),
            initializer=keras.initializers.RandomNormal(stddev=0.02),
        )

    def call(self, x: Any) -> Any:
        return x + self.embeddings

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape


@register_part("keras", "build", "position_embedding")
def build_position(layer: PositionEmbedding, formula: LayerFormula, name: str, dtype: str) -> Made:
    """``PositionAdd()``, its ``embeddings`` the role of the same name.

    Example:
        >>> from compare.formulas import infer
        >>> from compare.spec import Input, Model
        >>> m = Model("m", Input(4, (3,)), (PositionEmbedding(),))
        >>> build_position(m.layers[0], infer(m)[0], "p", "float32")[1]["embeddings"][1]
        'embeddings'
    """
    module = PositionAdd(name=name, dtype=dtype)
    steps, features = formula.input.size[0], formula.input.channels
    notes: Notes = (
        (
            "layer",
            "Keras has no layer that adds a learned position table; PositionAdd holds it "
            f"as ({steps}, {features}) and adds it to (N, {steps}, {features})",
        ),
    )
    return [module], {"embeddings": (module, "embeddings", None)}, notes
