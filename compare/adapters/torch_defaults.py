"""What PyTorch chooses when the user says nothing, as several families read it: a
signature's padding default in the spec's terms, and the default initialisation of
the modules whose ``reset_parameters`` draws from a fan-in bound.

Example:
    >>> padding_default(0)
    'valid'
"""

from __future__ import annotations

import math
from typing import Any

from compare.adapters.base import Built

__all__ = ["fan_in_uniform", "padding_default"]


def padding_default(value: Any) -> Any:
    """A PyTorch padding default in the spec's terms: 0 is 'valid'.

    Example:
        >>> padding_default(0), padding_default("same")
        ('valid', 'same')
    """
    return "valid" if value == 0 else value


def fan_in_uniform(built: Built) -> dict[str, tuple[str, float | None]]:
    """Role -> (initialiser name, theoretical std) for modules initialised like
    ``nn.ConvNd`` and ``nn.Linear``.

    They draw weights from kaiming_uniform(a=sqrt(5)), i.e. U(-1/sqrt(fan_in),
    1/sqrt(fan_in)) with std 1/sqrt(3 * fan_in), and their bias from the same bound;
    fan_in is ``weight.shape[1] * prod(kernel)`` of the role's module, as PyTorch
    computes it. A role whose module has no 2-D-or-more ``weight`` is left out.

    Example:
        >>> from torch import nn
        >>> b = Built("torch", None, (), {"kernel": (nn.Linear(3, 2), "weight")})
        >>> round(fan_in_uniform(b)["kernel"][1], 4)
        0.3333
    """
    out: dict[str, tuple[str, float | None]] = {}
    for role, (module, _attr) in built.roles.items():
        weight = getattr(module, "weight", None)
        if weight is None or weight.dim() < 2:
            continue
        fan_in = int(weight.shape[1]) * int(math.prod(weight.shape[2:]))
        std = 1.0 / math.sqrt(3.0 * fan_in)
        name = "kaiming_uniform(a=sqrt(5))" if role != "bias" else "uniform(+-1/sqrt(fan_in))"
        out[role] = (name, std)
    return out
