"""Build both sides, port weights across layouts, run, and measure agreement.

``build(model)`` gives a ``Pair`` of real framework models; ``pair.port(src=...)``
moves weights either way using only the layout data in ``compare.layouts``.
``measure`` turns two outputs into a ``Parity`` record with a tolerance scaled to the
output's magnitude. Nothing here raises on a mismatch or an unsupported layer: those
are statuses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from compare import limits
from compare.adapters import get_adapter
from compare.adapters.base import Built, Unsupported
from compare.formulas import LayerFormula, infer
from compare.importers.base import Imported
from compare.records import FRAMEWORKS, Parity, Status
from compare.spec import Layer, Model

__all__ = ["TOLERANCE", "Pair", "build", "max_abs_diff", "measure", "port_weights"]

#: Base tolerance per dtype, multiplied by max(1, max |reference output|).
TOLERANCE = {"float32": 1e-4, "float64": 1e-10}


def port_weights(
    layer: Layer,
    formula: LayerFormula,
    weights: dict[str, np.ndarray],
    dst_shapes: dict[str, tuple[int, ...]],
    *,
    to: str,
) -> dict[str, np.ndarray]:
    """Convert one layer's role arrays into framework ``to``'s layout.

    Example:
        >>> from compare.spec import Input, Model, Dense, Flatten
        >>> m = Model("m", Input(2, (1, 3)), (Flatten(), Dense(units=1, use_bias=False)))
        >>> f = infer(m)[1]
        >>> w = {"kernel": np.arange(6.0).reshape(1, 6)}   # torch (O, C*H*W)
        >>> port_weights(m.layers[1], f, w, {"kernel": (6, 1)}, to="keras")["kernel"].ravel()
        array([0., 3., 1., 4., 2., 5.])
    """
    return layer.port(formula, weights, dst_shapes, to=to)


def max_abs_diff(a: np.ndarray, b: np.ndarray) -> float:
    """``max |a - b|``, computed in the arrays' own dtype: where two values are within
    a factor of 2 of each other (any two that nearly agree) their difference is
    exact in floating point (Sterbenz), so float32 outputs need no float64 copies.

    Example:
        >>> max_abs_diff(np.float32([1.0, 2.0]), np.float32([1.0, 2.5]))
        0.5
        >>> max_abs_diff(np.float32([3e38]), np.float32([-3e38])) > 5e38  # past float32's max
        True
    """
    with np.errstate(over="ignore"):  # an overflow is redone in float64 below
        diff = np.subtract(a, b)
    np.abs(diff, out=diff)
    result = float(diff.max())
    if result == math.inf:  # an overflow of the dtype, or a real infinity: float64 tells
        result = float(np.max(np.abs(np.subtract(a, b, dtype=np.float64))))
    return result


def measure(reference: np.ndarray, other: np.ndarray, dtype: str = "float32") -> Parity:
    """Compare two outputs in the same layout.

    ``max_rel_err`` is ``max|a-b| / max|reference|``; the verdict is
    ``max_abs_err <= TOLERANCE[dtype] * max(1, max|reference|)``.

    Example:
        >>> measure(np.ones(3), np.ones(3) + 1e-6).status
        'ok'
        >>> measure(np.ones(3), np.zeros(3)).status
        'mismatch'
    """
    if reference.shape != other.shape:
        return Parity(
            Status.MISMATCH,
            detail=f"shapes differ: {tuple(reference.shape)} vs {tuple(other.shape)}",
        )
    if not reference.size:
        return Parity(Status.OK, 0.0, 0.0, TOLERANCE[dtype])
    scale = max(float(reference.max()), -float(reference.min()))
    tolerance = TOLERANCE[dtype] * max(1.0, scale)
    max_abs = max_abs_diff(reference, other)
    # max propagates NaN and inf: both finite iff every value of both outputs is
    if not (math.isfinite(scale) and math.isfinite(max_abs)):
        return Parity(Status.MISMATCH, tolerance=tolerance, detail="non-finite values in an output")
    max_rel = max_abs / scale if scale > 0 else (0.0 if max_abs == 0 else float("inf"))
    status = Status.OK if max_abs <= tolerance else Status.MISMATCH
    return Parity(status, max_abs, max_rel, tolerance)


@dataclass
class Side:
    """One framework's layers for a model: a ``Built`` or the reason it could not be."""

    name: str
    layers: list[Built | Unsupported]
    model: Any = None


