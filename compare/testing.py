"""Equivalence checks for users' own test suites, and the ``compare`` pytest plugin.

``assert_equivalent(torch_module, keras_model, input="1x28x28")`` reads both models into
specs, checks they describe the same network, ports the torch weights into a copy of the
Keras model (or, with ``weights="own"``, keeps each model's own weights), runs both on
seeded random inputs and fails with an ``AssertionError`` that names the first layer
where the specs or the outputs differ. The plugin (entry point ``pytest11``) adds the
fixture ``compare_equivalent`` and the ini options ``compare_atol`` / ``compare_rtol``.

Importing this module imports neither torch nor keras (pytest loads it in every run).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from compare.diff.canonical import canonical_order, commutes
from compare.errors import SpecError
from compare.importers.base import Mismatch, Reading, read_both, spec_differences
from compare.spec import Model

__all__ = ["Divergence", "Equivalence", "assert_equivalent", "check_equivalent"]

WEIGHTS = ("port", "own")


@dataclass(frozen=True)
class Divergence:
    """Where the two models' outputs first differ beyond tolerance.

    Example:
        >>> d = Divergence(3, "dense", "fc", "dense", 0.8, 1e-5, 10, 20)
        >>> d.index, d.bad, d.size
        (3, 10, 20)
    """

    index: int
    kind: str
    torch: str
    keras: str
    max_abs_err: float
    allowed: float
    bad: int
    size: int


@dataclass(frozen=True)
class Equivalence:
    """The outcome of ``check_equivalent``: spec mismatches, or measured outputs.

    ``errors[i]`` is the largest absolute difference after layer ``i``.

    Example:
        >>> Equivalence(True, (), None, (0.0,), "equivalent").ok
        True
    """

    ok: bool
    mismatches: tuple[Mismatch, ...]
    divergence: Divergence | None
    errors: tuple[float, ...]
    message: str


def _where(reading: Reading, index: int) -> str:
    return reading.imported.where(index)


def _read(torch_module: Any, keras_model: Any, input: Any) -> tuple[Reading, Reading]:
    import keras

    from compare.importers.keras import read_keras
    from compare.importers.torch import read_torch

    if not isinstance(keras_model, keras.Model):
        raise SpecError(f"keras_model must be a keras.Model, got {type(keras_model).__name__}")
    try:
        clone = keras.models.clone_model(keras_model)
        clone.set_weights(keras_model.get_weights())
    except (ValueError, TypeError, NotImplementedError) as exc:
        text = " ".join(str(exc).split())[:200]
        raise SpecError(
            f"cannot copy the Keras model {keras_model.name!r} with keras.models.clone_model "
            f"({text}); compare reads Sequential and functional models"
        ) from exc
    readings = read_both(
        [
            ("torch", lambda: read_torch(torch_module, input)),
            ("keras", lambda: read_keras(clone, input)),
        ]
    )
    return readings["torch"], readings["keras"]


def _port(rt: Reading, rk: Reading, kt: list[int], kk: list[int]) -> None:
    """Torch weights -> the Keras copy, layer by layer (torch layer ``kt[j]`` is Keras
    layer ``kk[j]``), through the layout data."""
    from compare.adapters import get_adapter
    from compare.formulas import infer
    from compare.parity import port_weights

    adapter = get_adapter("keras")
    model = rk.imported.model
    formulas = infer(model)
    for it, ik in zip(kt, kk):
        weights = rt.imported.weights[it]
        if not weights:
            continue
        layer, formula, built = model.layers[ik], formulas[ik], rk.builts[ik]
        shapes = {role: a.shape for role, a in adapter.get_weights(built).items()}
        adapter.set_weights(built, port_weights(layer, formula, weights, shapes, to="keras"))


def _kept(reading: Reading) -> list[int]:
    """Layers that are not the identity at inference (``Layer.inference_identity``):
    present on one side only, those are no structural difference. A graph's layers
    come in its canonical order (``compare.diff.canonical``), so that two libraries'
    orders of the same graph pair up."""
    model = reading.imported.model
    layers = model.layers
    kept = [i for i, layer in enumerate(layers) if not layer.inference_identity]
    if not model.wiring:
        return kept
    keep = set(kept)
    return [i for i in canonical_order(model) if i in keep]


def _paired(model: Model, kept: list[int]) -> tuple[Model, list[int]]:
    """The model with only the ``kept`` layers, and the index in ``model`` of each of
    its layers; a left-out layer's readers read its input instead."""
    if not model.wiring:
        if len(kept) == len(model.layers) or not kept:
            return model, list(range(len(model.layers)))
        return Model(model.name, model.input, tuple(model.layers[i] for i in kept)), kept
    nodes = model.graph.nodes
    alias = {"input": "input"}
    keep = set(kept)
    for i, node in enumerate(nodes):
        alias[node.name] = node.name if i in keep else alias[node.inputs[0]]
    wiring = tuple((nodes[i].name, tuple(alias[name] for name in nodes[i].inputs)) for i in kept)
    outputs = tuple(dict.fromkeys(alias[name] for name in model.graph.outputs))
    paired = Model(model.name, model.input, tuple(model.layers[i] for i in kept), wiring, outputs)
    at = {node.name: i for i, node in enumerate(nodes)}
    return paired, [at[name] for name, _ in paired.wiring]


