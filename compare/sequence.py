"""Transitional: the recurrent kinds live in ``compare.kinds.recurrent`` and the embedding
in ``compare.kinds.embedding``; this module re-exports their framework-free helpers.

Example:
    >>> gate_permutation("gru", "torch", "keras")
    (1, 0, 2)
"""

from __future__ import annotations

from typing import Any

from compare.kinds.recurrent.spec import (
    GATE_LETTERS,
    GATE_ORDER,
    RECURRENT_KINDS,
    bias_count,
    gate_permutation,
    gates,
    port_recurrent,
    reorder_gates,
    weight_axes,
)

__all__ = [
    "GATE_LETTERS",
    "GATE_ORDER",
    "RECURRENT_KINDS",
    "bias_count",
    "gate_permutation",
    "gates",
    "port_recurrent",
    "reorder_gates",
    "token_high",
    "weight_axes",
]


def token_high(layer: Any) -> int:
    """Exclusive upper bound of the random token ids fed to ``layer`` (its vocabulary).

    Example:
        >>> from compare.spec import Embedding
        >>> token_high(Embedding(input_dim=50, output_dim=4))
        50
    """
    return int(layer.input_high())


def __getattr__(name: str) -> Any:
    if name == "PORTS":  # kinds ported as a whole rather than role by role
        from compare.core import registry

        return {kind: cls.port for kind, cls in registry.kinds().items() if not cls.ported_by_role}
    raise AttributeError(f"module 'compare.sequence' has no attribute {name!r}")
