"""Translate one PyTorch or Keras layer constructor call into the other framework.

``translate("nn.Conv2d(3, 64, 7, stride=2, padding=3)", "3x224x224")``:

1. parses the call with ``ast``, literals only, every size bounded (``parse``);
2. resolves the class against the real ``torch.nn`` / ``keras.layers``, binds the
   arguments with ``inspect.signature`` of that class, counts the layer's weights and
   output before anything is allocated, and constructs the real layer;
3. wraps it in a one-layer model and reads that with the importer
   (``compare.from_torch`` / ``compare.from_keras``): the layer's spec, with its weights;
4. compares it (``compare_model``: facts, port, parity, named differences) and builds it
   (``compare.build``): the other framework's code is printed from the objects that
   adapter built, each class with the arguments read back from the object
   (``compare.translate.calls``); the weight-port statements from the port itself,
   probed (``compare.translate.port``);
5. rebuilds the printed layers from those same calls, ports the source layer's weights
   with the printed statements, and runs both on one input: ``printed_parity`` is the
   parity of the printed code itself, not only of the comparison's own build.

The input shape is written without the batch axis in the call's own layout: channels
first for a PyTorch call, as ``compare.from_torch`` takes it (``3x224x224``; a sequence of
10 steps of 16 features is ``16x10``), the ``keras.Input`` shape for a Keras call
(``224x224x3``, ``10x16``); ``int:12`` is 12 integer token ids.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

from compare.errors import SpecError
from compare.translate.parse import (
    FRAMEWORK_NAMES,
    MAX_AST_DEPTH,
    MAX_AST_NODES,
    MAX_CALL_CHARS,
    MAX_INPUT_ELEMENTS,
    MAX_INT,
    InputShape,
    ParsedCall,
    parse_call,
    parse_input,
)

__all__ = [
    "MAX_AST_DEPTH",
    "MAX_AST_NODES",
    "MAX_CALL_CHARS",
    "MAX_INPUT_ELEMENTS",
    "MAX_INT",
    "MAX_WEIGHTS",
    "InputShape",
    "ParsedCall",
    "Translation",
    "parse_call",
    "parse_input",
    "render_text",
    "run_cli",
    "signature",
    "to_model",
    "translate",
]

#: A layer may hold at most this many weight elements (128 MiB in float32).
MAX_WEIGHTS = 2**25

#: framework -> "module:class" of its side of a translation, imported on first use.
SIDES = {
    "torch": "compare.translate.torch_side:TorchSide",
    "keras": "compare.translate.keras_side:KerasSide",
}


def _side(name: str) -> Any:
    module, cls = SIDES[name].split(":")
    return getattr(importlib.import_module(module), cls)()


@dataclass(frozen=True)
class Translation:
    """A call translated into the other framework, with the comparison that backs it.

    ``code`` and ``weights`` are None when the other framework cannot express the layer
    (``reason`` says why). ``printed_parity`` is the parity of the printed code (rebuilt
    from its calls, weights ported by the printed statements) against the source layer.

    Example:
        >>> t = translate("nn.Linear(8, 4)", "8")
        >>> print(t.code)
        import keras
        <BLANKLINE>
        keras_layer = keras.layers.Dense(4)
        >>> t.status
        'ok'
    """

    call: ParsedCall
    input: InputShape
    source: str
    target: str
    result: Any
    code: str | None
    weights: str | None
    activations: str | None
    calls: tuple[Any, ...] = ()
    source_dims: tuple[int, ...] = ()
    printed_parity: Any = None
    reason: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def status(self) -> str:
        """``ok`` when the comparison and the printed code both agree with the source;
        otherwise the comparison's status, ``unsupported`` or ``mismatch``."""
        if self.code is None:
            return (
                "unsupported"
                if self.result.status in ("ok", "unsupported")
                else (self.result.status)
            )
        if self.result.status != "ok":
            return str(self.result.status)
        if self.printed_parity is None or self.printed_parity.status != "ok":
            return "mismatch"
        return "ok"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``translate --format json``)."""
        printed = self.printed_parity
        return {
            "source": {
                "framework": self.source,
                "call": self.call.text,
                "class": self.call.class_name,
                "input": list(self.input.dims),
                "input_ids": self.input.ids,
                "layer_input": list(self.source_dims),
            },
            "layers": [
                {
                    "kind": layer.kind,
                    "spec": layer.spec,
                    "params": layer.params,
                    "expression": layer.expression,
                    "output_shape": {k: list(v) for k, v in layer.output_shape.items()},
                }
                for layer in self.result.layers
            ],
            "target": {
                "framework": self.target,
                "code": self.code,
                "weights": self.weights,
                "activations": self.activations,
                "calls": [c.to_dict() for c in self.calls],
                "reason": self.reason,
            },
            "notes": list(self.notes),
            "differences": [d.to_dict() for layer in self.result.layers for d in layer.differences],
            "printed_parity": None if printed is None else _parity_dict(printed),
            "status": self.status,
            "comparison": self.result.to_dict(),
        }


def _parity_dict(p: Any) -> dict[str, Any]:
    return {
        "status": p.status,
        "max_abs_err": p.max_abs_err,
        "max_rel_err": p.max_rel_err,
        "tolerance": p.tolerance,
        "detail": p.detail,
    }


def _bind(side: Any, cls: type, call: ParsedCall) -> None:
    """Bind the call's arguments to the real constructor's signature."""
    try:
        side.bind_signature(cls).bind(*call.args, **call.kwargs)
    except TypeError as exc:
        raise SpecError(f"{call.dotted}: {exc}; signature: {side.signature(cls)}") from exc


@dataclass(frozen=True)
class _Read:
    """The source layer as built from the call, and the importer's reading of it."""

    side: Any
    shape: InputShape
    layer: Any
    model: Any
    dims: tuple[int, ...]
    imported: Any
    notes: list[str]


