"""The numerical consequence of a diff: the PyTorch weights ported into a copy of the
Keras model over the aligned nodes, both run on one seeded input, and the drift of the
outputs measured, then measured again with each difference that can be switched off on
the Keras copy switched off in turn (a batch norm's epsilon, momentum, an activation).

A bias only Keras has is zero after the port (the port switches it off); a stride on
another layer or other pads change the graph and are not switched off. Neither model
given is changed.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from compare.diff.records import Difference, Drift, Switch
from compare.importers.base import Imported

__all__ = ["SWITCHES", "measure"]

#: Hyperparameter field -> (Keras layer attribute, torch value -> Keras value): the
#: differences ``measure`` switches off on the Keras copy.
SWITCHES: dict[str, tuple[str, Any]] = {
    "epsilon": ("epsilon", lambda v: float(v)),
    "momentum": ("momentum", lambda v: 1.0 - float(v)),  # the spec's convention is torch's
    "activation": ("activation", None),  # keras.activations.get, resolved when switched
}


def _keras_layers(model: Any) -> dict[str, Any]:
    from compare.diff.counts import _keras_layers as layers

    return layers(model)


def _switch_off(d: Difference, named: dict[str, Any], keras: Any) -> list[tuple[Any, str, Any]]:
    """Give the Keras layers at ``d``'s places the torch value; returns what to undo."""
    field = d.key.split(".", 1)[-1]
    attr, convert = SWITCHES[field]
    value = keras.activations.get(d.torch) if convert is None else convert(d.torch)
    undo = []
    for place in d.places:
        for name in (place.keras or "").split(" + "):
            layer = named.get(name)
            if (
                layer is not None
                and hasattr(layer, attr)
                and not _same(getattr(layer, attr), value)
            ):
                undo.append((layer, attr, getattr(layer, attr)))
                setattr(layer, attr, value)
    return undo


def _same(a: Any, b: Any) -> bool:
    if callable(a) or callable(b):
        return getattr(a, "__name__", a) == getattr(b, "__name__", b)
    return bool(a == b)


def _restore(undo: list[tuple[Any, str, Any]]) -> None:
    for layer, attr, old in reversed(undo):
        setattr(layer, attr, old)


def measure(
    torch_model: Any,
    keras_model: Any,
    ta: Imported,
    pairs: list[tuple[int | None, int | None]],
    differences: tuple[Difference, ...],
    *,
    seed: int = 0,
    batch: int = 2,
) -> Drift:
    """Port, run, measure, switch off in turn (see the module docstring).

    Example:
        >>> import keras, torch
        >>> from compare.diff.align import align
        >>> from compare.diff.engine import differences
        >>> from compare.importers import from_keras, from_torch
        >>> t = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 3))
        >>> k = keras.Sequential([keras.Input((2, 2, 1)), keras.layers.Flatten(),
        ...                       keras.layers.Dense(3, activation="softmax")])
        >>> ta, ka = from_torch(t, "1x2x2"), from_keras(k)
        >>> pairs = align(ta.model, ka.model)
        >>> d = measure(t, k, ta, pairs, differences(ta, ka, pairs))
        >>> d.error > 0.01, d.switched[0].key, d.switched[0].error < 1e-6
        (True, 'dense.activation', True)
    """
    import keras
    import torch

    from compare.adapters import get_adapter
    from compare.importers.keras import read_keras
    from compare.layouts import activation_to_keras
    from compare.parity import port_weights

    clone = keras.models.clone_model(keras_model)
    clone.set_weights(keras_model.get_weights())
    rk = read_keras(clone)
    ka = rk.imported
    adapter = get_adapter("keras")
    skipped: list[str] = []
    for i, j in pairs:
        if i is None or j is None or ta.model.layers[i].kind != ka.model.layers[j].kind:
            continue
        built = rk.builts[j]
        shapes = {role: a.shape for role, a in adapter.get_weights(built).items()}
        if not shapes:
            continue
        try:
            ported = port_weights(
                ta.model.layers[i], ta.model.formulas[i], ta.weights[i], shapes, to="keras"
            )
            full = {r: ported.get(r, np.zeros(s, dtype="float32")) for r, s in shapes.items()}
            adapter.set_weights(built, full)
        except (KeyError, ValueError) as exc:
            skipped.append(f"{ka.where(j)}: {exc}")
    rng = np.random.default_rng(seed)
    first = ta.model.formulas[0].input
    x = rng.standard_normal((batch, first.channels, *first.size)).astype("float32")
    module = copy.deepcopy(torch_model).eval()
    with torch.no_grad():
        y_t = module(torch.from_numpy(x)).numpy()
    out_shape = ta.model.formulas[-1].output
    a = activation_to_keras(y_t.astype(np.float64), out_shape)
    x_k = activation_to_keras(x, first)

    def error() -> float:
        b = np.asarray(keras.ops.convert_to_numpy(clone(x_k, training=False)), dtype=np.float64)
        return float(np.abs(a - b).max()) if a.shape == b.shape else float("inf")

    base = error()
    named = _keras_layers(clone)
    switchable = [
        d
        for d in differences
        if d.category == "hyperparameter" and d.key.split(".", 1)[-1] in SWITCHES
    ]
    switches: list[Switch] = []
    for d in switchable:
        undo = _switch_off(d, named, keras)
        note = (
            f"set on {len(undo)} Keras layer{'s' * (len(undo) != 1)}"
            if undo
            else "no Keras layer holds it as an attribute: not switched off"
        )
        switches.append(Switch(d.key, error(), note))
        _restore(undo)
    all_off = None
    if switchable:
        undo = [u for d in switchable for u in _switch_off(d, named, keras)]
        all_off = error()
        _restore(undo)
    note = "torch weights ported into a copy of the Keras model; biases only Keras has are zero"
    if skipped:
        note += f"; not ported: {'; '.join(skipped[:3])}"
    return Drift(base, float(np.abs(a).max()), tuple(switches), all_off, note)
