"""How the importers fold structural pieces into the norm kinds (framework-free).

The channels moved last, a layer norm over the last axis, and the channels moved back
are one spec layer norm over the channels.
"""

from __future__ import annotations

from compare.core.registry import register_part
from compare.importers.base import Absorb

__all__: list[str] = []

register_part("any", "move", "layer_norm")(Absorb("a layer norm"))
