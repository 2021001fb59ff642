"""Keras builder of the ``embedding`` kind: ``Embedding``, whose (N, steps, features)
output is already channels-last.

Example:
    >>> from compare.formulas import infer
    >>> from compare.spec import Embedding, Input, Model
    >>> m = Model("m", Input(1, (5,), dtype="int"), (Embedding(input_dim=10, output_dim=3),))
    >>> build_embedding(m.layers[0], infer(m)[0], "e", "float32")[0][0].output_dim
    3
"""

from __future__ import annotations

from compare.adapters._keras_import import keras
from compare.adapters.base import Made, Notes
from compare.adapters.keras_defaults import initializer_name
from compare.core.registry import register_part
from compare.formulas import LayerFormula
from compare.kinds.embedding.spec import Embedding

__all__ = ["build_embedding"]


@register_part("keras", "build", "embedding")
def build_embedding(layer: Embedding, formula: LayerFormula, name: str, dtype: str) -> Made:
    """``Embedding(input_dim, output_dim)``, its configuration as notes.

    Example:
        >>> from compare.formulas import infer
        >>> from compare.spec import Input, Model
        >>> m = Model("m", Input(1, (5,), dtype="int"), (Embedding(input_dim=10, output_dim=3),))
        >>> build_embedding(m.layers[0], infer(m)[0], "e", "float32")[2][-1][0]
        'masking'
    """
    emb = keras.layers.Embedding(layer.input_dim, layer.output_dim, name=name, dtype=dtype)
    cfg = emb.get_config()
    notes: Notes = (
        (
            "sequence_layout",
            f"Embedding returns the channels-last (N, {formula.input.size[0]}, "
            f"{layer.output_dim}) as it is",
        ),
        (
            "initializers",
            f"embeddings_initializer={initializer_name(cfg['embeddings_initializer'])}",
        ),
        (
            "input_dtype",
            "ids of any integer dtype are cast to int32 (a float input is cast too); an id "
            f"outside [0, {layer.input_dim}) raises on CPU (tf.gather; TensorFlow documents "
            "zeros instead on GPU)",
        ),
        ("masking", f"mask_zero={cfg['mask_zero']}: id 0 is an ordinary row, no mask is made"),
    )
    return [emb], {"embeddings": (emb, "embeddings", None)}, notes