def _wiring_differences(torch_model: Model, keras_model: Model) -> list[Mismatch]:
    """Where two graphs (their nodes in the same order) connect their nodes differently."""
    if not torch_model.wiring and not keras_model.wiring:
        return []
    out: list[Mismatch] = []

    def sources(model: Model) -> list[tuple[Any, ...]]:
        index = {node.name: i for i, node in enumerate(model.graph.nodes)}
        index["input"] = -1
        return [
            tuple("input" if index[n] < 0 else index[n] for n in node.inputs)
            for node in model.graph.nodes
        ]

    for i, (a, b) in enumerate(zip(sources(torch_model), sources(keras_model))):
        layer = torch_model.layers[i]
        # an add's inputs in any order are one connection
        same = sorted(a, key=str) == sorted(b, key=str) if commutes(layer) else a == b
        if not same:
            out.append(Mismatch(i, layer.kind, "inputs (layer numbers)", a, b))
    return out


def _no_op_note(rt: Reading, rk: Reading, kt: list[int], kk: list[int]) -> str:
    nt = len(rt.imported.model.layers) - len(kt)
    nk = len(rk.imported.model.layers) - len(kk)
    if nt == nk:
        return ""
    return (
        f" (dropout, the identity at inference, left out of the pairing: torch has {nt}, "
        f"keras {nk})"
    )


def _run(reading: Reading, x: Any, to_numpy: Any) -> list[Any]:
    """The value after each layer, in the source framework's usual layout."""
    return [to_numpy(y) for y in reading.values(x)]


def _probe(model: Any, seed: int, batch: int) -> np.ndarray:
    """Seeded random inputs: normal floats (channels first), or token ids below the
    first layer's vocabulary for an integer input."""
    rng = np.random.default_rng(seed)
    if model.input.dtype == "int":
        high = model.layers[0].input_high()
        return rng.integers(0, high, (batch, *model.input.size))
    dims = (model.input.channels, *model.input.size)
    return rng.standard_normal((batch, *dims)).astype("float32")


def _spec_message(
    mismatches: list[Mismatch], rt: Reading, rk: Reading, kt: list[int], kk: list[int]
) -> str:
    first = mismatches[0]
    lines = [f"the torch and keras models describe different networks: {first}"]
    if first.index is not None and first.index < min(len(kt), len(kk)):
        where_t, where_k = _where(rt, kt[first.index]), _where(rk, kk[first.index])
        lines.append(f"  torch: {where_t}; keras: {where_k}")
    lines += [f"  also {m}" for m in mismatches[1:6]]
    return "\n".join(lines)


def _patterns(allow: Any) -> list[str]:
    """``allow`` checked: a list of pattern strings (a bare string is refused, as it
    would read as one pattern per character)."""
    if isinstance(allow, str) or not isinstance(allow, (list, tuple)):
        raise SpecError(
            f"allow={allow!r} must be a list of difference keys or fnmatch patterns "
            "(e.g. ['batch_norm.epsilon'])"
        )
    for item in allow:
        if not isinstance(item, str):
            raise SpecError(f"allow item {item!r} must be a string (a difference key or pattern)")
    return list(allow)


