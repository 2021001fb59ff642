"""Naive-port checks of the convolution kinds (conv, conv_transpose, depthwise_conv,
separable_conv).

Their kernel layout and TF's asymmetric 'same' padding are measured by the generic
checks; registered here: a transposed conv's own padding check (its integer padding
crops the output, which a port to Keras' 'same' gets wrong).
"""

from __future__ import annotations

import dataclasses

from compare.core.registry import ANY, register_part
from compare.naive import Context, NaiveResult, naive_twin
from compare.spec import ConvTranspose

__all__ = ["transpose_padding"]


def transpose_padding(ctx: Context) -> NaiveResult | None:
    """A torch transposed conv with integer padding ported as Keras padding='same'.

    Example:
        >>> from compare.naive import context_of
        >>> from compare.spec import Input, Model
        >>> layer = ConvTranspose(filters=2, kernel_size=3, strides=2, padding=1)
        >>> err, detail = transpose_padding(context_of(Model("m", Input(1, (5,)), (layer,))))
        >>> detail
        "Keras padding='same' instead of cropping [1]; the naive port cannot even run ..."
    """
    layer = ctx.layer
    if not isinstance(layer, ConvTranspose) or isinstance(layer.padding, str):
        return None
    if not any(layer.padding):  # type: ignore[arg-type]
        return None
    assert isinstance(layer.padding, tuple)
    zeros = (0,) * len(layer.padding)
    naive = dataclasses.replace(layer, padding="same", output_padding=zeros)
    result = naive_twin(ctx, "keras", naive)
    if result is None:
        return None
    err, why = result
    text = f"Keras padding='same' instead of cropping {list(layer.padding)}"
    return err, text + (f"; {why}" if why else "")


# The transposed conv's padding check replaces the generic 'same'-padding one.
register_part(ANY, "naive_checks", "conv_transpose")({"padding": transpose_padding})
