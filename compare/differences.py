"""Name and explain every difference between the two frameworks for one layer.

Framework-free: works on the facts the adapters read back (``FrameworkLayer``), the
notes they made about how they realised the spec, the defaults rows and the
naive-port measurements.

The differences every kind can have are named here, by a property of the layer: a
weight whose axes differ between the frameworks, the activation layout, the adapters'
notes, padding a naive port gets wrong, a framework default that differs, parameter
and buffer counts. A family names its own in its ``differences`` module, registered
by kind, each a function of the layer's ``LayerFacts`` returning a list of
``Difference``:

* ``register_part(ANY, "weight_differences", kind)`` replaces the generic
  weight-layout differences (recurrent gates and biases, embeddings);
* ``register_part(ANY, "differences", kind)`` is listed after the notes, before the
  defaults;
* ``register_part(ANY, "differences_after_defaults", kind)`` after the defaults.

A layer's differences are always listed in that fixed order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from compare import layouts
from compare.core.registry import differences_part
from compare.defaults import explanation
from compare.formulas import LayerFormula
from compare.naive import NaiveResult
from compare.records import DefaultValue, Difference, FrameworkLayer
from compare.spec import Layer

__all__ = [
    "KindDifferences",
    "LayerFacts",
    "copied_table",
    "layer_differences",
    "measured",
    "shape_text",
    "weight_layouts",
]

Notes = dict[str, tuple[tuple[str, str], ...]]


@dataclass(frozen=True)
class LayerFacts:
    """What a layer's differences are named from: its spec and formula, what each
    framework built (read back), and the naive-port measurements by check name."""

    layer: Layer
    formula: LayerFormula
    torch: FrameworkLayer
    keras: FrameworkLayer
    naive: Mapping[str, NaiveResult]


#: A family's named differences of one layer.
KindDifferences = Callable[[LayerFacts], list[Difference]]


def shape_text(shape: tuple[int, ...] | tuple[int | None, ...] | None) -> str:
    """A shape as the differences print it; '?' when unknown.

    Example:
        >>> shape_text((None, 8, 3)), shape_text(None)
        ('(None, 8, 3)', '?')
    """
    if shape is None:
        return "?"
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"


def copied_table(
    facts: LayerFacts, role: str, what: str, rows: str, more: str = ""
) -> Difference | None:
    """A table both frameworks hold in the same layout (an embedding's, a position
    table): each side's weight name, shape and axes, and that a port copies it; ``rows``
    says what a row is, ``more`` is added to the detail. None where a side has no
    weight of ``role``.

    Example:
        >>> from compare.formulas import infer
        >>> from compare.records import WeightFact
        >>> from compare.spec import Embedding, Input, Model
        >>> m = Model("m", Input(1, (7,), dtype="int"), (Embedding(input_dim=5, output_dim=2),))
        >>> w = (WeightFact("weight", (5, 2), ("V", "D"), True, "embeddings"),)
        >>> t, k = (FrameworkLayer(name, True, weights=w) for name in ("torch", "keras"))
        >>> copied_table(LayerFacts(m.layers[0], infer(m)[0], t, k, {}), "embeddings", "e",
        ...              "one row per id").keras
        '(5, 2) [V,D]'
    """
    wt = next((w for w in facts.torch.weights if w.role == role), None)
    wk = next((w for w in facts.keras.weights if w.role == role), None)
    if wt is None or wk is None:
        return None
    return Difference(
        what,
        f"PyTorch {wt.name} and Keras {wk.name} are both {shape_text(wt.shape)} "
        f"[{','.join(wt.axes)}] ({rows}): a port is a copy{more}",
        torch=f"{shape_text(wt.shape)} [{','.join(wt.axes)}]",
        keras=f"{shape_text(wk.shape)} [{','.join(wk.axes)}]",
    )


def measured(
    diff: Difference, result: NaiveResult | None, *, why_in_detail: bool = False
) -> Difference:
    """``diff`` with a naive port's measurement attached (unchanged when ``result`` is
    None); ``why_in_detail`` also appends to the detail why a naive port that cannot
    run did not.

    Example:
        >>> d = measured(Difference("padding", "asymmetric"), (0.5, "symmetric padding"))
        >>> d.naive_max_abs_err, d.measured
        (0.5, True)
        >>> measured(Difference("padding", "x"), (None, "no run"), why_in_detail=True).detail
        'x (no run)'
    """
    if result is None:
        return diff
    err, detail = result
    text = f"{diff.detail} ({detail})" if why_in_detail and err is None else diff.detail
    return Difference(diff.what, text, diff.torch, diff.keras, err, detail, measured=True)


def weight_layouts(facts: LayerFacts) -> list[Difference]:
    """One difference per weight (bias aside) whose layout differs between the
    frameworks, with the transpose that ports it; ``kernel_layout`` carries the naive
    reshape's measurement.

    Example:
        >>> from compare.adapters.base import WeightFact
        >>> from compare.formulas import infer
        >>> from compare.spec import Dense, Input, Model
        >>> m = Model("m", Input(3), (Dense(units=2),))
        >>> w_t = WeightFact("weight", (2, 3), ("O", "I"), True, "kernel")
        >>> w_k = WeightFact("kernel", (3, 2), ("I", "O"), True, "kernel")
        >>> t = FrameworkLayer("torch", True, weights=(w_t,))
        >>> k = FrameworkLayer("keras", True, weights=(w_k,))
        >>> [d.torch for d in weight_layouts(LayerFacts(m.layers[0], infer(m)[0], t, k, {}))]
        ['(2, 3) [O,I]']
    """
    layer, formula, torch, keras = facts.layer, facts.formula, facts.torch, facts.keras
    out = []
    keras_by_role = {w.role: w for w in keras.weights if w.role}
    for wt in torch.weights:
        if wt.role is None or wt.role == "bias" or wt.role not in keras_by_role:
            continue
        wk = keras_by_role[wt.role]
        ta, ka = ",".join(wt.axes), ",".join(wk.axes)
        assert wt.role is not None
        lay = layouts.layout_of(layer, formula, wt.role)
        if lay.torch == lay.keras and lay.torch_shown == lay.keras_shown:
            continue
        perm = layouts.permutation(lay.torch, lay.keras)
        split = lay.torch != lay.torch_shown or lay.keras != lay.keras_shown
        how = f"transpose{perm}" + (" of the split axes" if split else "")
        what = "kernel_layout" if wt.role in ("kernel", "depthwise_kernel") else f"{wt.role}_layout"
        diff = Difference(
            what,
            f"PyTorch holds {wt.name} as {shape_text(wt.shape)} [{ta}], Keras {wk.name} as "
            f"{shape_text(wk.shape)} [{ka}]; porting torch->keras is {how}",
            torch=f"{shape_text(wt.shape)} [{ta}]",
            keras=f"{shape_text(wk.shape)} [{ka}]",
        )
        if what == "kernel_layout":
            diff = measured(diff, facts.naive.get("kernel_layout"), why_in_detail=True)
        out.append(diff)
    return out


def _value(value: object) -> str:
    if value is None:
        return "(no such parameter)"
    return repr(value) if isinstance(value, str) else str(value)


def _default_differences(
    kind: str, defaults: tuple[DefaultValue, ...], naive: Mapping[str, NaiveResult]
) -> list[Difference]:
    out = []
    for row in defaults:
        if not row.differs:
            continue
        why = explanation(kind, row.name)
        used = f"the spec's {row.name}={_value(row.spec)} is set explicitly in both"
        detail = (
            f"default {row.name}: PyTorch {_value(row.torch)}, Keras {_value(row.keras)} "
            f"(spec convention){': ' + why if why else ''}; {used}"
        )
        diff = Difference(
            f"default_{row.name}", detail, torch=_value(row.torch), keras=_value(row.keras)
        )
        out.append(measured(diff, naive.get(f"default_{row.name}")))
    return out


def _kind_part(what: str, kind: str) -> KindDifferences | None:
    found: KindDifferences | None = differences_part(what, kind)
    return found


def layer_differences(
    layer: Layer,
    formula: LayerFormula,
    torch: FrameworkLayer,
    keras: FrameworkLayer,
    notes: Notes,
    naive: dict[str, NaiveResult],
    defaults: tuple[DefaultValue, ...] = (),
) -> tuple[Difference, ...]:
    """Every named difference for one layer, with naive-port errors where measured.

    Example:
        >>> from compare.spec import Flatten, Input, Model
        >>> from compare.formulas import infer
        >>> m = Model("m", Input(2, (3,)), (Flatten(),))
        >>> t = FrameworkLayer("torch", True, output_shape=(None, 6))
        >>> k = FrameworkLayer("keras", True, output_shape=(None, 6))
        >>> [d.what for d in layer_differences(m.layers[0], infer(m)[0], t, k, {}, {})]
        ['flatten_order']
    """
    out: list[Difference] = []
    for fw in (torch, keras):
        if not fw.supported:
            out.append(
                Difference(
                    "unsupported",
                    f"{fw.framework} cannot express this layer: {fw.reason}",
                    **{fw.framework: fw.reason},  # type: ignore[arg-type]
                )
            )
    if not (torch.supported and keras.supported):
        return tuple(out)

    facts = LayerFacts(layer, formula, torch, keras, naive)
    own_weights = _kind_part("weight_differences", layer.kind)
    out.extend(own_weights(facts) if own_weights is not None else weight_layouts(facts))

    if formula.output.rank:
        out.append(
            Difference(
                "activation_layout",
                f"PyTorch output {shape_text(torch.output_shape)} is channels-first, Keras "
                f"{shape_text(keras.output_shape)} channels-last",
                torch="N,C," + ",".join(layouts.kernel_axes(formula.output.rank)),
                keras="N," + ",".join(layouts.kernel_axes(formula.output.rank)) + ",C",
            )
        )

    by_what: dict[str, dict[str, str]] = {}
    for name, items in notes.items():
        for what, text in items:
            by_what.setdefault(what, {})[name] = text
    for what, texts in by_what.items():
        detail = "; ".join(f"{name}: {text}" for name, text in texts.items())
        diff = Difference(what, detail, torch=texts.get("torch"), keras=texts.get("keras"))
        if what == "padding":
            diff = measured(diff, naive.get("padding"), why_in_detail=True)
        out.append(diff)
    if "padding" not in by_what and "padding" in naive:
        base = Difference("padding", "both frameworks express this padding natively")
        out.append(measured(base, naive["padding"], why_in_detail=True))

    before_defaults = _kind_part("differences", layer.kind)
    if before_defaults is not None:
        out += before_defaults(facts)
    out += _default_differences(layer.kind, defaults, naive)
    after_defaults = _kind_part("differences_after_defaults", layer.kind)
    if after_defaults is not None:
        out += after_defaults(facts)

    for key, label in (("params", "parameters"), ("buffers", "buffer elements")):
        tv, kv = getattr(torch, key), getattr(keras, key)
        if tv is not None and kv is not None and tv != kv:
            out.append(
                Difference(
                    f"{key}_count",
                    f"{label}: PyTorch {tv} (trainable {torch.trainable_params}, "
                    f"non-trainable {torch.non_trainable_params}, buffers {torch.buffers}) vs "
                    f"Keras {kv} (trainable {keras.trainable_params}, non-trainable "
                    f"{keras.non_trainable_params}, buffers {keras.buffers})",
                    torch=str(tv),
                    keras=str(kv),
                )
            )
    return tuple(out)
