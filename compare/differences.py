"""Name and explain every difference between the two frameworks for one layer.

Framework-free: works on the facts the adapters read back (``FrameworkLayer``), the
notes they made about how they realised the spec, and the naive-port measurements.
"""

from __future__ import annotations

from compare import layouts, sequence
from compare.formulas import LayerFormula
from compare.naive import NaiveResult
from compare.records import DefaultValue, Difference, FrameworkLayer
from compare.spec import Dense, Flatten, Layer

__all__ = ["layer_differences"]

Notes = dict[str, tuple[tuple[str, str], ...]]


def _shape(shape: tuple[int, ...] | tuple[int | None, ...] | None) -> str:
    if shape is None:
        return "?"
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"


def _naive(diff: Difference, result: NaiveResult | None) -> Difference:
    if result is None:
        return diff
    err, detail = result
    text = diff.detail if err is not None else f"{diff.detail} ({detail})"
    return Difference(diff.what, text, diff.torch, diff.keras, err, detail, measured=True)


def _weight_layouts(
    layer: Layer, formula: LayerFormula, torch: FrameworkLayer, keras: FrameworkLayer
) -> list[Difference]:
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
        out.append(
            Difference(
                what,
                f"PyTorch holds {wt.name} as {_shape(wt.shape)} [{ta}], Keras {wk.name} as "
                f"{_shape(wk.shape)} [{ka}]; porting torch->keras is {how}",
                torch=f"{_shape(wt.shape)} [{ta}]",
                keras=f"{_shape(wk.shape)} [{ka}]",
            )
        )
    return out


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
        >>> from compare.comparison import compare_model
        >>> from compare.formulas import infer
        >>> from compare.spec import Conv, Input, Model
        >>> m = Model("m", Input(2, (6, 6)), (Conv(filters=3, kernel_size=3),))
        >>> fw = compare_model(m, parity=False).layers[0].frameworks
        >>> diffs = layer_differences(m.layers[0], infer(m)[0], fw["torch"], fw["keras"], {}, {})
        >>> [d.what for d in diffs]
        ['kernel_layout', 'activation_layout']
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

    if layer.kind in sequence.PORTS:  # recurrent families and embedding
        from compare.sequence_differences import family_differences

        out.extend(family_differences(layer, formula, torch, keras, naive))
    else:
        layout_diffs = _weight_layouts(layer, formula, torch, keras)
        for diff in layout_diffs:
            measured = diff.what == "kernel_layout"
            out.append(_naive(diff, naive.get("kernel_layout")) if measured else diff)

    if formula.output.rank:
        out.append(
            Difference(
                "activation_layout",
                f"PyTorch output {_shape(torch.output_shape)} is channels-first, Keras "
                f"{_shape(keras.output_shape)} channels-last",
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
            diff = _naive(diff, naive.get("padding") or naive.get("transpose_padding"))
        out.append(diff)
    if "padding" not in by_what and ("padding" in naive or "transpose_padding" in naive):
        base = Difference("padding", "both frameworks express this padding natively")
        out.append(_naive(base, naive.get("padding") or naive.get("transpose_padding")))

    if isinstance(layer, Flatten) and formula.input.rank:
        axes = ",".join(layouts.kernel_axes(formula.input.rank))
        out.append(
            Difference(
                "flatten_order",
                f"PyTorch flattens {_shape(formula.input.torch())} in C,{axes} order, Keras "
                f"{_shape(formula.input.keras())} in {axes},C order: the same "
                f"{formula.output.channels} features in a different order",
                torch=f"C,{axes}",
                keras=f"{axes},C",
            )
        )
    if isinstance(layer, Dense) and formula.input.flattened_from is not None:
        c, size = formula.input.flattened_from
        axes = ",".join(layouts.kernel_axes(len(size)))
        out.append(
            _naive(
                Difference(
                    "flatten_dense",
                    f"the Dense after Flatten reads {formula.input.channels} features in "
                    f"C,{axes} order in PyTorch and {axes},C in Keras: porting its kernel "
                    f"must permute the rows (reshape to ({c}, {', '.join(map(str, size))}), "
                    "move C last), not only transpose",
                ),
                naive.get("flatten_dense"),
            )
        )

    from compare.differences_layers import layer_kind_differences

    out += layer_kind_differences(layer, formula, torch, keras, naive, defaults)

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
