"""Hints for the mistakes a new user makes first, added to the error they cause.

Framework-free: each hint is computed from what the user gave, never guessed from a
framework's message.

Example:
    >>> input_hint((28, 28, 1))[-41:]
    '28x28x1 looks channels-last: try 1x28x28)'
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["input_hint"]

#: Channel counts so common that a last dim of this size suggests a channels-last shape.
_CHANNEL_LIKE = (1, 2, 3, 4)


def input_hint(dims: Sequence[int]) -> str:
    """A hint for a model that fails on its first layer with the input ``dims`` (channels
    first, batch axis excluded): a channels-last shape, or a batch axis given too.
    Empty when nothing looks wrong.

    Example:
        >>> input_hint((1, 3, 224, 224))[-33:]
        'if 1 is the batch, try 3x224x224)'
        >>> input_hint((1, 28, 28))
        ''
    """
    dims = tuple(int(d) for d in dims)
    shown = "x".join(map(str, dims))
    if len(dims) >= 3 and dims[-1] in _CHANNEL_LIKE and dims[0] > max(_CHANNEL_LIKE):
        moved = "x".join(map(str, (dims[-1], *dims[:-1])))
        return (
            " (hint: input is channels first without the batch axis, CxHxW; "
            f"{shown} looks channels-last: try {moved})"
        )
    if len(dims) >= 4 and dims[0] == 1:
        rest = "x".join(map(str, dims[1:]))
        return (
            " (hint: input is channels first without the batch axis; "
            f"if 1 is the batch, try {rest})"
        )
    return ""
