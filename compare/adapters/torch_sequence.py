"""Old home of the PyTorch builders of the recurrent and embedding kinds, which now live
in ``compare/kinds/<family>/torch.py``.

Only ``RnnOutput`` is still imported from here (by ``compare.importers.torch`` and
``compare.importers.torch_sequence``); delete this module once the importers import it
from ``compare.kinds.recurrent.torch``.

Example:
    >>> RnnOutput.__module__
    'compare.kinds.recurrent.torch'
"""

from __future__ import annotations

from compare.kinds.recurrent.torch import RnnOutput

__all__ = ["RnnOutput"]
