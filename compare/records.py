"""Frozen result records: what each framework did, per layer and per model.

Records are data only. ``to_dict()`` gives the JSON document's structure (the keys
are part of the interface); every string for people is made by ``compare.report``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any

from compare.core.work import Work

__all__ = [
    "FRAMEWORKS",
    "STATUSES",
    "DefaultValue",
    "Difference",
    "Facts",
    "FrameworkLayer",
    "Initialiser",
    "LayerResult",
    "ModelResult",
    "Parity",
    "Status",
    "WeightFact",
]

FRAMEWORKS = ("torch", "keras")


class Status(StrEnum):
    """A parity or model status. A ``StrEnum``: it equals, prints and serialises as its
    value (``Status.OK == "ok"``), so records, frames and JSON read plain strings.

    Example:
        >>> Status("mismatch") is Status.MISMATCH, f"{Status.OK}"
        (True, 'ok')
    """

    OK = "ok"
    MISMATCH = "mismatch"
    UNSUPPORTED = "unsupported"
    ERROR = "error"
    SKIPPED = "skipped"

    def __repr__(self) -> str:  # shown as the plain string it equals
        return repr(self.value)


#: Parity / model statuses, from best to worst.
STATUSES = tuple(status.value for status in Status)


@dataclass(frozen=True)
class WeightFact:
    """One weight as the framework holds it.

    Example:
        >>> WeightFact("weight", (8, 40, 3, 3), ("O", "I", "H", "W"), True).shape
        (8, 40, 3, 3)
    """

    name: str
    shape: tuple[int, ...]
    axes: tuple[str, ...]
    trainable: bool
    role: str | None = None


@dataclass(frozen=True)
class Facts:
    """What one framework holds for one layer, read back from it: every weight, and
    the trainable / non-trainable parameter and buffer element counts.

    Example:
        >>> Facts((WeightFact("bias", (8,), ("O",), True, "bias"),), 8, 0, 0).trainable_params
        8
    """

    weights: tuple[WeightFact, ...]
    trainable_params: int
    non_trainable_params: int
    buffers: int


def _shape(shape: tuple[int | None, ...] | None) -> list[int | None] | None:
    return None if shape is None else list(shape)


@dataclass(frozen=True)
class FrameworkLayer:
    """One framework's realisation of one layer, as read back from the framework.

    Example:
        >>> FrameworkLayer("torch", supported=False, reason="no").to_dict()["supported"]
        False
    """

    framework: str
    supported: bool
    reason: str | None = None
    classes: tuple[str, ...] = ()
    weights: tuple[WeightFact, ...] = ()
    trainable_params: int | None = None
    non_trainable_params: int | None = None
    buffers: int | None = None
    output_shape: tuple[int | None, ...] | None = None
    notes: tuple[str, ...] = ()
    #: FLOPs the framework's own counter credits this layer with at the model's
    #: ``count_batch`` (1 unless asked)
    #: (``compare.counting``); None where it was not counted.
    flops: int | None = None
    #: Bytes of the parameters and of the buffers the framework holds for the layer.
    param_bytes: int | None = None
    buffer_bytes: int | None = None
    #: Bytes of the layer's output at the model's ``count_batch`` (its observed shape).
    activation_bytes: int | None = None

    @property
    def params(self) -> int | None:
        """Trainable plus non-trainable parameters: what the framework's summary counts."""
        if self.trainable_params is None or self.non_trainable_params is None:
            return None
        return self.trainable_params + self.non_trainable_params

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the per-framework record ``R`` of the JSON document)."""
        return {
            "supported": self.supported,
            "reason": self.reason,
            "classes": list(self.classes),
            "weights": [
                {
                    "name": w.name,
                    "shape": list(w.shape),
                    "axes": list(w.axes),
                    "trainable": w.trainable,
                }
                for w in self.weights
            ],
            "trainable_params": self.trainable_params,
            "non_trainable_params": self.non_trainable_params,
            "params": self.params,
            "buffers": self.buffers,
            "output_shape": _shape(self.output_shape),
            "notes": list(self.notes),
            "flops": self.flops,
            "param_bytes": self.param_bytes,
            "buffer_bytes": self.buffer_bytes,
            "activation_bytes": self.activation_bytes,
        }


@dataclass(frozen=True)
class Parity:
    """Whether torch and keras agree after porting, with the errors measured.

    ``status`` is one of ``STATUSES``; ``ok`` is None when nothing could be compared.

    Example:
        >>> Parity(Status.OK, 1e-7, 1e-6, 1e-4).ok
        True
    """

    status: Status
    max_abs_err: float | None = None
    max_rel_err: float | None = None
    tolerance: float | None = None
    detail: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.status, Status):
            try:
                object.__setattr__(self, "status", Status(self.status))
            except ValueError:
                raise ValueError(
                    f"status={self.status!r} must be one of {', '.join(STATUSES)}"
                ) from None

    @property
    def ok(self) -> bool | None:
        """True / False for a measured comparison, None when none was possible."""
        if self.status in ("ok", "mismatch"):
            return self.status == "ok"
        return None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "status": self.status.value,
            "ok": self.ok,
            "max_abs_err": self.max_abs_err,
            "max_rel_err": self.max_rel_err,
            "tolerance": self.tolerance,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class Difference:
    """A named difference between the frameworks for one layer.

    ``what`` is a short stable key (``kernel_layout``, ``padding`` ...); ``detail`` the
    explanation; ``naive_max_abs_err`` what a port that ignores it gets wrong (None if
    not measured, with ``naive_detail`` saying why or how it was measured).

    Example:
        >>> Difference("flatten_order", "C,H,W vs H,W,C").to_dict()["what"]
        'flatten_order'
    """

    what: str
    detail: str
    torch: str | None = None
    keras: str | None = None
    naive_max_abs_err: float | None = None
    naive_detail: str | None = None
    measured: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        out: dict[str, Any] = {"what": self.what, "detail": self.detail}
        if self.torch is not None or self.keras is not None:
            out["torch"], out["keras"] = self.torch, self.keras
        if self.measured:
            out["naive_max_abs_err"] = self.naive_max_abs_err
            out["naive_detail"] = self.naive_detail
        return out


@dataclass(frozen=True)
class LayerResult:
    """One layer: spec, oracle formula, both frameworks, differences, parity.

    Example:
        >>> LayerResult(0, "flatten", {"kind": "flatten"}, 0, "0", {}, {}).params
        0
    """

    index: int
    kind: str
    spec: dict[str, Any]
    params: int
    expression: str
    output_shape: dict[str, tuple[int | None, ...]]
    frameworks: dict[str, FrameworkLayer]
    differences: tuple[Difference, ...] = ()
    parity: Parity = field(default_factory=lambda: Parity(Status.SKIPPED))
    defaults: tuple[DefaultValue, ...] = ()
    initialisers: tuple[Initialiser, ...] = ()
    #: The formula's MACs at the model's ``count_batch`` (bias adds and element-wise
    #: work apart); None where the kind states no formula.
    work: Work | None = None
    #: Why the frameworks' FLOP counts differ from 2*MACs (``compare.counting.explain``).
    count_notes: tuple[str, ...] = ()

    @property
    def macs(self) -> int | None:
        """The formula's MACs at the model's ``count_batch``, or None.

        Example:
            >>> LayerResult(0, "flatten", {}, 0, "0", {}, {}, work=Work(0, "0")).macs
            0
        """
        return None if self.work is None else self.work.macs

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (one element of a model's ``layers``)."""
        return {
            "index": self.index,
            "kind": self.kind,
            "spec": self.spec,
            "formula": {
                "params": self.params,
                "expression": self.expression,
                "output_shape": {k: _shape(v) for k, v in self.output_shape.items()},
                "macs": self.macs,
                "work": None if self.work is None else self.work.to_dict(),
            },
            "count_notes": list(self.count_notes),
            "frameworks": {name: fw.to_dict() for name, fw in self.frameworks.items()},
            "differences": [d.to_dict() for d in self.differences],
            "parity": self.parity.to_dict(),
            "defaults": [d.to_dict() for d in self.defaults],
            "initialisers": [i.to_dict() for i in self.initialisers],
        }


