"""The other framework's side: code read back from what the adapter built, the weight
port found by probing the comparison's own port, and the printed code run for real.

Only public APIs: ``compare.build`` (a ``Pair`` built from the ``Imported`` spec; its
``load`` ports an import's weights), ``compare.importers.Imported``, and the frameworks'
own objects.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from compare.errors import SpecError
from compare.translate.parse import InputShape
from compare.translate.port import Assign, decode_target

__all__ = ["Target", "build_target"]


@dataclass
class Target:
    """What ``build_target`` found: code, port statements, activation layout, the
    printed code's own parity, or the reason there is none.

    Example:
        >>> Target(reason="no equivalent").code is None
        True
    """

    code: str | None = None
    weights: str | None = None
    activations: str | None = None
    calls: list[Any] = field(default_factory=list)
    parity: Any = None
    reason: str | None = None
    notes: list[str] = field(default_factory=list)


def _shape_text(dims: tuple[int, ...]) -> str:
    return "(N, " + ", ".join(map(str, dims)) + ")"


def _target_dims(imported: Any, name: str) -> tuple[int, ...]:
    spec_input = imported.model.input
    if spec_input.dtype == "int":
        return tuple(spec_input.size)
    if name == "torch":
        return (spec_input.channels, *spec_input.size)
    return (*spec_input.size, spec_input.channels)


def _roles(imported: Any, weights: dict[str, np.ndarray]) -> dict[tuple[int, str], str]:
    """(layer index, role) of the import -> the source layer's own weight name."""
    out: dict[tuple[int, str], str] = {}
    for index, roles in enumerate(imported.weights):
        for role, array in roles.items():
            flat = np.asarray(array).ravel()
            names = [
                n
                for n, a in weights.items()
                if a.size == flat.size and np.array_equal(a.ravel(), flat)
            ]
            if len(names) != 1:
                raise SpecError(f"the import's {role} is not one weight of the source layer")
            out[(index, role)] = names[0]
    return out


def _probe(
    imported: Any,
    dst: Any,
    roles: dict[tuple[int, str], str],
    weights: dict[str, np.ndarray],
    dtype: str,
) -> tuple[dict[tuple[int, str], Assign], list[Any]]:
    """Each target array's ``Assign``, found by porting numbered source arrays."""
    from compare import build
    from compare.importers import Imported

    pair = build(imported, dtype="float64")
    leaves = dst.leaves(getattr(pair, dst.name))

    def port(coded: dict[tuple[int, str], np.ndarray]) -> list[dict[str, np.ndarray]]:
        for leaf in leaves:
            dst.fill(leaf, np.nan)
        arrays = tuple(
            {role: coded[(i, role)] for role in layer_roles}
            for i, layer_roles in enumerate(imported.weights)
        )
        pair.load(
            Imported(imported.model, arrays, imported.source, imported.paths, imported.classes)
        )
        return [dst.state(leaf) for leaf in leaves]

    zeros = {k: np.zeros(np.shape(imported.weights[k[0]][k[1]])) for k in roles}
    base = port(zeros)
    probes: dict[str, list[dict[str, np.ndarray]]] = {}
    for key, name in roles.items():
        size = zeros[key].size
        coded = {**zeros, key: np.arange(1, size + 1, dtype=np.float64).reshape(zeros[key].shape)}
        probes[name] = port(coded)
    shapes = {name: weights[name].shape for name in probes}
    out: dict[tuple[int, str], Assign] = {}
    for index, state in enumerate(base):
        for var, value in state.items():
            if np.isnan(value).all():
                continue  # the port does not write it
            ids = {name: probe[index][var] for name, probe in probes.items()}
            assign = decode_target(ids, shapes, tuple(value.shape), dtype)
            if assign is None:
                raise SpecError(f"no numpy statement found for the port into {var}")
            out[(index, var)] = assign
    return out, leaves


def _moved(a: tuple[int, ...], src: int) -> tuple[int, ...]:
    """The shape after ``np.moveaxis(x, 1, -1)`` (``src`` 1) or ``(x, -1, 1)`` (``src`` -1)."""
    if src == 1:
        return (a[0], *a[2:], a[1])
    return (a[0], a[-1], *a[1:-1])


def _layouts(
    a: tuple[int, ...], b: tuple[int, ...], prefer: int, flat_from: tuple[int, ...] = ()
) -> list[tuple[str, Any]]:
    """Ways to lay an array of shape ``a`` out as shape ``b`` (text, function): the
    channel axis moved (``prefer`` first), or nothing, when the shapes allow it; for
    features flattened from a map of shape ``flat_from`` (in ``a``'s framework), their
    order changed between C,H,W and H,W,C."""
    out: list[tuple[str, Any]] = []
    if len(a) == 2 and a == b and len(flat_from) >= 2 and math.prod(flat_from) == a[1]:
        s, d = (-1, 1) if prefer == -1 else (1, -1)
        shown = ", ".join(map(str, flat_from))
        text = f"np.moveaxis({{}}.reshape(-1, {shown}), {s}, {d}).reshape(-1, {a[1]})"

        def reorder(x: Any, s: int = s, d: int = d) -> Any:
            return np.moveaxis(x.reshape(-1, *flat_from), s, d).reshape(len(x), -1)

        out.append(("{}", lambda x: x))
        out.append((text, reorder))
        return out
    if len(a) >= 3:
        for move in (prefer, -prefer):
            if _moved(a, move) == b:
                s, d = (1, -1) if move == 1 else (-1, 1)
                text = f"np.moveaxis({{}}, {s}, {d})"
                out.append((text, lambda x, s=s, d=d: np.moveaxis(x, s, d)))
    if a == b:
        out.append(("{}", lambda x: x))
    return out


