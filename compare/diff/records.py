"""The records of a diff: differences with their places, the parameter reconciliation.

Records hold data only; ``compare.diff.render`` turns them into text, Markdown and
HTML. Nothing here imports a framework.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from compare.diff.counts import Counts

__all__ = [
    "CATEGORIES",
    "Cause",
    "Diff",
    "Difference",
    "Drift",
    "Place",
    "Reconciliation",
    "Switch",
]

#: Difference categories, in report order.
CATEGORIES = ("structure", "connection", "hyperparameter")


@dataclass(frozen=True)
class Place:
    """Where a difference is: the source modules on each side (None: no counterpart).

    Example:
        >>> str(Place("layer1.0.conv2", "conv2_block1_1_conv"))
        'torch layer1.0.conv2 / keras conv2_block1_1_conv'
    """

    torch: str | None
    keras: str | None

    def __str__(self) -> str:
        return f"torch {self.torch or '-'} / keras {self.keras or '-'}"


@dataclass(frozen=True)
class Difference:
    """One difference between the two implementations, and every place it occurs.

    ``key`` is what ``allow`` patterns match (``fnmatch``): ``<kind>.<field>`` for a
    hyperparameter of aligned nodes (``batch_norm.epsilon``), ``conv.strides_moved``,
    ``only_torch.<kind>`` / ``only_keras.<kind>`` for a node one side lacks,
    ``kind.<torch kind>-><keras kind>`` and ``connection.<kind>``.

    Example:
        >>> d = Difference("hyperparameter", "batch_norm.epsilon", 1e-05, 1.001e-05,
        ...                (Place("bn1", "conv1_bn"),))
        >>> d.matches(["batch_norm.*"]), len(d.places)
        (True, 1)
    """

    category: str
    key: str
    torch: Any
    keras: Any
    places: tuple[Place, ...]
    note: str = ""

    def matches(self, patterns: Iterable[str]) -> bool:
        """Whether any ``fnmatch`` pattern matches this difference's key."""
        return any(fnmatch.fnmatchcase(self.key, p) for p in patterns)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: values as JSON types (tuples as lists, anything else as repr)."""
        return {
            "category": self.category,
            "key": self.key,
            "torch": _json(self.torch),
            "keras": _json(self.keras),
            "places": [{"torch": p.torch, "keras": p.keras} for p in self.places],
            "note": self.note,
        }


@dataclass(frozen=True)
class Cause:
    """One part of the parameter gap (Keras minus PyTorch): what, how many, where.

    Example:
        >>> Cause("conv biases", 26560, 53).params
        26560
    """

    name: str
    params: int
    places: int


@dataclass(frozen=True)
class Reconciliation:
    """Each side's counts and the gap (Keras total minus PyTorch total) by cause; the
    causes add up exactly to the gap.

    Example:
        >>> c = Counts(10, 10, 0, 0)
        >>> r = Reconciliation(c, Counts(12, 10, 2, None), (Cause("bn statistics", 2, 1),))
        >>> r.gap, r.adds_up
        (2, True)
    """

    torch: Counts
    keras: Counts
    causes: tuple[Cause, ...]

    @property
    def gap(self) -> int:
        """Keras' total minus PyTorch's."""
        return self.keras.total - self.torch.total

    @property
    def adds_up(self) -> bool:
        """Whether the causes sum to the gap."""
        return sum(c.params for c in self.causes) == self.gap

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "torch": self.torch.to_dict(),
            "keras": self.keras.to_dict(),
            "gap": self.gap,
            "causes": [
                {"name": c.name, "params": c.params, "places": c.places} for c in self.causes
            ],
        }


@dataclass(frozen=True)
class Switch:
    """The output drift with one difference switched off (the others left on).

    Example:
        >>> Switch("batch_norm.epsilon", 0.25, "").error
        0.25
    """

    key: str
    error: float
    note: str


@dataclass(frozen=True)
class Drift:
    """``error``: max |torch - keras| of the outputs after the port, every difference
    on; ``switched``: the same with each switchable difference off in turn, and
    ``all_off`` with all of them off (None when none can be switched).

    Example:
        >>> Drift(1.5, 1.0, (), None, "").to_dict()["error"]
        1.5
    """

    error: float
    scale: float
    switched: tuple[Switch, ...]
    all_off: float | None
    note: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "error": self.error,
            "scale": self.scale,
            "switched": [{"key": s.key, "error": s.error, "note": s.note} for s in self.switched],
            "all_off": self.all_off,
            "note": self.note,
        }


@dataclass(frozen=True)
class Diff:
    """Every difference between a PyTorch and a Keras implementation of one network.

    ``pairs`` lists the alignment (source modules paired, or None where a side has
    no counterpart) in canonical order; ``differences`` come grouped, each with its
    places; ``reconciliation`` explains the parameter gap. ``compare.diff.render``
    writes it as text, Markdown or HTML.

    Example:
        >>> d = Diff("a", "b", "3x8x8", (Place("fc", "dense"),), (), Reconciliation(
        ...     Counts(5, 5, 0, 0), Counts(5, 5, 0, None), ()))
        >>> d.same, d.to_dict()["reconciliation"]["gap"]
        (True, 0)
    """

    torch_name: str
    keras_name: str
    input: str
    pairs: tuple[Place, ...]
    differences: tuple[Difference, ...]
    reconciliation: Reconciliation
    #: The numerical consequence, when measured (``diff(..., measure=True)``).
    drift: Drift | None = None

    @property
    def same(self) -> bool:
        """No difference found."""
        return not self.differences

    def unexpected(self, allow: Iterable[str] = ()) -> list[Difference]:
        """The differences no ``allow`` pattern (``fnmatch`` on ``Difference.key``) matches."""
        patterns = list(allow)
        return [d for d in self.differences if not d.matches(patterns)]

    def to_dict(self) -> dict[str, Any]:
        """The whole diff as JSON-ready data (what ``--format json`` prints)."""
        return {
            "torch": self.torch_name,
            "keras": self.keras_name,
            "input": self.input,
            "aligned": sum(p.torch is not None and p.keras is not None for p in self.pairs),
            "only_torch": sum(p.keras is None for p in self.pairs),
            "only_keras": sum(p.torch is None for p in self.pairs),
            "differences": [d.to_dict() for d in self.differences],
            "reconciliation": self.reconciliation.to_dict(),
            "drift": None if self.drift is None else self.drift.to_dict(),
            "pairs": [{"torch": p.torch, "keras": p.keras} for p in self.pairs],
        }

    def to_json(self) -> str:
        """``to_dict`` as indented JSON."""
        return json.dumps(self.to_dict(), indent=2)

    def to_frame(self, table: str = "differences") -> Any:
        """A pandas DataFrame: ``"differences"`` (one row per place), ``"causes"`` or
        ``"pairs"``."""
        import pandas as pd

        if table == "differences":
            rows = [
                {
                    "category": d.category,
                    "key": d.key,
                    "torch": _text(d.torch),
                    "keras": _text(d.keras),
                    "torch_place": p.torch,
                    "keras_place": p.keras,
                }
                for d in self.differences
                for p in d.places
            ]
            columns = ["category", "key", "torch", "keras", "torch_place", "keras_place"]
            return pd.DataFrame(rows, columns=columns)
        if table == "causes":
            causes = self.reconciliation.causes
            return pd.DataFrame(
                [{"cause": c.name, "params": c.params, "places": c.places} for c in causes],
                columns=["cause", "params", "places"],
            )
        if table == "pairs":
            return pd.DataFrame(
                [{"torch": p.torch, "keras": p.keras} for p in self.pairs],
                columns=["torch", "keras"],
            )
        from compare.errors import SpecError

        raise SpecError(f"table={table!r} must be one of differences, causes, pairs")


def _json(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (tuple, list)):
        return [_json(v) for v in value]
    return repr(value)


def _text(value: Any) -> str:
    return "-" if value is None else str(value)
