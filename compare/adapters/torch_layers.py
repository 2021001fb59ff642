"""Old home of the PyTorch builders of the norm, pool, dropout and activation kinds,
which now live in ``compare/kinds/<family>/torch.py``.

Only ``ExcludePadAvgPool`` is still imported from here (by
``compare.importers.torch_layers``); delete this module once the importers import it
from ``compare.kinds.pool.torch``.

Example:
    >>> ExcludePadAvgPool.__module__
    'compare.kinds.pool.torch'
"""

from __future__ import annotations

from compare.kinds.pool.torch import ExcludePadAvgPool

__all__ = ["ExcludePadAvgPool"]
