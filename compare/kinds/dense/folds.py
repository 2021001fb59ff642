"""How the importers fold structural pieces into the dense kind (framework-free).

The channels moved last, a dense layer, and the channels moved back (PyTorch's
``x.permute(0, 2, 3, 1)``, ``nn.Linear``, ``x.permute(0, 3, 1, 2)``) are one spec dense
layer: it acts on the channels.
"""

from __future__ import annotations

from compare.core.registry import register_part
from compare.importers.base import Absorb

__all__: list[str] = []

register_part("any", "move", "dense")(Absorb("a dense layer"))