@dataclass
class Pair:
    """The same model built for real in PyTorch and in Keras.

    ``.torch`` is an ``nn.Module`` taking (N, C, *size); ``.keras`` a ``keras.Model``
    taking (N, *size, C); token ids (an ``int`` input) are (N, steps) int64 in both.
    Both exist only when every layer is supported by both.

    Example (PyTorch holds the kernel as O,I,H,W, Keras as H,W,I,O):
        >>> from compare.spec import Input, Model, Conv
        >>> pair = build(Model("m", Input(1, (8, 8)), (Conv(filters=2, kernel_size=3),)))
        >>> pair.port(src="torch")
        >>> t, k = (get_adapter(n).get_weights(pair.sides[n].layers[0]) for n in ("torch", "keras"))
        >>> t["kernel"].shape, k["kernel"].shape
        ((2, 1, 3, 3), (3, 3, 1, 2))
        >>> bool((k["kernel"] == t["kernel"].transpose(2, 3, 1, 0)).all())
        True
    """

    model: Model
    formulas: tuple[LayerFormula, ...]
    dtype: str
    sides: dict[str, Side] = field(default_factory=dict)
    #: "torch" / "keras" once ``load`` wrote imported weights (ported to the other side).
    weights_from: str | None = None
    #: The imported weights ``load`` wrote, per layer (the import's own arrays, never
    #: copies, never written to): what the source side holds, so nothing needs to read
    #: them back from it.
    loaded: tuple[dict[str, np.ndarray], ...] = ()
    #: Naive twins kept for reuse by ``compare.naive.naive_twin`` (this pair's only).
    twins: dict[Any, Built] = field(default_factory=dict)

    def unsupported(self) -> list[tuple[int, str, str]]:
        """(layer index, framework, reason) for every layer a framework cannot build."""
        return [
            (i, name, str(b))
            for name, side in self.sides.items()
            for i, b in enumerate(side.layers)
            if isinstance(b, Unsupported)
        ]

    def _assembled(self, name: str) -> Any:
        side = self.sides[name]
        problems = [p for p in self.unsupported() if p[1] == name]
        if problems:
            index, _, reason = problems[0]
            raise Unsupported(f"layer {index} cannot be built in {name}: {reason}")
        if side.model is None:
            built = [b for b in side.layers if isinstance(b, Built)]
            shape = self.formulas[0].input
            native = shape.torch() if name == "torch" else shape.keras()
            dims = tuple(int(d) for d in native[1:] if d is not None)
            input_dtype = "int64" if shape.dtype == "int" else None  # token ids
            side.model = get_adapter(name).assemble(
                built, dims, self.dtype, input_dtype=input_dtype, graph=self.model.graph
            )
        return side.model

    @property
    def torch(self) -> Any:
        """The PyTorch model, channels-first: an ``nn.Sequential`` for a chain, a
        ``torch.fx.GraphModule`` for a graph."""
        return self._assembled("torch")

    @property
    def keras(self) -> Any:
        """The Keras model (a functional ``keras.Model``), channels-last."""
        return self._assembled("keras")

    def port(self, src: str = "torch") -> None:
        """Copy every layer's weights from ``src`` into the other framework, in place.

        Example:
            >>> from compare.spec import Dense, Input, Model
            >>> pair = build(Model("d", Input(3), (Dense(units=2),)))
            >>> dense = pair.sides["keras"].layers[0]
            >>> get_adapter("keras").set_weights(dense, {"kernel": np.ones((3, 2), "float32"),
            ...                                          "bias": np.float32([1.0, 2.0])})
            >>> pair.port(src="keras")
            >>> get_adapter("torch").get_weights(pair.sides["torch"].layers[0])["bias"].tolist()
            [1.0, 2.0]
        """
        if src not in FRAMEWORKS:
            raise ValueError(f"src={src!r} must be one of {', '.join(FRAMEWORKS)}")
        dst = "keras" if src == "torch" else "torch"
        for index in range(len(self.model.layers)):
            self.port_layer(index, src=src, dst=dst)

    def load(self, imported: Imported) -> None:
        """Write an import's weights into its source side, then port them across.

        Layers a framework cannot build keep their initial weights (and stay
        ``Unsupported`` there).

        Example:
            >>> import torch
            >>> from compare.importers import from_torch
            >>> module = torch.nn.Sequential(torch.nn.Linear(3, 2))
            >>> imported = from_torch(module, input="3")
            >>> pair = build(imported.model)
            >>> pair.load(imported)
            >>> kernel = get_adapter("keras").get_weights(pair.sides["keras"].layers[0])["kernel"]
            >>> bool((kernel == module[0].weight.detach().numpy().T).all())
            True
        """
        if imported.model != self.model:
            raise ValueError("the imported spec is not the spec this pair was built from")
        src = imported.source
        dst = "keras" if src == "torch" else "torch"
        adapter = get_adapter(src)
        loaded: list[dict[str, np.ndarray]] = []
        for index, weights in enumerate(imported.weights):
            loaded.append(weights)
            built = self.sides[src].layers[index]
            if isinstance(built, Unsupported):
                continue
            if not built.adopted:  # the user's own layers hold these arrays already
                adapter.set_weights(built, weights)
            if not isinstance(self.sides[dst].layers[index], Unsupported):
                # ported from the arrays just written: reading them back from the source
                # framework would copy every weight once more (553 MiB for VGG16)
                self.port_layer(index, src=src, dst=dst, weights=weights)
        self.loaded = tuple(loaded)
        self.weights_from = src

    def port_layer(
        self,
        index: int,
        *,
        src: str,
        dst: str,
        weights: dict[str, np.ndarray] | None = None,
    ) -> None:
        """Copy one layer's weights from ``src`` to ``dst`` (both must be built);
        ``weights``, when given, are ``src``'s role arrays already read from it."""
        s, d = self.sides[src].layers[index], self.sides[dst].layers[index]
        if isinstance(s, Unsupported) or isinstance(d, Unsupported):
            reason = s if isinstance(s, Unsupported) else d
            raise Unsupported(f"layer {index}: {reason}")
        if weights is None:
            weights = get_adapter(src).get_weights(s)
        if not weights:
            return
        dst_adapter = get_adapter(dst)
        shapes = dst_adapter.weight_shapes(d)
        ported = port_weights(
            self.model.layers[index], self.formulas[index], weights, shapes, to=dst
        )
        # The port's own copies are nobody else's: the destination may keep them. An
        # array the port passed through (a bias) still belongs to ``weights``.
        sources = list(weights.values())
        fresh = {
            role
            for role, a in ported.items()
            if not any(np.may_share_memory(a, w) for w in sources)
        }
        dst_adapter.set_weights(d, ported, take=fresh)


