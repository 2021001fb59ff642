"""Two libraries, one network: every difference between a PyTorch and a Keras
implementation, named with its places, and the parameter gap reconciled.

``compare.diff(torch_model, keras_model, input="3x224x224")`` returns a ``Diff``:
``compare.diff`` is this package, and the package is callable (it calls
``compare.diff.engine.diff``), so ``compare.diff(...)`` and ``compare.diff.render_text``
both work whichever is reached first. Importing it imports no framework.

Example:
    >>> from compare.diff import Place
    >>> str(Place("fc", "predictions"))
    'torch fc / keras predictions'
"""

from __future__ import annotations

import sys
import types
from typing import Any

from compare.diff.align import align
from compare.diff.counts import Counts
from compare.diff.engine import diff as _diff
from compare.diff.records import Cause, Diff, Difference, Drift, Place, Reconciliation, Switch
from compare.diff.render import render_html, render_markdown, render_text

__all__ = [
    "Cause",
    "Counts",
    "Diff",
    "Difference",
    "Drift",
    "Place",
    "Reconciliation",
    "Switch",
    "align",
    "diff",
    "render_html",
    "render_markdown",
    "render_text",
]


class _CallableModule(types.ModuleType):
    """This package, callable as ``compare.diff.engine.diff``."""

    def __call__(self, *args: Any, **kwargs: Any) -> Diff:
        return _diff(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
#: ``compare.diff`` (the lazy export of ``compare``) is this callable package itself.
diff = sys.modules[__name__]
