"""Named differences and naive-port checks of the convolution kinds (conv,
conv_transpose, depthwise_conv, separable_conv).

Their kernel layout and TF's asymmetric 'same' padding are measured by the generic
checks; registered here: a transposed conv's own padding check (its integer padding
crops the output, which a port to Keras' 'same' gets wrong) and why each default
matters.
"""

from __future__ import annotations

import dataclasses

from compare.core.registry import ANY, register_part
from compare.kinds.conv.spec import ConvTranspose
from compare.naive import Context, NaiveResult, naive_twin

__all__ = ["transpose_padding"]

CONVS = ("conv", "conv_transpose", "depthwise_conv", "separable_conv")

register_part(ANY, "explain", *CONVS)(
    {
        "strides": "the step between windows (both default to the window)",
        "padding": "PyTorch's padding is an integer (0), Keras' a mode ('valid')",
        "dilation": "the spacing between kernel taps",
        "use_bias": "whether the layer adds a learned bias",
        "activation": "the function applied to the layer's output",
        "groups": "number of channel groups",
        "output_padding": (
            "rows added at the end of a transposed conv's output; Keras' None infers them "
            "(max(kernel, stride) - kernel with 'valid'), PyTorch's 0 adds none: a port that "
            "leaves both unset gets different output sizes when kernel < stride"
        ),
    }
)


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