def _allowed(torch_module: Any, keras_model: Any, input: Any, allow: list[str]) -> Any:
    """The verdict of a diff against the allowed differences; None when the two do not
    differ at all (their outputs are then compared)."""
    from compare.diff.engine import diff

    found = diff(torch_module, keras_model, input=input)
    if found.same:
        return None
    new = found.unexpected(allow)
    if new:
        mismatches = tuple(Mismatch(None, d.category, d.key, d.torch, d.keras) for d in new)
        lines = [
            f"  {d.key}: torch {d.torch!r}, keras {d.keras!r} at {len(d.places)} "
            f"place(s), first {d.places[0]}"
            for d in new
        ]
        message = f"{len(new)} difference(s) not in allow={allow!r}:\n" + "\n".join(lines)
        return Equivalence(False, mismatches, None, (), message)
    keys = sorted({d.key for d in found.differences})
    return Equivalence(True, (), None, (), f"differ only as allowed: {', '.join(keys)}")


def check_equivalent(
    torch_module: Any,
    keras_model: Any,
    *,
    input: Any,
    atol: float = 1e-5,
    rtol: float = 1e-4,
    seed: int = 0,
    batch: int = 2,
    weights: str = "port",
    allow: Sequence[str] | None = None,
) -> Equivalence:
    """Read both models, compare their specs, then their outputs layer by layer.

    Neither model is changed: the torch module is read through a deep copy and the
    weights go into a clone of the Keras model. Raises ``SpecError`` (an
    ``UnmappableError`` naming every part) when a model cannot be read.

    Example:
        >>> import keras
        >>> import torch
        >>> torch_net = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.Flatten(),
        ...                                 torch.nn.Linear(2 * 4 * 4, 3))
        >>> keras_net = keras.Sequential([keras.Input((6, 6, 1)), keras.layers.Conv2D(2, 3),
        ...                               keras.layers.Flatten(), keras.layers.Dense(3)])
        >>> check_equivalent(torch_net, keras_net, input="1x6x6").ok
        True

    ``allow`` pins the differences expected between the two implementations
    (``fnmatch`` patterns over ``compare.diff.Difference.key``, such as
    ``"batch_norm.epsilon"`` or ``"conv.*"``): the models are diffed
    (``compare.diff``) and any difference no pattern matches fails; when every
    difference is allowed the check passes without comparing outputs (the two
    networks are known to differ); when there is none the outputs are compared.
    """
    if weights not in WEIGHTS:
        raise SpecError(f"weights={weights!r} must be one of {', '.join(WEIGHTS)}")
    if allow is not None:
        allowed = _allowed(torch_module, keras_model, input, _patterns(allow))
        if allowed is not None:
            return allowed
    rt, rk = _read(torch_module, keras_model, input)
    kt, kk = _kept(rt), _kept(rk)
    if not kt or not kk:  # nothing but dropout on a side: compare every layer
        kt, kk = (
            list(range(len(rt.imported.model.layers))),
            list(range(len(rk.imported.model.layers))),
        )
    note = _no_op_note(rt, rk, kt, kk)
    model, kt = _paired(rt.imported.model, kt)
    other, kk = _paired(rk.imported.model, kk)
    mismatches = spec_differences(model, other)
    if not mismatches and len(model.layers) == len(other.layers):
        mismatches = _wiring_differences(model, other)
    if mismatches:
        message = _spec_message(mismatches, rt, rk, kt, kk) + note
        return Equivalence(False, tuple(mismatches), None, (), message)
    if weights == "port":
        _port(rt, rk, kt, kk)
    import keras
    import torch

    from compare.formulas import infer
    from compare.layouts import activation_to_keras

    x = _probe(model, seed, batch)
    first = next((w for ws in rt.imported.weights for w in ws.values()), None)
    dtype = torch.float64 if first is not None and first.dtype == np.float64 else torch.float32
    x_t = torch.from_numpy(x) if model.input.dtype == "int" else torch.from_numpy(x).to(dtype)
    with torch.no_grad():
        ys_t = _run(rt, x_t, lambda t: t.numpy())
    x_k = activation_to_keras(x, infer(model)[0].input)
    ys_k = _run(rk, x_k, keras.ops.convert_to_numpy)
    ys_t, ys_k = [ys_t[i] for i in kt], [ys_k[i] for i in kk]
    errors: list[float] = []
    divergence = None
    for index, (formula, y_t, y_k) in enumerate(zip(infer(model), ys_t, ys_k)):
        a = activation_to_keras(y_t.astype(np.float64), formula.output)
        b = np.asarray(y_k, dtype=np.float64)
        err = np.abs(a - b)
        allowed = atol + rtol * np.abs(b)
        errors.append(float(err.max()) if err.size else 0.0)
        bad = err > allowed
        if divergence is None and (bad.any() or not np.all(np.isfinite(err))):
            worst = int(np.argmax(err - allowed))
            divergence = Divergence(
                kt[index],
                model.layers[index].kind,
                _where(rt, kt[index]),
                _where(rk, kk[index]),
                float(err.flat[worst]),
                float(allowed.flat[worst]),
                int(bad.sum()),
                int(err.size),
            )
    if divergence is None:
        return Equivalence(True, (), None, tuple(errors), "equivalent" + note)
    d = divergence
    message = (
        f"the outputs diverge first after layer {d.index} ({d.kind}; torch: {d.torch}, "
        f"keras: {d.keras}): max |torch - keras| = {d.max_abs_err:.3g} where "
        f"atol + rtol*|keras| = {d.allowed:.3g} (atol={atol}, rtol={rtol}); "
        f"{d.bad} of {d.size} values out of tolerance; final output max error "
        f"{errors[-1]:.3g} (weights: {'torch ported to keras' if weights == 'port' else 'own'})"
    ) + note
    return Equivalence(False, (), divergence, tuple(errors), message)


