"""Compare models: build both sides, port, run, measure, and collect records.

``compare(model)`` never raises for a model that fails: an invalid spec, an
unsupported layer, a parity mismatch or a framework error becomes a status in the
result, so one bad model never sinks a batch.

A layer's fresh constant weights (a norm's scale, shift and running statistics: ones
and zeros) would let a wrong port pass, so the PyTorch side gets random values before
they are ported, in the ranges its family registers by kind
(``register_part(ANY, "state_ranges", kind)``: role -> (low, high)); initialisers
are measured before that.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from compare import layouts
from compare.adapters import get_adapter
from compare.adapters.base import Built, Unsupported
from compare.core.registry import differences_part
from compare.core.work import elements
from compare.defaults import default_rows, spec_values, user_set
from compare.differences import layer_differences
from compare.errors import SpecError
from compare.limits import MAX_COUNT_BATCH
from compare.naive import Context, naive_checks
from compare.parity import build, measure
from compare.records import (
    FRAMEWORKS,
    FrameworkLayer,
    Initialiser,
    LayerResult,
    ModelResult,
    Parity,
    Status,
)

__all__ = ["SHAPE_ONLY", "Comparison", "compare", "compare_model", "state_ranges"]

#: The parity detail of a shape-only comparison.
SHAPE_ONLY = "shape-only: weights never allocated, nothing ported or run"


def _spec_of(model: Any, node: Any) -> dict[str, Any]:
    """A layer's spec as records show it; in a graph, with its node name and inputs."""
    spec: dict[str, Any] = node.layer.to_dict()
    if not getattr(model, "wiring", ()):
        return spec
    return {"kind": spec.pop("kind"), "name": node.name, "inputs": list(node.inputs), **spec}


def _shape_of(x: Any) -> Any:
    """The shape of an input (a list of shapes for a node reading several values)."""
    return [a.shape for a in x] if isinstance(x, list) else x.shape


def _observed(y: Any) -> tuple[int | None, ...]:
    return (None, *(int(d) for d in y.shape[1:]))


@dataclass(frozen=True)
class _Shaped:
    """Stands in for an activation in shape-only mode: its shape, and no data."""

    shape: tuple[int, ...]


#: The measured standard deviation of a fresh weight uses at most this many of its
#: values (an even stride through the array): ample for three significant digits, and
#: a large layer's millions of values are not all summed twice per framework.
STD_SAMPLE = 65_536