def build_target(
    imported: Any,
    src: Any,
    dst: Any,
    layer: Any,
    model: Any,
    own_dims: tuple[int, ...],
    shape: InputShape,
    dtype: str,
) -> Target:
    """The other framework's code, port statements and activation layout for ``imported``,
    read from what its adapter builds; the printed code rebuilt and run against ``model``.

    Example (through ``translate``, which calls it with the objects it built):
        >>> from compare.translate import translate
        >>> translate("nn.ReLU()", "4").code.splitlines()[-1]
        'keras_layer = keras.layers.ReLU()'
    """
    from compare import build
    from compare.parity import measure

    pair = build(imported, dtype=dtype)
    refused = [reason for _, fw, reason in pair.unsupported() if fw == dst.name]
    if refused:
        return Target(reason=f"{dst.title} cannot build it: {refused[0]}")
    built = getattr(pair, dst.name)
    leaves = dst.leaves(built)
    try:
        calls = [dst.call(leaf) for leaf in leaves]
    except SpecError as exc:
        return Target(reason=f"the {dst.title} layers cannot be written as code: {exc}")
    dims = _target_dims(imported, dst.name)
    out_dtype = dst.dtype(leaves)
    code = dst.code(calls, out_dtype, dims, dst.input_dtype(built))

    weights = src.weights(layer)
    try:
        roles = _roles(imported, weights)
        assigns, _ = _probe(imported, dst, roles, weights, dtype)
    except SpecError as exc:
        return Target(code=code, calls=calls, reason=f"no port statements: {exc}")
    real = [dst.state(leaf) for leaf in leaves]
    for (index, key), assign in assigns.items():
        got = assign.apply(weights)
        want = real[index][key]
        if got.shape != want.shape or not np.allclose(got, want, rtol=1e-6, atol=1e-6):
            return Target(
                code=code,
                calls=calls,
                reason=f"the port statement found for {key} does not reproduce the port",
            )
    written = set(assigns)
    unwritten = dst.unwritten(calls, leaves, written)
    statements = [(index, key, assign.text) for (index, key), assign in assigns.items()]
    imports = ["import numpy as np"] + (["import torch"] if dst.name == "torch" else [])
    if assigns:
        port_text = "\n".join(
            [
                *imports,
                "",
                src.read_weights_for(layer),
                dst.write_code(statements, unwritten, calls, dims),
            ]
        )
    else:
        port_text = "# no weights to port"
        if len(calls) == 1 and dst.name == "keras":
            port_text += f"\nkeras_layer.build({(None, *dims)!r})"

    # -- run the printed code: rebuilt from its calls, ported by its statements --------
    rebuilt = dst.assemble(calls, out_dtype, dims, imported.model.input.dtype == "int")
    dst.write(rebuilt, calls, {k: a.apply(weights) for k, a in assigns.items()})
    rng = np.random.default_rng(7)
    if shape.ids:
        high = min((w.shape[0] for w in weights.values() if w.ndim), default=2)
        x = rng.integers(0, max(int(high), 1), (2, *own_dims), dtype=np.int64)
    else:
        x = rng.standard_normal((2, *own_dims)).astype("float32")
    y = src.run(model, x.astype("int32") if shape.ids and src.name == "keras" else x)
    prefer = 1 if src.name == "torch" else -1
    inputs = _layouts(tuple(x.shape), (2, *dims), prefer)
    if dst.name == "torch" and out_dtype != "float32" and not shape.ids:  # torch does not cast
        inputs = [
            (f'{text}.astype("{out_dtype}")', lambda x, f=f: f(x).astype(out_dtype))
            for text, f in inputs
        ]
    found = None
    tolerance_dtype = "float64" if y.dtype == np.float64 and out_dtype == "float64" else "float32"
    for in_text, relayout in inputs:
        y_dst = dst.run(rebuilt, relayout(x))
        flat_from = dims if x.ndim >= 3 else ()
        for out_text, back in _layouts(tuple(y_dst.shape), tuple(y.shape), -prefer, flat_from):
            parity = measure(y, back(y_dst).astype(y.dtype), tolerance_dtype)
            if found is None or (parity.status == "ok" and found[2].status != "ok"):
                found = (in_text, out_text, parity, tuple(y_dst.shape[1:]))
    if found is None:
        return Target(
            code=code,
            weights=port_text,
            calls=calls,
            reason="the printed layers do not take the source layer's input",
        )
    in_text, out_text, parity, y_dims = found
    s, d = src.name, dst.name
    out_dims = tuple(y.shape[1:])

    def said(text: str, a: tuple[int, ...], b: tuple[int, ...]) -> str:
        if text.startswith("{}"):
            return "same layout"
        if ".reshape(" in text:  # features flattened from the map the layer takes
            return (
                f"features flattened from {_shape_text(dims)}, reordered as if flattened "
                f"from {_shape_text(own_dims)}"
            )
        return f"{_shape_text(a)} -> {_shape_text(b)}"

    activations = "\n".join(
        [
            f"x_{d} = {in_text.format('x_' + s)}  # {said(in_text, own_dims, dims)}",
            f"y_{s} = {out_text.format('y_' + d)}  # {said(out_text, y_dims, out_dims)}",
        ]
    )
    return Target(code, port_text, activations, calls, parity)