def assert_equivalent(
    torch_module: Any,
    keras_model: Any,
    *,
    input: Any,
    atol: float = 1e-5,
    rtol: float = 1e-4,
    seed: int = 0,
    batch: int = 2,
    weights: str = "port",
    allow: Sequence[str] | None = None,
) -> None:
    """Fail with an ``AssertionError`` naming the first differing layer unless the torch
    module and the Keras model compute the same network (see ``check_equivalent``).

    ``input`` is the channels-first input shape without the batch axis (``"1x28x28"``;
    a sequence of 10 steps of 16 features is ``"16x10"``, even when the torch module
    opens with a ``batch_first`` RNN taking (N, 10, 16); ``"int:12"`` is 12 token ids);
    ``weights="port"`` ports the torch weights into a copy of the Keras model,
    ``weights="own"`` checks the two models' own (already ported) weights; ``allow``
    lists the differences expected between them (see ``check_equivalent``).

    Example:
        >>> import keras
        >>> import torch
        >>> torch_net = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3, bias=False))
        >>> assert_equivalent(torch_net, keras.Sequential([keras.Input((6, 6, 1)),
        ...     keras.layers.Conv2D(2, 3, use_bias=False)]), input="1x6x6")
        >>> assert_equivalent(torch_net, keras.Sequential([keras.Input((6, 6, 1)),
        ...     keras.layers.Conv2D(2, 3)]), input="1x6x6")
        Traceback (most recent call last):
        ...
        AssertionError: the torch and keras models describe different networks:
        layer 0 (conv): use_bias: torch False, keras True
        ...
    """
    try:
        result = check_equivalent(
            torch_module,
            keras_model,
            input=input,
            atol=atol,
            rtol=rtol,
            seed=seed,
            batch=batch,
            weights=weights,
            allow=allow,
        )
    except SpecError as exc:
        raise AssertionError(f"cannot compare the models: {exc}") from exc
    if not result.ok:
        raise AssertionError(result.message)


try:  # the pytest plugin; the helpers above work without pytest
    import pytest
except ImportError:  # pragma: no cover - pytest is a dev dependency only
    pytest = None  # type: ignore[assignment]

if pytest is not None:

    def pytest_addoption(parser: Any) -> None:
        """Ini options: default tolerances of the ``compare_equivalent`` fixture."""
        parser.addini("compare_atol", "compare_equivalent: default atol", default="1e-5")
        parser.addini("compare_rtol", "compare_equivalent: default rtol", default="1e-4")

    @pytest.fixture
    def compare_equivalent(request: Any) -> Callable[..., None]:
        """``assert_equivalent`` with the ini tolerances as defaults: one line per pair.

        Example, a test in the user's suite (the fixture is pytest's to call, so this is
        not a doctest; tests/test_testing.py runs it in a pytester suite)::

            def test_ports(compare_equivalent):
                compare_equivalent(Net(), make_keras(), input="1x28x28")
        """
        config = request.config
        defaults = {
            "atol": float(config.getini("compare_atol")),
            "rtol": float(config.getini("compare_rtol")),
        }

        def check(torch_module: Any, keras_model: Any, **kwargs: Any) -> None:
            __tracebackhide__ = True
            assert_equivalent(torch_module, keras_model, **{**defaults, **kwargs})

        return check