def _read(call: ParsedCall, shape: InputShape) -> _Read:
    """Resolve, bind, bound, build, wrap and import the call's layer."""
    import numpy as np

    src = _side(call.framework)
    cls = src.resolve(call.class_name, call.dotted)
    _bind(src, cls, call)
    layer = src.construct(cls, call, shape, MAX_WEIGHTS)
    own_dims, returns_tuple = src.probe(layer, call, shape, MAX_INPUT_ELEMENTS)
    model = src.wrap(layer, returns_tuple, shape)
    src.randomise(layer, np.random.default_rng(0))
    imported = src.import_(model, shape)
    notes = []
    if returns_tuple:
        notes.append(
            f"{call.class_name} returns a tuple (output, state): its output, element [0], "
            "is what is translated"
        )
    return _Read(src, shape, layer, model, tuple(own_dims), imported, notes)


def signature(framework: str, class_name: str) -> tuple[tuple[str, ...], int]:
    """(parameter names in order, number required) of a real layer class's constructor,
    read with ``inspect.signature`` (``**kwargs`` left out).

    Example:
        >>> signature("torch", "Linear")
        (('in_features', 'out_features', 'bias', 'device', 'dtype'), 2)
    """
    if framework not in SIDES:
        raise SpecError(f"framework={framework!r} must be one of {', '.join(SIDES)}")
    side = _side(framework)
    cls = side.resolve(class_name, class_name)
    params = [
        p
        for p in side.bind_signature(cls).parameters.values()
        if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    return tuple(p.name for p in params), sum(p.default is p.empty for p in params)


def to_model(call: ParsedCall | str, input_text: str | None = None) -> tuple[Any, list[str]]:
    """The spec the importer reads from the call's real layer (weights left out), and notes.

    Example:
        >>> model, notes = to_model("keras.layers.Dense(4)", "8")
        >>> [layer.kind for layer in model.layers], notes
        (['dense'], [])
    """
    parsed = parse_call(call) if isinstance(call, str) else call
    read = _read(parsed, parse_input(input_text, parsed.framework))
    return read.imported.model, read.notes


def translate(text: str, input_text: str | None = None, *, dtype: str = "float32") -> Translation:
    """Translate a PyTorch or Keras constructor call on an input into the other framework.

    Raises ``SpecError`` for a call or input that cannot be parsed, bound, built or read
    into a spec; a layer the other framework cannot express is a ``Translation`` whose
    status is ``unsupported`` (``code`` None, ``reason`` why).

    Example:
        >>> t = translate("nn.Conv2d(3, 64, 7, stride=2, padding=3)", "3x224x224")
        >>> print(t.code)
        import keras
        <BLANKLINE>
        keras_layer = keras.Sequential([
            keras.Input(shape=(224, 224, 3)),
            keras.layers.ZeroPadding2D(padding=3),
            keras.layers.Conv2D(64, 7, strides=2),
        ])
    """
    from compare.comparison import compare_model

    call = parse_call(text)
    read = _read(call, parse_input(input_text, call.framework))
    target_name = "keras" if call.framework == "torch" else "torch"
    imported, shape, src = read.imported, read.shape, read.side
    result = compare_model(imported, dtype=dtype)
    dst = _side(target_name)
    from compare.translate.target import build_target

    target = build_target(imported, src, dst, read.layer, read.model, read.dims, shape, dtype)
    return Translation(
        call,
        shape,
        call.framework,
        target_name,
        result,
        target.code,
        target.weights,
        target.activations,
        tuple(target.calls),
        read.dims,
        target.parity,
        target.reason,
        tuple(read.notes + target.notes),
    )


def _shape_text(shape: Any) -> str:
    dims = tuple(shape)
    return "(" + ", ".join(map(str, dims)) + ("," if len(dims) == 1 else "") + ")"


def _indent(text: str) -> str:
    return "\n".join(f"    {line}" if line else "" for line in text.splitlines())


def _error_text(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2g}"


def render_text(t: Translation) -> str:
    """The translation as text for a terminal.

    Example:
        >>> print(render_text(translate("nn.ReLU()", "4")).splitlines()[0])
        PyTorch nn.ReLU() on input (4,) (batch axis left out)
    """
    src, dst = FRAMEWORK_NAMES[t.source], FRAMEWORK_NAMES[t.target]
    given = ("int:" if t.input.ids else "") + _shape_text(t.input.dims)
    lines = [f"{src} {t.call.text} on input {given} (batch axis left out)"]
    for layer in t.result.layers:
        spec = ", ".join(f"{k}={v!r}" for k, v in layer.spec.items() if k != "kind")
        out = layer.output_shape
        lines.append(f"spec: {layer.kind}({spec})")
        lines.append(
            f"output: PyTorch {_shape_text(out['torch'])}, Keras {_shape_text(out['keras'])}; "
            f"params {layer.expression}"
        )
    lines.append("")
    if t.code is None:
        lines.append(f"{dst} equivalent: none. {t.reason or 'unknown reason'}")
    else:
        lines += [f"{dst} equivalent (read back from the layers {dst} built):", _indent(t.code)]
        lines += ["", f"Port the weights ({src} -> {dst}):", _indent(t.weights or "")]
        lines += ["", "Activations:", _indent(t.activations or "")]
    notes = [*t.notes]
    for layer in t.result.layers:
        own = layer.frameworks.get(t.target)
        notes += list(own.notes) if own is not None else []
    if notes:
        lines += ["", "Notes:", *(f"  - {n}" for n in dict.fromkeys(notes))]
    differences = [d for layer in t.result.layers for d in layer.differences]
    if differences:
        lines += ["", "Differences (read back from both frameworks):"]
        for d in differences:
            text = f"  - {d.what}: {d.detail}"
            if d.measured:
                naive = d.naive_max_abs_err
                shown = "not comparable" if naive is None else f"max|diff| {naive:.2g}"
                text += f" [naive port: {shown}: {d.naive_detail}]"
            lines.append(text)
    p = t.result.parity
    measured = f", max|err| {_error_text(p.max_abs_err)}" if p.max_abs_err is not None else ""
    lines += ["", f"parity after porting: {p.status}{measured}"]
    if t.printed_parity is not None:
        q = t.printed_parity
        lines.append(
            f"parity of the printed code against the {src} layer: {q.status}, max|err| "
            f"{_error_text(q.max_abs_err)}" + (f" ({q.detail})" if q.detail else "")
        )
    return "\n".join(lines)


def run_cli(call: str, input_text: str | None, fmt: str = "text", dtype: str = "float32") -> int:
    """``python -m compare translate``: print the translation; return the exit code.

    0: translated, and both the comparison and the printed code agree with the source;
    1: the other framework cannot express it, or a parity check failed;
    2: the call or the input cannot be parsed, bound, built or read (one-line error).

    Example:
        >>> run_cli("nn.Conv2d(3, 64, 3, foo=1)", "3x8x8")
        2
    """
    import json
    import sys

    try:
        t = translate(call, input_text, dtype=dtype)
    except SpecError as exc:
        text = " ".join(str(exc).split())
        print(f"error: {text}", file=sys.stderr)
        return 2
    except (MemoryError, RecursionError, OverflowError) as exc:  # past a bound we missed
        print(f"error: {call[:60]!r}: {type(exc).__name__}: {exc}"[:400], file=sys.stderr)
        return 2
    if fmt == "json":
        print(json.dumps(t.to_dict(), indent=2, allow_nan=False))
    else:
        print(render_text(t))
    return 0 if t.status == "ok" else 1
