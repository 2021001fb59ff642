"""Two libraries, one network: every difference between a PyTorch and a Keras
implementation, named with its places, and the parameter gap reconciled.

``compare.diff(torch_model, keras_model, input="3x224x224")`` returns a ``Diff``. The
package is callable too (``compare.diff`` may be this module once it is imported), so
``compare.diff(...)`` works either way. Importing it imports no framework.

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
from compare.diff.engine import diff
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
    """This package, callable as ``diff``."""

    def __call__(self, *args: Any, **kwargs: Any) -> Diff:
        return diff(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