@dataclass(frozen=True)
class ModelResult:
    """One model compared: its layers, totals, end-to-end parity, or the error that stopped it.

    Example:
        >>> r = ModelResult("bad", None, (), error="layer 0 (conv): filters=0 ...")
        >>> r.status
        'error'
    """

    name: str
    input: dict[str, Any] | None
    layers: tuple[LayerResult, ...]
    parity: Parity = field(default_factory=lambda: Parity(Status.SKIPPED))
    error: str | None = None
    dtype: str = "float32"
    #: Per framework: the peak activation bytes of a forward at ``count_batch``
    #: (``compare.counting.peak_activation_bytes``); empty where not measured.
    peak_activation_bytes: dict[str, int | None] = field(default_factory=dict)
    #: Per framework: FLOPs its counter found outside every node (0 as a rule).
    unattributed_flops: dict[str, int] = field(default_factory=dict)
    #: The batch size the work and memory figures are given at (MACs, FLOPs,
    #: activation bytes; parameter bytes do not depend on it).
    count_batch: int = 1

    @property
    def status(self) -> Status:
        """``error`` if the model could not be compared, else its end-to-end parity status."""
        return Status.ERROR if self.error is not None else self.parity.status

    def totals(self) -> dict[str, Any]:
        """Sums over layers, per framework and for the formula (None where unknown)."""
        # summed once (the reports ask several times); each caller gets its own copy
        return {k: dict(v) if isinstance(v, dict) else v for k, v in self._totals.items()}

    @cached_property
    def _totals(self) -> dict[str, Any]:
        out: dict[str, Any] = {"formula_params": sum(layer.params for layer in self.layers)}
        macs = [layer.macs for layer in self.layers]
        out["formula_macs"] = None if not macs or None in macs else sum(m or 0 for m in macs)
        for name in FRAMEWORKS:
            rows = [layer.frameworks[name] for layer in self.layers if name in layer.frameworks]
            for key in (
                "trainable_params",
                "non_trainable_params",
                "buffers",
                "params",
                "flops",
                "param_bytes",
                "buffer_bytes",
            ):
                values = [getattr(r, key) for r in rows]
                out.setdefault(name, {})[key] = (
                    None if not values or any(v is None for v in values) else sum(values)
                )
            if out[name]["flops"] is not None:
                out[name]["flops"] += self.unattributed_flops.get(name, 0)
            out[name]["peak_activation_bytes"] = self.peak_activation_bytes.get(name)
        return out

    @property
    def differences(self) -> list[tuple[int, Difference]]:
        """Every named difference as (layer index, difference)."""
        return [(layer.index, d) for layer in self.layers for d in layer.differences]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (one element of the document's ``models``)."""
        return {
            "name": self.name,
            "status": self.status.value,
            "error": self.error,
            "dtype": self.dtype,
            "input": self.input,
            "layers": [layer.to_dict() for layer in self.layers],
            "count_batch": self.count_batch,
            "totals": self.totals(),
            "parity": self.parity.to_dict(),
        }


# -- defaults and initialisers ---------------------------------------------------------


@dataclass(frozen=True)
class DefaultValue:
    """One hyperparameter: the spec's value and each framework's own default for it.

    Values are in the spec's convention (Keras' batch-norm momentum 0.99 is 0.01);
    ``"required"`` means the framework has no default, None that it has no such
    parameter.

    Example:
        >>> DefaultValue("epsilon", 1e-5, 1e-5, 1e-3, True, False).to_dict()["differs"]
        True
    """

    name: str
    spec: Any
    torch: Any
    keras: Any
    differs: bool
    user_set: bool

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "name": self.name,
            "spec": list(self.spec) if isinstance(self.spec, tuple) else self.spec,
            "torch": self.torch,
            "keras": self.keras,
            "differs": self.differs,
            "user_set": self.user_set,
        }


@dataclass(frozen=True)
class Initialiser:
    """A weight's default initialiser in one framework: its name, the standard
    deviation theory gives, and the one measured on the freshly built layer.

    Example:
        >>> Initialiser("kernel", "torch", "kaiming_uniform(a=sqrt(5))", 0.1, 0.098).framework
        'torch'
    """

    role: str
    framework: str
    name: str
    std: float | None
    measured_std: float | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "role": self.role,
            "framework": self.framework,
            "name": self.name,
            "std": self.std,
            "measured_std": self.measured_std,
        }
