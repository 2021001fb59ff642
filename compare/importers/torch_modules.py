"""compare's own torch modules that the importers read back (the adapters build them).

The one place the importers import them from, so a move of these classes is a change
here only.
"""

from __future__ import annotations

from compare.adapters.torch import Crop, MoveAxis
from compare.adapters.torch_layers import ExcludePadAvgPool
from compare.adapters.torch_sequence import RnnOutput

__all__ = ["Crop", "ExcludePadAvgPool", "MoveAxis", "RnnOutput"]
