"""Read real PyTorch and Keras models into specs that carry their weights.

``from_torch`` and ``from_keras`` load their framework only when called.
"""

from __future__ import annotations

from typing import Any

from compare.importers.base import (
    Imported,
    Mismatch,
    UnmappableError,
    Unmapped,
    parse_input,
    parse_input_shape,
    spec_differences,
)

__all__ = [
    "Imported",
    "Mismatch",
    "UnmappableError",
    "Unmapped",
    "from_keras",
    "from_torch",
    "parse_input",
    "parse_input_shape",
    "spec_differences",
]


def from_torch(module: Any, input: Any, *, name: str | None = None) -> Imported:
    """Read a real ``torch.nn.Module`` (a nested ``nn.Sequential``, or any module whose
    ``forward`` is a straight chain that ``torch.fx`` can trace) into a spec that keeps its
    weights. ``input`` is the channels-first input shape without the batch axis:
    ``(1, 28, 28)`` or ``"1x28x28"``; a sequence of 10 steps of 16 features is ``"16x10"``
    (a module that opens with a ``batch_first`` RNN is then fed (N, 10, 16)); integer
    token ids are ``"int:12"`` or ``compare.spec.Input(1, (12,), dtype="int")``. A torch
    RNN's ``(output, state)`` tuple must be reduced by the next steps to the output
    sequence (``out[0]``: ``return_sequences=True``) or its last step (``out[0][:, -1]``,
    ``h_n[-1]``). Raises ``UnmappableError`` naming every module it cannot map (path,
    class, why).

    Example:
        >>> import torch.nn as nn
        >>> imp = from_torch(nn.Sequential(nn.Conv2d(1, 8, 3), nn.Flatten(),
        ...                                nn.Linear(8 * 26 * 26, 10)), input="1x28x28")
        >>> [layer.kind for layer in imp.model.layers]
        ['conv', 'flatten', 'dense']
    """
    from compare.importers.torch import from_torch as _from_torch

    return _from_torch(module, input, name)


def from_keras(model: Any, input: Any = None, *, name: str | None = None) -> Imported:
    """Read a real ``keras.Sequential`` or functional model whose graph is a chain into a
    spec that keeps its weights. ``input`` (channels first, like ``"1x28x28"``, or
    ``"int:12"`` for token ids) is needed only when the model has no fixed input shape.
    Raises ``UnmappableError`` naming every layer it cannot map (path, class, why).

    Example:
        >>> import keras
        >>> m = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(8, 3)])
        >>> from_keras(m).model.layers[0].filters
        8
    """
    from compare.importers.keras import from_keras as _from_keras

    return _from_keras(model, input, name)