def _fresh(
    adapter: Any,
    layer: Any,
    formula: LayerFormula,
    index: int,
    dtype: str,
    shape_only: bool,
    blank: bool,
) -> Built | Unsupported:
    """Layer ``index`` built by ``adapter``, or the reason it cannot be."""
    try:
        built: Built = adapter.build(
            layer, formula, index, dtype, shape_only=shape_only, blank=blank
        )
    except Unsupported as exc:
        return exc
    return built


def _adopted(
    adapter: Any,
    layer: Any,
    formula: LayerFormula,
    index: int,
    dtype: str,
    imported: Imported,
) -> Built | None:
    """The user's own layers for layer ``index``, where the adapter takes them."""
    adopt = getattr(adapter, "adopt", None)
    if adopt is None:
        return None
    got: Built | None = adopt(
        layer, formula, index, dtype, imported.views[index], imported.weights[index]
    )
    return got


def _names(built: Built | Unsupported) -> list[str]:
    if isinstance(built, Unsupported):
        return []
    parts = built.obj if isinstance(built.obj, list | tuple) else [built.obj]
    return [str(getattr(part, "name", "")) for part in parts]


def _clashing(layers: list[Built | Unsupported]) -> list[int]:
    """The adopted layers that share a part's name with any other part."""
    seen: dict[str, int] = {}
    for built in layers:
        for name in _names(built):
            seen[name] = seen.get(name, 0) + 1
    return [
        i
        for i, b in enumerate(layers)
        if isinstance(b, Built) and b.adopted and any(seen[n] > 1 for n in _names(b))
    ]


