"""``diff``: read a PyTorch and a Keras model, align them, name every difference and
reconcile their parameter counts (the steps that touch the frameworks import them
lazily)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from compare.diff.align import align
from compare.diff.canonical import commutes
from compare.diff.counts import Counts, keras_counts, torch_counts
from compare.diff.records import Cause, Diff, Difference, Place, Reconciliation
from compare.errors import SpecError
from compare.importers.base import Imported, _effective, read_both

__all__ = ["diff", "differences", "reconcile"]

Pairs = list[tuple[int | None, int | None]]


def _read(torch_model: Any, keras_model: Any, input: Any) -> tuple[Imported, Imported]:
    import keras

    from compare.importers import from_keras, from_torch

    if not isinstance(keras_model, keras.Model):
        raise SpecError(f"keras_model must be a keras.Model, got {type(keras_model).__name__}")
    read = read_both(
        [
            ("torch", lambda: from_torch(torch_model, input)),
            ("keras", lambda: from_keras(keras_model)),
        ]
    )
    return read["torch"], read["keras"]


def _where(imported: Imported, index: int | None) -> str | None:
    if index is None:
        return None
    return " + ".join(imported.paths[index]) if imported.paths else f"layer {index}"


def _describe(imported: Imported, index: int) -> str:
    layer = imported.model.layers[index]
    fields = _effective(layer, imported.model.formulas[index])
    shown = ", ".join(
        f"{k}={v!r}" for k, v in fields.items() if k not in ("negative_slope", "alpha")
    )
    return f"{layer.kind}({shown})"


class _Collector:
    """Differences grouped by (category, key, torch value, keras value), places in order."""

    def __init__(self) -> None:
        self.groups: dict[tuple[Any, ...], list[Place]] = {}
        self.notes: dict[tuple[Any, ...], str] = {}
        self.values: dict[tuple[Any, ...], tuple[Any, Any]] = {}

    def add(self, category: str, key: str, a: Any, b: Any, place: Place, note: str = "") -> None:
        group = (category, key, repr(a), repr(b))
        if group not in self.groups:
            self.groups[group] = []
            self.notes[group] = note
            self.values[group] = (a, b)
        self.groups[group].append(place)

    def result(self) -> tuple[Difference, ...]:
        from compare.diff.records import CATEGORIES

        out = [
            Difference(g[0], g[1], *self.values[g], tuple(places), self.notes[g])
            for g, places in self.groups.items()
        ]
        out.sort(key=lambda d: CATEGORIES.index(d.category))
        return tuple(out)


def _strides_moved(
    ta: Imported, pairs: Pairs, strided: list[tuple[int, Any, Any]]
) -> tuple[list[tuple[int, int]], set[int]]:
    """Stride differences that are one stride placed on another layer of a branch: a
    pair (torch s, keras s') followed, before the branch's next merge, by a pair
    (torch s', keras s). Returns the position pairs and the positions used."""
    moved: list[tuple[int, int]] = []
    used: set[int] = set()
    for n, (pos, a, b) in enumerate(strided):
        if pos in used:
            continue
        for pos2, a2, b2 in strided[n + 1 :]:
            if pos2 in used:
                continue
            between = pairs[pos + 1 : pos2]
            if any(i is not None and commutes(ta.model.layers[i]) for i, _ in between):
                break  # a merge closed the branch
            if a2 == b and b2 == a:
                moved.append((pos, pos2))
                used |= {pos, pos2}
                break
    return moved, used


def _count_inputs(counts: list[int]) -> str:
    low, high = min(counts), max(counts)
    return f"{low} inputs" if low == high else f"{low} to {high} inputs"


def _names(names: list[Any], shown: int = 4) -> str:
    text = ", ".join(str(n) for n in names[:shown])
    return f"[{text}{', ...' if len(names) > shown else ''}]"


def _stride_product(strides: Any) -> int:
    n = 1
    for s in strides if isinstance(strides, tuple) else (strides,):
        n *= int(s)
    return n


def _strided_on(
    side: int,
    imported: Imported,
    pairs: Pairs,
    positions: tuple[int, int],
    values: dict[int, tuple[Any, Any]],
) -> tuple[int, str]:
    """Which of two aligned layers carries the stride on one side, and its description."""
    p = max(positions, key=lambda q: _stride_product(values[q][side]))
    index = pairs[p][side]
    assert index is not None
    layer = imported.model.layers[index]
    kernel = "x".join(map(str, getattr(layer, "kernel_size", ())))
    order = "the earlier" if p == positions[0] else "the later"
    return index, f"strides {values[p][side]} on the {kernel} {layer.kind}, {order} of the two"


def differences(ta: Imported, ka: Imported, pairs: Pairs) -> tuple[Difference, ...]:
    """Every structural, connection and hyperparameter difference of an alignment.

    Example:
        >>> from compare.spec import Dense, Dropout, Input, Model
        >>> a = Model("a", Input(3), (Dense(units=4), Dropout(rate=0.5), Dense(units=2)))
        >>> b = Model("b", Input(3), (Dense(units=4, use_bias=False), Dense(units=2)))
        >>> ia = Imported(a, ({}, {}, {}), "torch", (("fc1",), ("drop",), ("fc2",)))
        >>> ib = Imported(b, ({}, {}), "keras", (("d1",), ("d2",)))
        >>> [d.key for d in differences(ia, ib, align(a, b))]
        ['only_torch.dropout', 'dense.use_bias']
    """
    out = _Collector()
    mt, mk = ta.model, ka.model
    # nodes one side lacks, and nodes of another kind at one place
    for i, j in pairs:
        if i is not None and j is not None:
            a, b = mt.layers[i].kind, mk.layers[j].kind
            if a != b:
                place = Place(_where(ta, i), _where(ka, j))
                out.add("structure", f"kind.{a}->{b}", _describe(ta, i), _describe(ka, j), place)
            continue
        side, imported, index = ("torch", ta, i) if j is None else ("keras", ka, j)
        assert index is not None
        layer = imported.model.layers[index]
        note = "the identity at inference" if layer.inference_identity else ""
        described = _describe(imported, index)
        out.add(
            "structure",
            f"only_{side}.{layer.kind}",
            described if side == "torch" else None,
            described if side == "keras" else None,
            Place(_where(ta, i), _where(ka, j)),
            note,
        )
    # connections: a node's inputs, each taken to its nearest aligned node
    partner = {i: j for i, j in pairs if i is not None and j is not None}
    t_nodes = {n.name: k for k, n in enumerate(mt.graph.nodes)}
    k_nodes = {n.name: k for k, n in enumerate(mk.graph.nodes)}

    def resolve(name: str, nodes: dict[str, int], model: Any, paired: Any) -> Any:
        while name != "input":
            index = nodes[name]
            if index in paired:
                return index
            ins = model.graph.nodes[index].inputs
            if len(ins) != 1:
                return ("unpaired", index)
            name = ins[0]
        return "input"

    k_paired = set(partner.values())
    rewired: dict[str, list[tuple[Place, list[Any], list[Any]]]] = {}
    for i, j in partner.items():
        ins_t = [resolve(n, t_nodes, mt, partner) for n in mt.graph.nodes[i].inputs]
        ins_t = [partner[x] if isinstance(x, int) else x for x in ins_t]
        ins_k = [resolve(n, k_nodes, mk, k_paired) for n in mk.graph.nodes[j].inputs]
        if commutes(mt.layers[i]):
            ins_t, ins_k = sorted(ins_t, key=str), sorted(ins_k, key=str)
        if ins_t != ins_k:
            names_t = [_where(ka, x) if isinstance(x, int) else str(x) for x in ins_t]
            names_k = [_where(ka, x) if isinstance(x, int) else str(x) for x in ins_k]
            key = f"connection.{mt.layers[i].kind}"
            rewired.setdefault(key, []).append(
                (Place(_where(ta, i), _where(ka, j)), names_t, names_k)
            )
    for key, wired in rewired.items():  # one difference per kind
        counted = any(len(t) != len(k) for _, t, k in wired)
        _, names_t, names_k = wired[0]
        note = "each input named by the Keras node aligned with it"
        if counted:  # the inputs counted, the first place's named in the note
            values: tuple[Any, Any] = (
                _count_inputs([len(t) for _, t, _ in wired]),
                _count_inputs([len(k) for _, _, k in wired]),
            )
            note += f"; at the first place torch reads {_names(names_t)}, keras {_names(names_k)}"
        for place, t, k in wired:
            shown: tuple[Any, Any] = values if counted else (t, k)
            out.add("connection", key, shown[0], shown[1], place, note)
    # hyperparameters of aligned nodes
    strided: list[tuple[int, Any, Any]] = []
    fields: dict[int, list[tuple[str, Any, Any]]] = {}
    for pos, (i, j) in enumerate(pairs):
        if i is None or j is None or mt.layers[i].kind != mk.layers[j].kind:
            continue
        ea = _effective(mt.layers[i], mt.formulas[i])
        eb = _effective(mk.layers[j], mk.formulas[j])
        found = [
            (k, ea.get(k), eb.get(k)) for k in dict.fromkeys([*ea, *eb]) if ea.get(k) != eb.get(k)
        ]
        fields[pos] = found
        strided += [(pos, a, b) for k, a, b in found if k == "strides"]
    moved, used = _strides_moved(ta, pairs, strided)
    for pos, pos2 in moved:
        strides = {p: next((a, b) for k, a, b in fields[p] if k == "strides") for p in (pos, pos2)}

        (t_at, t_text), (k_at, k_text) = (
            _strided_on(side, imported, pairs, (pos, pos2), strides)
            for side, imported in ((0, ta), (1, ka))
        )
        out.add(
            "hyperparameter",
            f"{mt.layers[t_at].kind}.strides_moved",
            t_text,
            k_text,
            Place(_where(ta, t_at), _where(ka, k_at)),
            "a downsampling branch places its stride on another layer; "
            "the layers between run at another resolution",
        )
    for pos, found in fields.items():
        i, j = pairs[pos]
        assert i is not None and j is not None
        for key, a, b in found:
            if key == "strides" and pos in used:
                continue
            out.add(
                "hyperparameter",
                f"{mt.layers[i].kind}.{key}",
                a,
                b,
                Place(_where(ta, i), _where(ka, j)),
            )
    return out.result()


def _statistics(kind: str, ct: Counts, ck: Counts) -> str:
    """The cause of a non-trainable gap, named by the frameworks' own weight names."""
    keras_names = ", ".join(ck.non_trainable_names) or "non-trainable weights"
    name = f"{kind} {keras_names} (Keras counts them as non-trainable weights"
    if ct.buffer_names:
        return name + f"; PyTorch keeps {', '.join(ct.buffer_names)} as buffers)"
    return name + ")"


def reconcile(
    torch_model: Any, keras_model: Any, ta: Imported, ka: Imported, pairs: Pairs
) -> Reconciliation:
    """The parameter gap, Keras' total minus PyTorch's, by cause, every figure read from
    the frameworks (``compare.diff.counts``); the causes add up to the gap exactly.

    Example:
        >>> import keras, torch
        >>> from compare.importers import from_keras, from_torch
        >>> t = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3, bias=False), torch.nn.BatchNorm2d(2))
        >>> k = keras.Sequential([keras.Input((5, 5, 1)), keras.layers.Conv2D(2, 3),
        ...                       keras.layers.BatchNormalization()])
        >>> ta, ka = from_torch(t, "1x5x5"), from_keras(k)
        >>> r = reconcile(t, k, ta, ka, align(ta.model, ka.model))
        >>> r.gap, [(c.name.split(" (")[0], c.params) for c in r.causes]
        (6, [('conv biases', 2), ('batch_norm moving_mean, moving_variance', 4)])
    """
    total_t, total_k = torch_counts(torch_model), keras_counts(keras_model)
    parts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    seen_t = Counts(0, 0, 0, 0)
    seen_k = Counts(0, 0, 0, None)

    def add(name: str, params: int) -> None:
        if params:
            parts[name][0] += params
            parts[name][1] += 1

    def tally(a: Counts, b: Counts) -> Counts:
        return Counts(
            a.total + b.total, a.trainable + b.trainable, a.non_trainable + b.non_trainable, None
        )

    mt, mk = ta.model, ka.model
    for i, j in pairs:
        ct = torch_counts(torch_model, ta.paths[i]) if i is not None else Counts(0, 0, 0, 0)
        ck = keras_counts(keras_model, ka.paths[j]) if j is not None else Counts(0, 0, 0, None)
        seen_t, seen_k = tally(seen_t, ct), tally(seen_k, ck)
        if i is None or j is None:
            side, kind = ("keras", mk.layers[j].kind) if i is None else ("torch", mt.layers[i].kind)  # type: ignore[index]
            add(f"{kind} only in {side}", ck.total - ct.total)
            continue
        kind = mk.layers[j].kind
        if mt.layers[i].kind != kind:
            add(f"{mt.layers[i].kind} in torch, {kind} in keras", ck.total - ct.total)
            continue
        trainable = ck.trainable - ct.trainable
        ea = _effective(mt.layers[i], mt.formulas[i])
        eb = _effective(mk.layers[j], mk.formulas[j])
        if ea.get("use_bias") != eb.get("use_bias") and "use_bias" in ea:
            held = ka.weights[j] if eb.get("use_bias") else ta.weights[i]
            size = int(held["bias"].size) if "bias" in held else 0
            bias = size if eb.get("use_bias") else -size
            add(f"{kind} biases (present in {'Keras' if bias > 0 else 'PyTorch'} only)", bias)
            trainable -= bias
        if trainable:
            other = [k for k in ea if ea.get(k) != eb.get(k) and k != "use_bias"]
            why = f"differing {', '.join(other)}" if other else "the same hyperparameters"
            add(f"{kind} trainable weights ({why})", trainable)
        if ck.non_trainable != ct.non_trainable:
            add(_statistics(kind, ct, ck), ck.non_trainable - ct.non_trainable)
    add(
        "parameters outside the nodes read",
        (total_k.total - seen_k.total) - (total_t.total - seen_t.total),
    )
    causes = tuple(Cause(name, p, n) for name, (p, n) in parts.items())
    return Reconciliation(total_t, total_k, causes)


def diff(torch_model: Any, keras_model: Any, *, input: Any, measure: bool = False) -> Diff:
    """Name every difference between a PyTorch and a Keras implementation of one network.

    Both real models are read through the importers (graphs included), aligned node by
    node by structure and shapes (``compare.diff.align``), and compared: nodes one side
    lacks, kinds and connections that differ, hyperparameters of aligned nodes (a stride
    placed on another conv of a block is one difference), and the parameter gap by
    cause. ``input`` is the channels-first input shape without the batch axis.
    ``measure=True`` adds the numerical consequence (``compare.diff.drift``): the
    torch weights ported into a copy of the Keras model, the output drift, and the
    drift with each switchable difference switched off in turn.

    Example:
        >>> import keras, torch
        >>> t = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3, bias=False), torch.nn.Flatten(),
        ...                         torch.nn.Linear(18, 3))
        >>> k = keras.Sequential([keras.Input((5, 5, 1)), keras.layers.Conv2D(2, 3),
        ...                       keras.layers.Flatten(), keras.layers.Dense(3)])
        >>> d = diff(t, k, input="1x5x5")
        >>> [(x.key, x.torch, x.keras) for x in d.differences], d.reconciliation.gap
        ([('conv.use_bias', False, True)], 2)
    """
    ta, ka = _read(torch_model, keras_model, input)
    pairs = align(ta.model, ka.model)
    found = differences(ta, ka, pairs)
    rec = reconcile(torch_model, keras_model, ta, ka, pairs)
    drift = None
    if measure:
        from compare.diff.drift import measure as measure_drift

        drift = measure_drift(torch_model, keras_model, ta, pairs, found)
    return Diff(
        ta.model.name,
        ka.model.name,
        str(input),
        tuple(Place(_where(ta, i), _where(ka, j)) for i, j in pairs),
        found,
        rec,
        drift,
    )
