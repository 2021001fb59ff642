"""Reading real models into specs: the records and the framework-free folding rules.

A framework importer (``compare.importers.torch`` / ``.keras``) walks a real model as a
chain of steps, runs a probe through them to read every step's real input and output
shape, and maps each step through a table (class -> mapper) into a ``Piece``.
``assemble`` then folds pieces into spec layers, the same way for both frameworks:

* explicit zero padding (``nn.ZeroPad2d``, ``ZeroPadding2D`` ...) joins the convolution
  that follows: symmetric pads become integer padding, TensorFlow's asymmetric split
  becomes ``'same'``; any other asymmetric padding has no spec equivalent and is named;
* a crop (``Cropping2D`` ...) joins the transposed convolution before it, by the same rule;
* a convolution whose ``groups`` equal its input channels (> 1) is a depthwise
  convolution (the same function: output channel ``c*M + m`` reads input channel ``c``);
* a bias-free depthwise convolution followed by a 1x1 convolution (stride 1, no padding,
  no groups) is a separable convolution.

The normalisation, pooling and activation kinds add their own rules
(``compare.importers.fold_layers``): padding into pools, a global pool and flatten,
an activation into the conv or dense layer before it.

Nothing here imports torch or keras.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from compare.errors import SpecError
from compare.formulas import LayerFormula, Shape, infer, layer_formula, same_pads
from compare.importers.fold_layers import POOLS, fold_layers, fold_pool_pad
from compare.spec import (
    Conv,
    ConvTranspose,
    Dense,
    DepthwiseConv,
    Input,
    Layer,
    Model,
    SeparableConv,
)
from compare.spec_layers import LayerNorm

__all__ = [
    "Imported",
    "Mismatch",
    "Piece",
    "Reading",
    "UnmappableError",
    "Unmapped",
    "assemble",
    "parse_input",
    "parse_input_shape",
    "spec_differences",
]

Pads = tuple[tuple[int, int], ...]
_PADDED = (Conv, DepthwiseConv, SeparableConv)


@dataclass(frozen=True)
class Unmapped:
    """A part of a real model that has no faithful spec: where, what, and why.

    Example:
        >>> str(Unmapped("features.1", "torch.nn.Hardswish", "no importer for this class"))
        'features.1 (torch.nn.Hardswish): no importer for this class'
    """

    path: str
    cls: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path} ({self.cls}): {self.reason}"


class UnmappableError(SpecError):
    """A real model holds parts that cannot be read into a spec; ``.items`` names them all.

    Example:
        >>> err = UnmappableError("torch", [Unmapped("1", "torch.nn.Hardswish", "no importer")])
        >>> print(err)
        cannot read the torch model into a spec (1 part not mapped):
          1 (torch.nn.Hardswish): no importer
    """

    def __init__(self, source: str, items: Sequence[Unmapped]) -> None:
        self.source = source
        self.items = tuple(items)
        n = len(self.items)
        lines = "\n".join(f"  {item}" for item in self.items)
        super().__init__(
            f"cannot read the {source} model into a spec ({n} part{'s' * (n != 1)} "
            f"not mapped):\n{lines}"
        )


@dataclass(frozen=True, eq=False)
class Imported:
    """A spec read from a real model, carrying that model's weights.

    ``weights[i]`` maps each weight role of layer ``i`` (``kernel``, ``bias`` ...) to the
    array as the ``source`` framework holds it; ``paths[i]`` and ``classes[i]`` name the
    source modules / layers that layer ``i`` was read from. ``compare.build`` and
    ``compare.compare`` accept it and start from these weights.

    Example:
        >>> from compare.spec import Input, Model, Dense
        >>> m = Model("m", Input(3), (Dense(units=2, use_bias=False),))
        >>> imp = Imported(m, ({"kernel": np.zeros((2, 3))},), "torch", (("fc",),), (("Linear",),))
        >>> imp.describe()
        ['0 dense <- fc (Linear)']
        >>> imp.where(0)
        'fc (Linear)'
    """

    model: Model
    weights: tuple[dict[str, np.ndarray], ...]
    source: str
    paths: tuple[tuple[str, ...], ...] = ()
    classes: tuple[tuple[str, ...], ...] = ()

    def __post_init__(self) -> None:
        if self.source not in ("torch", "keras"):
            raise SpecError(f"source={self.source!r} must be 'torch' or 'keras'")
        if len(self.weights) != len(self.model.layers):
            raise SpecError(
                f"weights has {len(self.weights)} entries but the model has "
                f"{len(self.model.layers)} layers"
            )

    def where(self, index: int) -> str:
        """The source modules layer ``index`` came from, joined with ``+``."""
        if not self.paths:
            return f"layer {index}"
        classes = self.classes[index] if self.classes else ("?",) * len(self.paths[index])
        return " + ".join(f"{p} ({c})" for p, c in zip(self.paths[index], classes))

    def describe(self) -> list[str]:
        """One line per layer: index, kind, source paths and classes."""
        return [f"{i} {layer.kind} <- {self.where(i)}" for i, layer in enumerate(self.model.layers)]


@dataclass
class Piece:
    """What one step of a real model contributes, before folding (internal)."""

    path: str
    cls: str
    in_shape: Shape
    out_shape: Shape
    obj: Any = None
    layer: Layer | None = None
    roles: dict[str, Any] = field(default_factory=dict)
    pad: Pads | None = None
    pad_value: float = 0.0  # what the explicit padding pads with (-inf before a max pool)
    crop: Pads | None = None
    move: str | None = None  # "last": channels moved last, "first": moved back
    last_axis: bool = False  # acts on the last axis (nn.Linear), not on channels
    problem: str | None = None


class Refuse(Exception):
    """Raised by a mapper: this step has no faithful spec; ``str()`` is the reason."""


@dataclass
class Part:
    """One spec layer assembled from pieces, with its source objects and weight roles."""

    layer: Layer
    roles: dict[str, Any]
    pieces: list[Piece]
    in_shape: Shape
    out_shape: Shape

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(p.path for p in self.pieces)

    @property
    def classes(self) -> tuple[str, ...]:
        return tuple(p.cls.rsplit(".", 1)[-1] for p in self.pieces)

    @property
    def objs(self) -> list[Any]:
        return [p.obj for p in self.pieces]


@dataclass
class Reading:
    """An import plus what is needed to run the source model layer by layer (internal).

    ``runs`` are the source model's steps in order (each takes and returns one
    tensor in the source layout; the first takes the channels-first input);
    ``ends[i]`` is the step after which layer ``i`` is complete; ``builts[i]`` reaches
    layer ``i``'s weights in the (copied) source model. ``views[i]``, when given, turns
    the value after layer ``i`` into the source framework's usual layout (a PyTorch RNN's
    (N, steps, features) into channels-first).
    """

    imported: Imported
    builts: list[Any]
    runs: list[Callable[[Any], Any]]
    ends: list[int]
    views: list[Callable[[Any], Any] | None] = field(default_factory=list)


def step_ends(pieces: list[Piece], parts: list[Part]) -> list[int]:
    """Index of the last piece of each part (pieces are one per step, in order)."""
    index = {id(p): k for k, p in enumerate(pieces)}
    return [max(index[id(p)] for p in part.pieces) for part in parts]


def parse_input(value: Any) -> tuple[int, ...]:
    """A channels-first input shape without the batch axis: ``"1x28x28"`` or ``(1, 28, 28)``.

    Example:
        >>> parse_input("1x28x28"), parse_input([3, 32])
        ((1, 28, 28), (3, 32))
    """
    if isinstance(value, str):
        parts = [p.strip() for p in value.lower().split("x")]
        if not all(p.isdigit() for p in parts):
            raise SpecError(
                f"input={value!r} must be channels then sizes joined by 'x', like '1x28x28'"
            )
        dims = tuple(int(p) for p in parts)
    elif isinstance(value, Sequence) or hasattr(value, "__iter__"):
        dims = tuple(value)
    else:
        raise SpecError(f"input={value!r} must be a tuple like (1, 28, 28) or a string '1x28x28'")
    if not 1 <= len(dims) <= 4 or any(
        isinstance(d, bool) or not isinstance(d, int | np.integer) or d < 1 for d in dims
    ):
        raise SpecError(
            f"input={value!r} must be 1 to 4 positive integers: channels, then 0-3 sizes"
        )
    return tuple(int(d) for d in dims)


def parse_input_shape(value: Any) -> Shape:
    """The input as a ``Shape``: channels-first dims like ``parse_input``, or integer token
    ids written ``"int:12"`` (12 steps) or given as ``compare.spec.Input(1, (12,), "int")``.

    Example:
        >>> parse_input_shape("int:12")
        Shape(channels=1, size=(12,), flattened_from=None, dtype='int')
        >>> parse_input_shape("16x10").size
        (10,)
    """
    if isinstance(value, Input):
        return Shape(value.channels, value.size, dtype=value.dtype)
    if isinstance(value, str) and value.strip().lower().startswith("int:"):
        text = value.strip()[4:].strip()
        if not text.isdigit() or int(text) < 1:
            raise SpecError(
                f"input={value!r} must be 'int:' and the number of steps, like 'int:12' "
                "(a sequence of integer token ids)"
            )
        return Shape(1, (int(text),), dtype="int")
    dims = parse_input(value)
    return Shape(dims[0], dims[1:])


def _tf_same(layer: Layer, shape: Shape) -> Pads:
    resolved: Any = layer.resolved(shape.rank)
    return tuple(
        same_pads(n, k, s, d)
        for n, k, s, d in zip(shape.size, resolved.kernel_size, resolved.strides, resolved.dilation)
    )


def _express(pads: Pads, same: Pads) -> str | tuple[int, ...]:
    """Spec padding for explicit pads: 'valid', symmetric ints, or TF 'same'."""
    if all(a == 0 and b == 0 for a, b in pads):
        return "valid"
    if all(a == b for a, b in pads):
        return tuple(a for a, _ in pads)
    if pads == same:
        return "same"
    raise Refuse(
        f"pads {pads} (before, after per spatial axis) are asymmetric and not "
        f"TensorFlow's 'same' split {same}; the spec pads symmetrically or as 'same'"
    )


def _fold_pad(layer: Any, pad: Pads, shape: Shape) -> Layer:
    """The convolution ``layer`` on ``shape`` after explicit zero padding ``pad``."""
    if len(pad) != shape.rank:
        raise Refuse(f"pads {pad} do not have one (before, after) pair per spatial axis")
    padded = Shape(shape.channels, tuple(n + a + b for n, (a, b) in zip(shape.size, pad)))
    try:
        own = layer_formula(layer.resolved(shape.rank), padded).pads
    except SpecError as exc:
        raise Refuse(str(exc)) from exc
    assert own is not None
    total = tuple((a + c, b + d) for (a, b), (c, d) in zip(pad, own))
    return dataclasses.replace(layer, padding=_express(total, _tf_same(layer, shape)))


def _fold_crop(layer: ConvTranspose, crop: Pads, shape: Shape) -> ConvTranspose:
    """The transposed convolution ``layer`` on ``shape`` followed by a crop ``crop``."""
    if len(crop) != shape.rank:
        raise Refuse(f"crop {crop} does not have one (start, end) pair per spatial axis")
    try:
        formula = layer_formula(layer.resolved(shape.rank), shape)
        same_layer = dataclasses.replace(layer, padding="same", output_padding=0)
        same = layer_formula(same_layer.resolved(shape.rank), shape)
    except SpecError as exc:
        raise Refuse(str(exc)) from exc
    assert formula.pads is not None and formula.extend is not None
    total = tuple((a + c, b + d) for (a, b), (c, d) in zip(crop, formula.pads))
    if all(a == b for a, b in total):
        padding: Any = tuple(a for a, _ in total)
        if not any(padding):
            padding = "valid"
        return dataclasses.replace(layer, padding=padding)
    if total == same.pads and formula.extend == same.extend:
        return dataclasses.replace(layer, padding="same", output_padding=0)
    raise Refuse(
        f"the crop {total} of the transposed output is asymmetric and not what "
        f"padding='same' crops here {same.pads}; the spec crops symmetrically or as 'same'"
    )


def _is_pointwise(layer: Layer) -> bool:
    if not isinstance(layer, Conv) or layer.groups != 1:
        return False
    ones = (layer.kernel_size, layer.strides, layer.dilation)
    flat = [v for value in ones for v in ((value,) if isinstance(value, int) else value)]
    padding = layer.padding
    no_pad = padding == "valid" or (not isinstance(padding, str) and not any(_ints(padding)))
    return all(v == 1 for v in flat) and no_pad


def _ints(value: int | tuple[int, ...]) -> tuple[int, ...]:
    return (value,) if isinstance(value, int) else value


DepthwiseRoles = Callable[[dict[str, Any], tuple[int, ...], int, int], dict[str, Any]]


def _structural(pieces: list[Piece], problems: list[Unmapped]) -> list[Part]:
    """Pass 1: fold pads, crops and channel moves into the layers they belong to."""
    parts: list[Part] = []
    i, n = 0, len(pieces)

    def refuse(group: list[Piece], reason: str) -> None:
        problems.append(
            Unmapped(" + ".join(p.path for p in group), ", ".join(p.cls for p in group), reason)
        )

    while i < n:
        p = pieces[i]
        nxt = pieces[i + 1] if i + 1 < n else None
        if p.problem is not None:
            i += 1
            continue
        if p.pad is not None:
            pads = [p]  # consecutive zero paddings add up
            while i + len(pads) < n and pieces[i + len(pads)].pad is not None:
                if pieces[i + len(pads)].problem is not None:
                    break
                pads.append(pieces[i + len(pads)])
            total: Pads = p.pad
            for more in pads[1:]:
                assert more.pad is not None
                total = tuple((a + c, b + d) for (a, b), (c, d) in zip(total, more.pad))
            k = i + len(pads)
            conv = pieces[k] if k < n else None
            pool = conv is not None and type(conv.layer) in POOLS and conv.problem is None
            if pool:
                assert conv is not None
                if any(q.pad_value != p.pad_value for q in pads):
                    refuse([*pads, conv], "consecutive paddings pad with different values")
                    i = k + 1
                    continue
            elif conv is None or conv.problem is not None or not isinstance(conv.layer, _PADDED):
                what = "nothing" if conv is None else conv.cls
                refuse(
                    pads,
                    f"explicit padding is read as part of the convolution or pool that "
                    f"follows it, but {what} follows",
                )
                i = k
                continue
            elif any(q.pad_value != 0 for q in pads):
                refuse([*pads, conv], f"pads with {p.pad_value}; a convolution pads with zeros")
                i = k + 1
                continue
            assert conv is not None
            try:
                if pool:
                    layer = fold_pool_pad(conv.layer, total, p.pad_value, p.in_shape)
                else:
                    layer = _fold_pad(conv.layer, total, p.in_shape)
            except Refuse as exc:
                refuse([*pads, conv], str(exc))
            else:
                parts.append(Part(layer, conv.roles, [*pads, conv], p.in_shape, conv.out_shape))
            i = k + 1
            continue
        if p.crop is not None:
            refuse(
                [p],
                "a crop is read as part of the transposed convolution before it, "
                "and none precedes it",
            )
            i += 1
            continue
        if p.move is not None:
            after = pieces[i + 2] if i + 2 < n else None
            if (
                p.move == "last"
                and nxt is not None
                and isinstance(nxt.layer, Dense | LayerNorm)
                and nxt.problem is None
                and after is not None
                and after.move == "first"
            ):
                parts.append(
                    Part(nxt.layer, nxt.roles, [p, nxt, after], p.in_shape, after.out_shape)
                )
                i += 3
                continue
            refuse(
                [p],
                "moving the channel axis is read only around a dense layer or a layer "
                "norm (channels last, the layer, channels first)",
            )
            i += 1
            continue
        if p.layer is None:  # an identity: computes nothing
            i += 1
            continue
        if p.last_axis and p.in_shape.rank:
            refuse(
                [p],
                f"it acts on the last axis of a {p.in_shape.torch()[1:]} "
                f"channels-first map, while the spec's {getattr(p.layer, 'kind', 'dense')} "
                "acts on the channels",
            )
            i += 1
            continue
        if isinstance(p.layer, ConvTranspose) and nxt is not None and nxt.crop is not None:
            try:
                layer = _fold_crop(p.layer, nxt.crop, p.in_shape)
            except Refuse as exc:
                refuse([p, nxt], str(exc))
            else:
                parts.append(Part(layer, p.roles, [p, nxt], p.in_shape, nxt.out_shape))
            i += 2
            continue
        parts.append(Part(p.layer, p.roles, [p], p.in_shape, p.out_shape))
        i += 1
    return parts


def _canonical(parts: list[Part], depthwise_roles: DepthwiseRoles) -> list[Part]:
    """Pass 2 and 3: grouped conv with groups == channels -> depthwise; + 1x1 -> separable."""
    out: list[Part] = []
    for part in parts:
        layer, c = part.layer, part.in_shape.channels
        if isinstance(layer, Conv) and layer.groups == c > 1:
            m = layer.filters // c
            kernel = _ints(layer.kernel_size)
            depthwise = DepthwiseConv(
                kernel_size=layer.kernel_size,
                strides=layer.strides,
                padding=layer.padding,
                dilation=layer.dilation,
                use_bias=layer.use_bias,
                depth_multiplier=m,
            )
            roles = dict(part.roles)
            roles.update(depthwise_roles({"kernel": roles.pop("kernel")}, kernel, c, m))
            part = Part(depthwise, roles, part.pieces, part.in_shape, part.out_shape)
        out.append(part)
    fused: list[Part] = []
    for part in out:
        prev = fused[-1] if fused else None
        if (
            prev is not None
            and isinstance(prev.layer, DepthwiseConv)
            and not prev.layer.use_bias
            and _is_pointwise(part.layer)
        ):
            pointwise = part.layer
            assert isinstance(pointwise, Conv)
            d = prev.layer
            separable = SeparableConv(
                filters=pointwise.filters,
                kernel_size=d.kernel_size,
                strides=d.strides,
                padding=d.padding,
                dilation=d.dilation,
                use_bias=pointwise.use_bias,
                depth_multiplier=d.depth_multiplier,
            )
            roles = {"depthwise_kernel": prev.roles["depthwise_kernel"]}
            roles["pointwise_kernel"] = part.roles["kernel"]
            if "bias" in part.roles:
                roles["bias"] = part.roles["bias"]
            fused[-1] = Part(
                separable, roles, prev.pieces + part.pieces, prev.in_shape, part.out_shape
            )
            continue
        fused.append(part)
    return fused


def read_weights(model: Model, parts: list[Part], source: str) -> tuple[Imported, list[Any]]:
    """The ``Imported`` spec with every part's weights, read through the ``source``
    framework's own adapter, and the ``Built`` views of the user's layers it read from.

    Example:
        >>> import torch
        >>> from compare.spec import Dense
        >>> fc = torch.nn.Linear(3, 2)
        >>> p = Piece("fc", "torch.nn.Linear", Shape(3), Shape(2), obj=fc, layer=Dense(units=2),
        ...           roles={"kernel": (fc, "weight"), "bias": (fc, "bias")})
        >>> model, parts = assemble([p], Shape(3), name="m", source="torch",
        ...                         depthwise_roles=lambda r, k, c, m: r)
        >>> imported, builts = read_weights(model, parts, "torch")
        >>> {role: array.shape for role, array in imported.weights[0].items()}
        {'kernel': (2, 3), 'bias': (2,)}
        >>> bool((imported.weights[0]["kernel"] == fc.weight.detach().numpy()).all())
        True
    """
    from compare.adapters import get_adapter
    from compare.adapters.base import Built

    adapter = get_adapter(source)
    builts = [Built(source, part.objs, part.classes, part.roles) for part in parts]
    imported = Imported(
        model,
        tuple(adapter.get_weights(b) for b in builts),
        source,
        tuple(part.paths for part in parts),
        tuple(part.classes for part in parts),
    )
    return imported, builts


def assemble(
    pieces: list[Piece],
    input_shape: Shape,
    *,
    name: str,
    source: str,
    depthwise_roles: DepthwiseRoles,
) -> tuple[Model, list[Part]]:
    """Fold ``pieces`` into a validated ``Model``; raise ``UnmappableError`` naming every
    piece that has no faithful spec (a step's own problem, a fold that cannot be
    expressed, a layer whose spec output differs from the real one).

    Example:
        >>> from compare.spec import Flatten
        >>> p = Piece("flat", "torch.nn.Flatten", Shape(2, (3,)), Shape(6), layer=Flatten())
        >>> model, parts = assemble([p], Shape(2, (3,)), name="m", source="torch",
        ...                         depthwise_roles=lambda r, k, c, m: r)
        >>> [layer.kind for layer in model.layers]
        ['flatten']
    """
    problems = [Unmapped(p.path, p.cls, p.problem) for p in pieces if p.problem is not None]
    parts = fold_layers(_canonical(_structural(pieces, problems), depthwise_roles))
    checked: list[Part] = []
    for part in parts:
        where = " + ".join(part.paths)
        classes = ", ".join(p.cls for p in part.pieces)
        try:
            resolved = part.layer.resolved(part.in_shape.rank)
            formula = layer_formula(resolved, part.in_shape)
        except SpecError as exc:
            problems.append(Unmapped(where, classes, f"read as {part.layer!r}, which {exc}"))
            continue
        want = (part.out_shape.channels, part.out_shape.size)
        got = (formula.output.channels, formula.output.size)
        if want != got:
            problems.append(
                Unmapped(
                    where,
                    classes,
                    f"read as {part.layer!r}, whose output would be {formula.output.torch()} "
                    f"(channels first), but the real one is {part.out_shape.torch()}",
                )
            )
            continue
        checked.append(part)
    if problems:
        order = {p.path: k for k, p in enumerate(pieces)}
        problems.sort(key=lambda u: order.get(u.path.split(" + ")[0], len(order)))
        raise UnmappableError(source, problems)
    if not checked:
        raise UnmappableError(source, [Unmapped(name, "model", "it holds no layer to read")])
    model = Model(
        name,
        Input(input_shape.channels, input_shape.size, input_shape.dtype),
        tuple(p.layer for p in checked),
    )
    return model, checked


@dataclass(frozen=True)
class Mismatch:
    """The first place two specs differ: layer index (None: the model), field, both values.

    Example:
        >>> str(Mismatch(1, "conv", "kernel_size", (3, 3), (5, 5)))
        'layer 1 (conv): kernel_size: torch (3, 3), keras (5, 5)'
    """

    index: int | None
    kind: str
    field: str
    torch: Any
    keras: Any

    def __str__(self) -> str:
        where = "model" if self.index is None else f"layer {self.index} ({self.kind})"
        return f"{where}: {self.field}: torch {self.torch!r}, keras {self.keras!r}"


def _effective(layer: Layer, formula: LayerFormula) -> dict[str, Any]:
    """Fields that define the function, with padding as the pads it really applies."""
    skip = ("padding", "output_padding", "rank")
    out = {f.name: getattr(layer, f.name) for f in dataclasses.fields(layer) if f.name not in skip}
    if formula.pads is not None:
        out["padding"] = formula.pads
    if formula.extend is not None:
        out["output_padding"] = formula.extend
    return out


def spec_differences(torch_model: Model, keras_model: Model) -> list[Mismatch]:
    """Every field where two specs describe different networks (padding compared as
    the explicit pads applied, so ``padding=1`` and ``'same'`` agree for a 3x3 stride-1
    convolution).

    Example:
        >>> from compare.spec import Conv
        >>> a = Model("a", Input(1, (8, 8)), (Conv(filters=2, kernel_size=3, padding=1),))
        >>> b = Model("b", Input(1, (8, 8)), (Conv(filters=2, kernel_size=3, padding="same"),))
        >>> spec_differences(a, b)
        []
    """
    out: list[Mismatch] = []
    for name in ("channels", "size"):
        a, b = getattr(torch_model.input, name), getattr(keras_model.input, name)
        if a != b:
            out.append(Mismatch(None, "input", f"input.{name}", a, b))
    if out:
        return out
    fa, fb = infer(torch_model), infer(keras_model)
    for index, (la, lb) in enumerate(zip(torch_model.layers, keras_model.layers)):
        if la.kind != lb.kind:
            out.append(Mismatch(index, la.kind, "kind", la.kind, lb.kind))
            break  # the layers after a different kind cannot be paired
        ea, eb = _effective(la, fa[index]), _effective(lb, fb[index])
        for key in dict.fromkeys([*ea, *eb]):
            if ea.get(key) != eb.get(key):
                out.append(Mismatch(index, la.kind, key, ea.get(key), eb.get(key)))
    else:
        if len(torch_model.layers) != len(keras_model.layers):
            out.append(
                Mismatch(
                    None,
                    "model",
                    "number of layers",
                    len(torch_model.layers),
                    len(keras_model.layers),
                )
            )
    return out