def build(
    model: Model | Imported,
    *,
    dtype: str = "float32",
    seed: int = 0,
    shape_only: bool = False,
    adopt: bool = False,
    keep_fresh: bool = True,
) -> Pair:
    """Build ``model`` in both frameworks (torch weights seeded by ``seed``).

    Given an ``Imported`` spec (``compare.from_torch`` / ``from_keras``), the source
    framework's side starts from the imported weights and they are ported to the
    other side, so both models hold the user's trained weights.

    ``adopt=True`` (what ``compare_model`` does): where the source framework's adapter
    can take the user's own layers as a layer's build (``KerasAdapter.adopt``: they
    are exactly what it would build), they are used as they are, neither rebuilt nor
    rewritten (in shape-only mode too: their facts are read, nothing runs); the pair
    must then leave them as it found them. Off by default: a pair the caller keeps
    holds layers of its own.

    ``keep_fresh=False`` (``compare_model(..., diagnostics=False)``): the caller never
    reads the fresh weights of a plain spec's Keras side, which torch's seeded weights
    overwrite when the port runs, so they are not drawn (the layers are built with
    Keras' ``Zeros`` in place of their initialisers, which are put back: their facts
    are unchanged). A Conv2D's Glorot draw is about 1 ms of TensorFlow ops.

    ``shape_only`` builds the same layers without weight memory (torch on the
    ``meta`` device, Keras variables left uninitialised): facts and output shapes
    can be read, nothing can run or be ported.

    A model whose activations or weights would hold more elements than
    ``compare.limits.max_elements()`` (shape-only: int64) raises ``SpecError``.

    Layers a framework cannot express are kept as ``Unsupported`` entries; the
    ``.torch`` / ``.keras`` properties then raise ``Unsupported`` with the reason.

    Example:
        >>> from compare.spec import Input, Model, Conv
        >>> pair = build(Model("m", Input(1, (8, 8)), (Conv(filters=2, kernel_size=3),)))
        >>> pair.port(src="torch")
        >>> tuple(pair.keras.output.shape)
        (None, 6, 6, 2)
    """
    if dtype not in TOLERANCE:
        raise ValueError(f"dtype={dtype!r} must be one of {', '.join(TOLERANCE)}")
    imported = model if isinstance(model, Imported) else None
    if imported is not None:
        model = imported.model
    assert isinstance(model, Model)
    formulas = infer(model)
    limits.check_cost(model, formulas, shape_only=shape_only)  # before any allocation
    pair = Pair(model, formulas, dtype)
    for name in FRAMEWORKS:
        # weights the port overwrites and nobody reads are not drawn: an import's on
        # both sides, a plain spec's on the side torch's are ported to
        blank = not shape_only and (imported is not None or (not keep_fresh and name != "torch"))
        adapter = get_adapter(name)
        adapter.seed(seed)
        adopting = adopt and imported is not None and name == imported.source
        layers: list[Built | Unsupported] = []
        for index, (layer, formula) in enumerate(zip(model.layers, formulas)):
            got: Built | Unsupported | None = None
            if adopting and imported is not None and index < len(imported.views):
                got = _adopted(adapter, layer, formula, index, dtype, imported)
            if got is None:
                got = _fresh(adapter, layer, formula, index, dtype, shape_only, blank)
            layers.append(got)
        if adopting:
            # an assembled model needs unique layer names: an adopted layer named like
            # another layer is built as usual instead
            for index in _clashing(layers):
                layer, formula = model.layers[index], formulas[index]
                layers[index] = _fresh(adapter, layer, formula, index, dtype, shape_only, blank)
        pair.sides[name] = Side(name, layers)
    if imported is not None and not shape_only:
        pair.load(imported)
    return pair