def _measured_std(values: np.ndarray) -> float:
    """Population standard deviation, two passes in float64."""
    flat = values.reshape(-1)
    if flat.size > STD_SAMPLE:
        flat = flat[:: -(-flat.size // STD_SAMPLE)]
    if not flat.size:
        return float("nan")
    wide = flat.astype(np.float64)
    centred = wide - wide.sum() / wide.size
    return math.sqrt(float(centred @ centred) / wide.size)


def _initialisers(
    adapter: Any, built: Any, fresh: dict[str, np.ndarray] | None = None
) -> list[Initialiser]:
    """Default initialisers of a freshly built layer, measured on ``fresh``, its role
    arrays read before any port (None: Keras measures what its build drew,
    ``KerasAdapter.fresh_stds``)."""
    theory = adapter.initialisers(built)
    if fresh is None:
        measured = adapter.fresh_stds(built, _measured_std, [r for r in theory if r in built.roles])
    else:
        measured = {role: _measured_std(fresh[role]) for role in theory if role in fresh}
    return [
        Initialiser(role, adapter.name, name, std, measured[role])
        for role, (name, std) in theory.items()
        if role in measured
    ]


def state_ranges(kind: str) -> Mapping[str, tuple[float, float]]:
    """Role -> (low, high) of the uniform draw a kind's constant fresh weights get
    before porting (none for most kinds).

    Example:
        >>> state_ranges("no_such_kind")
        {}
    """
    ranges: Mapping[str, tuple[float, float]] = differences_part("state_ranges", kind) or {}
    return ranges


def _randomise_state(
    adapter: Any,
    built: Any,
    rng: np.random.Generator,
    dtype: str,
    ranges: Mapping[str, tuple[float, float]],
) -> dict[str, np.ndarray]:
    """Give the roles in ``ranges`` (a norm's scale, shift and statistics) random
    non-trivial values (the fresh ones, ones and zeros, would let a wrong port pass);
    returns the role arrays set."""
    if not ranges:
        return {}
    new = {
        role: rng.uniform(*ranges[role], size=shape).astype(dtype)
        for role, shape in adapter.weight_shapes(built).items()
        if role in ranges
    }
    if new:
        adapter.set_weights(built, new)
    return new


def compare_model(
    model: Any,
    *,
    dtype: str = "float32",
    seed: int = 0,
    batch: int = 2,
    parity: bool = True,
    diagnostics: bool = True,
    count: bool = False,
    count_batch: int = 1,
) -> ModelResult:
    """Compare one model (a ``Model``, an ``Imported`` one carrying the user's weights,
    or a ``SpecError`` met while loading it).

    An ``Imported`` model runs with its own weights, ported from its source framework
    (torch -> keras or keras -> torch); a plain spec runs with seeded torch weights
    ported to keras.

    ``parity=False`` is the shape-only mode: both sides are built without weight
    memory (torch on the ``meta`` device, Keras variables left uninitialised), the
    facts and output shapes are read back from the frameworks as usual, and nothing
    is ported or run (parity ``skipped``). It then clears Keras' global session.

    ``diagnostics=False`` keeps the facts and the parity check but skips the two
    measurements that cost framework work beyond building, porting and running:
    what naive ports get wrong (one more forward per layer, ``compare.naive``) and
    the initialisers' std measured on the fresh weights (a read of every weight).
    Differences are still named and explained; they carry no naive-port error, and
    the layers no initialisers. A plain spec's Keras initialisers are then not drawn
    at all: torch's seeded weights overwrite them in the port and nobody reads them.

    ``count=True`` also runs each framework's own FLOP counter once on the whole
    model at batch 1 (``compare.counting``: PyTorch's ``FlopCounterMode``,
    TensorFlow's profiler on the frozen Keras forward), attributes the FLOPs to the
    layers, names why they differ from the formulas' MACs, and reads the parameter
    and buffer bytes each framework holds; in shape-only mode too (PyTorch's counter
    runs on the meta device, TensorFlow's reads the graph; the kinds that are not
    ``counted_shape_only`` get no figure there). The formulas' MACs and the
    activation bytes are always there.

    ``count_batch=N`` gives the work and memory figures for a batch of N samples:
    the counters' batch-1 FLOPs, the formulas' MACs and the activation bytes times N;
    parameter bytes do not change. (``batch`` is the size of the random input the
    parity check runs on.)

    Example:
        >>> from compare.spec import Input, Model, Conv
        >>> m = Model("m", Input(1, (8, 8)), (Conv(filters=2, kernel_size=3),))
        >>> compare_model(m).parity.status, compare_model(m, parity=False).parity.status
        ('ok', 'skipped')
        >>> compare_model(m, diagnostics=False).layers[0].initialisers
        ()
        >>> compare_model(m, count=True).layers[0].frameworks["torch"].flops  # 2 * 2*6*6*9
        1296
        >>> compare_model(m, parity=False, count=True, count_batch=4).totals()["formula_macs"]
        2592
    """
    if isinstance(model, SpecError):
        return ModelResult(getattr(model, "model_name", "?"), None, (), error=str(model))
    from compare.importers.base import Imported

    source = model if isinstance(model, Imported) else None
    if source is not None:
        model = source.model
    shape_only = not parity
    if isinstance(count_batch, bool) or not isinstance(count_batch, int):
        raise TypeError(f"count_batch={count_batch!r} must be an int")
    if not 1 <= count_batch <= MAX_COUNT_BATCH:
        raise ValueError(
            f"count_batch={count_batch} must be in [1, {MAX_COUNT_BATCH}] "
            "(the batch size the work and memory figures are given at)"
        )
    try:
        pair = build(
            source or model,
            dtype=dtype,
            seed=seed,
            shape_only=shape_only,
            adopt=True,
            keep_fresh=diagnostics,
        )
    except SpecError as exc:
        return ModelResult(model.name, model.input.to_dict(), (), error=str(exc), dtype=dtype)
    try:
        counts, failed = _counts(pair, count_batch, shape_only) if count else (None, None)
        result = _compare_pair(
            model, pair, dtype, seed, batch, shape_only, diagnostics, counts, count_batch
        )
        if failed is not None and result.layers:
            first = result.layers[0]
            notes = (*first.count_notes, failed)
            result = replace(result, layers=(replace(first, count_notes=notes), *result.layers[1:]))
        return result
    finally:
        if shape_only:
            # Keras holds uninitialised variables in a global list until the session
            # is cleared; left there, its next symbolic call would allocate them all.
            get_adapter("keras").clear()


def _loaded(pair: Any, index: int, name: str, dtype: str) -> dict[str, np.ndarray] | None:
    """The imported arrays ``name``'s layer ``index`` was loaded from, when they are
    exactly what it holds (its own framework, the run's dtype); else None."""
    if name != pair.weights_from or index >= len(pair.loaded):
        return None
    arrays = pair.loaded[index]
    if all(a.dtype == np.dtype(dtype) for a in arrays.values()):
        return dict(arrays)
    return None


#: Why a layer has no counter figures in shape-only mode (``Layer.counted_shape_only``).
NOT_COUNTED_SHAPE_ONLY = (
    "not counted in shape-only mode: on real data this layer runs a fused kernel whose "
    "work the counters count otherwise than on a model without weight values; compare "
    "with parity to count it"
)


def _counts(pair: Any, batch: int, shape_only: bool) -> tuple[Any, str | None]:
    """Both frameworks' counters on ``pair`` at batch 1, scaled to ``batch`` samples; a
    counter that fails is a note, not a crash. In shape-only mode the layers whose
    kind is not ``counted_shape_only`` get no figure (None)."""
    from compare.counting import Counts, count_pair

    try:
        counts = count_pair(pair)
    except Exception as exc:  # a framework counter refusing the model
        return None, f"counting failed: {type(exc).__name__}: {' '.join(str(exc).split())[:300]}"
    if shape_only:
        skip = {i for i, layer in enumerate(pair.model.layers) if not layer.counted_shape_only}
        counts = {
            name: Counts(
                {i: None if i in skip else v for i, v in c.per_node.items()}, c.unattributed
            )
            for name, c in counts.items()
        }
    return {name: c.scaled(batch) for name, c in counts.items()}, None


def _compare_pair(
    model: Any,
    pair: Any,
    dtype: str,
    seed: int,
    batch: int,
    shape_only: bool,
    diagnostics: bool,
    counts: Any = None,
    count_batch: int = 1,
) -> ModelResult:
    from compare.counting import ITEMSIZE, array_bytes, explain, held_bytes, peak_activation_bytes

    rng = np.random.default_rng(seed)
    # the norms' random state values: made when a layer first has some (32 us a model)
    state_rngs: list[np.random.Generator] = []

    def fresh(index: int, position: int = 0) -> tuple[Any, Any]:
        shape = pair.formulas[index].input_shapes[position]
        dims = [int(d) for d in shape.torch()[1:] if d is not None]
        if shape_only:  # only the shapes are used: no data allocated
            keras_dims = [int(d) for d in shape.keras()[1:] if d is not None]
            return _Shaped((batch, *dims)), _Shaped((batch, *keras_dims))
        if shape.dtype == "int":  # token ids in [0, vocabulary) for the embedding
            high = model.layers[index].input_high()
            x = rng.integers(0, high, (batch, *dims), dtype=np.int64)
        else:
            x = rng.standard_normal((batch, *dims)).astype(dtype)
        return x, layouts.activation_to_keras(x, shape)

    results: list[LayerResult] = []
    graph = model.graph
    # Each value by name: (torch array, keras array), or None where its node failed
    # (the nodes reading it then run on fresh random input, and the end is not chained).
    values: dict[str, tuple[Any, Any] | None] = {graph.inputs[0]: fresh(0)}
    # A value is released after its last reader: a chain keeps one activation alive.
    last_read = {name: i for i, n in enumerate(graph.nodes) for name in n.inputs}
    chained = True
    for index, (node, formula) in enumerate(zip(graph.nodes, pair.formulas)):
        layer = node.layer
        given = [values[name] for name in node.inputs]
        operands = [v if v is not None else fresh(index, i) for i, v in enumerate(given)]
        x_t: Any
        x_k: Any
        if len(operands) == 1:
            x_t, x_k = operands[0]
        else:  # a merge reads several values: each framework gets the list
            x_t, x_k = [t for t, _ in operands], [k for _, k in operands]
        records: dict[str, FrameworkLayer] = {}
        outputs: dict[str, Any] = {}
        notes: dict[str, Any] = {}
        errors: dict[str, str] = {}
        inits: list[Initialiser] = []
        # Role arrays as they stand after the port, each read from its framework once
        # and shared by the initialiser measurement, the port and the naive checks.
        read: dict[str, dict[str, np.ndarray]] = {}
        for name in FRAMEWORKS:
            adapter = get_adapter(name)
            built = pair.sides[name].layers[index]
            if isinstance(built, Unsupported):
                records[name] = FrameworkLayer(name, False, str(built))
                continue
            assert isinstance(built, Built)
            notes[name] = built.notes
            facts = adapter.facts(built, layer, formula)
            x = x_t if name == "torch" else x_k
            if shape_only:
                try:
                    x_dtype = "int64" if formula.input.dtype == "int" else dtype  # token ids
                    outputs[name] = _Shaped(adapter.output_shape(built, _shape_of(x), x_dtype))
                except Exception as exc:  # framework refusing the shape
                    errors[name] = f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"
            else:
                if pair.weights_from is not None:  # an import keeps its own, already ported
                    # read only for the diagnostics; the source side holds the arrays
                    # the import gave, so those are used instead of a copy read back
                    if diagnostics:
                        fresh_weights = _loaded(pair, index, name, dtype)
                        if fresh_weights is None:  # the ported side: read, not copied
                            fresh_weights = adapter.weight_views(built)
                        inits += _initialisers(adapter, built, fresh_weights)
                        read[name] = fresh_weights
                elif name == "torch":
                    fresh_weights = adapter.get_weights(built)
                    if diagnostics:
                        inits += _initialisers(adapter, built, fresh_weights)
                    ranges = state_ranges(layer.kind)
                    if ranges:
                        if not state_rngs:
                            state_rngs.append(np.random.default_rng(seed + 1))
                        fresh_weights.update(
                            _randomise_state(adapter, built, state_rngs[0], dtype, ranges)
                        )
                    read[name] = fresh_weights
                else:
                    # keras' fresh weights are measured (a draw once), never kept: the port
                    # overwrites them
                    if diagnostics:
                        inits += _initialisers(adapter, built)
                    if "torch" in outputs:  # keras: its fresh weights give way to torch's
                        try:
                            pair.port_layer(index, src="torch", dst="keras", weights=read["torch"])
                        except Exception as exc:  # a port failure is a result, not a crash
                            errors[name] = f"port failed: {type(exc).__name__}: {exc}"
                try:
                    outputs[name] = adapter.run(built, x)
                except Exception as exc:  # framework refusing at run time
                    errors[name] = f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"
            observed = _observed(outputs[name]) if name in outputs else None
            held = held_bytes(name, built) if counts is not None else (None, None)
            records[name] = FrameworkLayer(
                name,
                True,
                None,
                built.classes,
                output_shape=observed,
                notes=tuple(text for _, text in built.notes),
                weights=facts.weights,
                trainable_params=facts.trainable_params,
                non_trainable_params=facts.non_trainable_params,
                buffers=facts.buffers,
                flops=counts[name].per_node.get(index) if counts is not None else None,
                param_bytes=held[0],
                buffer_bytes=held[1],
                activation_bytes=array_bytes(observed, dtype, count_batch),
            )
        naive: dict[str, Any] = {}
        if shape_only and len(outputs) == 2 and not errors:
            parity = Parity(Status.SKIPPED, detail=SHAPE_ONLY)
        elif len(outputs) == 2 and not errors:
            y_t, y_k = outputs["torch"], outputs["keras"]
            parity = measure(layouts.activation_to_keras(y_t, formula.output), y_k, dtype)
            if diagnostics and len(node.inputs) == 1:
                naive = naive_checks(Context(pair, index, x_t, x_k, y_t, y_k, read))
        elif errors:
            parity = Parity(Status.ERROR, detail="; ".join(f"{k}: {v}" for k, v in errors.items()))
        else:
            reasons = [f"{r.framework}: {r.reason}" for r in records.values() if not r.supported]
            parity = Parity(Status.UNSUPPORTED, detail="; ".join(reasons))
        defaults = default_rows(
            spec_values(layer),
            user_set(layer),
            get_adapter("torch").defaults(layer, formula),
            get_adapter("keras").defaults(layer, formula),
        )
        diffs = layer_differences(
            layer, formula, records["torch"], records["keras"], notes, naive, defaults
        )
        work = layer.forward_work(formula)
        work = None if work is None else work.scaled(count_batch)
        count_notes: tuple[str, ...] = ()
        if counts is not None and shape_only and not layer.counted_shape_only:
            count_notes = (NOT_COUNTED_SHAPE_ONLY,)
        elif counts is not None:
            count_notes = explain(work, torch=records["torch"].flops, keras=records["keras"].flops)
        results.append(
            LayerResult(
                index,
                layer.kind,
                _spec_of(model, node),
                formula.params,
                formula.expression,
                {"torch": formula.output.torch(), "keras": formula.output.keras()},
                records,
                diffs,
                parity,
                defaults,
                tuple(inits),
                work,
                count_notes,
            )
        )
        if parity.status in ("ok", "mismatch", "skipped"):
            values[node.name] = (outputs["torch"], outputs["keras"])
        else:
            chained = False
            values[node.name] = None
        for name in dict.fromkeys(node.inputs):  # a value read twice is released once
            if last_read[name] == index:
                del values[name]

    last = results[-1].parity
    if chained and shape_only:
        end = Parity(Status.SKIPPED, detail=SHAPE_ONLY)
    elif chained:
        end = Parity(last.status, last.max_abs_err, last.max_rel_err, last.tolerance, last.detail)
    else:
        bad = [r for r in results if r.parity.status not in ("ok", "mismatch")]
        first = bad[0]
        end = Parity(
            Status.ERROR if any(r.parity.status == "error" for r in bad) else Status.UNSUPPORTED,
            detail=f"layer {first.index} ({first.kind}): {first.parity.detail}",
        )
    if end.status == "ok" and any(r.parity.status == "mismatch" for r in results):
        end = Parity(Status.MISMATCH, end.max_abs_err, end.max_rel_err, end.tolerance, end.detail)
    first = pair.formulas[0].input
    input_bytes = count_batch * elements(first) * (8 if first.dtype == "int" else ITEMSIZE[dtype])
    peaks = {
        name: peak_activation_bytes(
            graph, input_bytes, [r.frameworks[name].activation_bytes for r in results]
        )
        for name in FRAMEWORKS
    }
    return ModelResult(
        model.name,
        model.input.to_dict(),
        tuple(results),
        end,
        dtype=dtype,
        peak_activation_bytes=peaks,
        count_batch=count_batch,
        unattributed_flops=(
            {name: c.unattributed for name, c in counts.items()} if counts is not None else {}
        ),
    )


@dataclass(frozen=True)
class Comparison:
    """The result of comparing one or more models.

    Example:
        >>> from compare.catalog import seed_model
        >>> result = compare(seed_model())
        >>> result.to_frame().query("framework == 'keras'")["trainable_params"].tolist()
        [400, 2888, 0, 46090]
    """

    models: tuple[ModelResult, ...]

    def to_frame(self) -> Any:
        """A tidy DataFrame: one row per layer per framework (see ``compare.table``)."""
        from compare.table import to_frame

        return to_frame(self.models)

    def to_dict(self) -> dict[str, Any]:
        """The JSON document (``{"models": [...]}``)."""
        return {"models": [m.to_dict() for m in self.models]}

    @property
    def differences(self) -> list[tuple[str, int, Any]]:
        """Every named difference as (model name, layer index, Difference)."""
        return [(m.name, i, d) for m in self.models for i, d in m.differences]

    @property
    def ok(self) -> bool:
        """True when every model compared and every parity check passed."""
        return all(m.status == "ok" for m in self.models)

    def __getitem__(self, index: int) -> ModelResult:
        return self.models[index]

    def __len__(self) -> int:
        return len(self.models)


def compare(
    models: Any,
    *,
    dtype: str = "float32",
    seed: int = 0,
    parity: bool = True,
    diagnostics: bool = True,
    count: bool = False,
) -> Comparison:
    """Compare a model, a list of models, or the models of a spec file path
    (``parity``, ``diagnostics`` and ``count`` as for ``compare_model``).

    A model read from a real one (``compare.from_torch`` / ``from_keras``) is compared
    with its own weights.

    Example:
        >>> from compare.catalog import seed_model
        >>> compare(seed_model())[0].totals()["keras"]["params"]
        49378
    """
    from compare.importers.base import Imported
    from compare.spec import Model

    if isinstance(models, Model | SpecError | Imported):
        items: Iterable[Any] = [models]
    elif isinstance(models, str) or hasattr(models, "__fspath__"):
        from compare.specfile import load_lenient

        items = load_lenient(models)
    else:
        items = list(models)
    return Comparison(
        tuple(
            compare_model(
                m, dtype=dtype, seed=seed, parity=parity, diagnostics=diagnostics, count=count
            )
            for m in items
        )
    )
