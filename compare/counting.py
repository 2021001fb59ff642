"""FLOPs counted by each framework's own counter, attributed to the nodes, and memory.

Both counters run once per model, on the whole assembled forward at batch 1:

- PyTorch: ``torch.utils.flop_counter.FlopCounterMode`` around one call of the
  ``nn.Sequential`` / ``torch.fx.GraphModule``; its module tracker credits each
  count to every module on the stack, so a node's figure is the count of the child
  module the node was built as.
- TensorFlow: the Keras model's forward traced as a ``tf.function``, frozen with
  ``convert_variables_to_constants_v2`` and profiled with ``tf.compat.v1.profiler``
  and ``ProfileOptionBuilder.float_operation()``; each op is attributed to the node
  whose Keras layer names its name scope (``functional_1/conv_0_1/convolution``:
  layer ``conv_0``).

Figures for a batch of N samples are the batch-1 counts times N (``Counts.scaled``):
every op met here does the same work per sample (the tests hold the scaled figures
against both counters run on N samples).

A shape-only model (built without weight memory) is counted too. PyTorch's counter
then runs on the ``meta`` device, where nothing is computed; there a recurrent
layer's fused CPU kernel (``aten.lstm``, which the counter has no formula for and
counts as 0) decomposes into the matmuls the counter does count, so the two modes
differ on those layers (``compare.comparison`` leaves the kinds that are not
``counted_shape_only`` without a figure in that mode). TensorFlow's profiler reads
the graph and never runs it; a shape-only Keras model has no weight values, so its
forward is traced with each variable mapped to a symbolic zeros tensor of its shape
(a ``keras.StatelessScope``) and then frozen the same way.

Where a model cannot be assembled in one framework (a layer it cannot express), that
framework's supported layers are counted one by one instead.

The formulas' MACs (``compare.core.work``) are the oracle; ``explain`` names why a
counter differs from twice the MACs, from the figures alone.

Example:
    >>> explain(Work(10, "10", bias_adds=3), torch=20, keras=23)
    ('TensorFlow counts the 3 bias adds (one FLOP each); PyTorch does not',)
"""

from __future__ import annotations

import contextlib
import io
import itertools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from compare.core.graph import Graph
from compare.core.work import Work

__all__ = [
    "ITEMSIZE",
    "Counts",
    "array_bytes",
    "count_keras",
    "count_pair",
    "count_torch",
    "explain",
    "held_bytes",
    "peak_activation_bytes",
]

#: Bytes per element of each float dtype a comparison runs in.
ITEMSIZE = {"float32": 4, "float64": 8}


@dataclass(frozen=True)
class Counts:
    """One framework's counter on one model: FLOPs per node index (None: not counted),
    and what it counted outside every node.

    Example:
        >>> Counts({0: 6, 1: None}, 0).total
        >>> Counts({0: 6, 1: 4}, 0).total
        10
    """

    per_node: Mapping[int, int | None]
    unattributed: int = 0

    def scaled(self, batch: int) -> Counts:
        """The counts for ``batch`` samples: each figure times ``batch``. Every op the
        counters meet here (convolutions, matmuls, element-wise work) does the same
        work per sample, so the count is linear in the batch size (the tests hold that
        against the counters run on ``batch`` samples).

        Example:
            >>> Counts({0: 6, 1: None}, 1).scaled(4)
            Counts(per_node={0: 24, 1: None}, unattributed=4)
        """
        per_node = {i: None if v is None else v * batch for i, v in self.per_node.items()}
        return Counts(per_node, self.unattributed * batch)

    @property
    def total(self) -> int | None:
        """The model's FLOPs; None when some node was not counted."""
        values = list(self.per_node.values())
        if any(v is None for v in values):
            return None
        return sum(v for v in values if v is not None) + self.unattributed


def explain(work: Work | None, *, torch: int | None, keras: int | None) -> tuple[str, ...]:
    """Why each counter differs from twice the formula's MACs (and from the other),
    named from the figures: bias adds, activations, other element-wise work.

    Example:
        >>> explain(Work(0, "0", activations=8), torch=0, keras=0)
        ()
        >>> explain(Work(0, "0", activations=8), torch=0, keras=8)
        ('TensorFlow counts 8 FLOPs beyond 2*MACs: the 8 activation evaluations; PyTorch does not',)
    """
    if work is None:
        return ()
    expected = work.flops
    notes: list[str] = []
    counted = {"PyTorch": torch, "TensorFlow": keras}
    extra = {name: (v - expected if v is not None else None) for name, v in counted.items()}
    if extra["TensorFlow"] == work.bias_adds and work.bias_adds and extra["PyTorch"] == 0:
        return (
            f"TensorFlow counts the {work.bias_adds} bias adds (one FLOP each); PyTorch does not",
        )
    parts = {
        "bias adds": work.bias_adds,
        "activation evaluations": work.activations,
        "other element-wise ops": work.other,
    }
    for name, more in extra.items():
        if not more:
            continue
        assert more is not None
        other = "PyTorch" if name == "TensorFlow" else "TensorFlow"
        tail = f"; {other} does not" if extra[other] == 0 else ""
        listed = {what: n for what, n in parts.items() if n}
        matches = [f"the {n} {what}" for what, n in listed.items() if n == more]
        if more < 0:
            notes.append(
                f"{name} counts {-more} FLOPs fewer than 2*MACs = {expected}: its counter "
                "has no formula for some of the ops doing the multiply-adds"
            )
        elif matches:
            notes.append(f"{name} counts {more} FLOPs beyond 2*MACs: {matches[0]}{tail}")
        elif listed and more == sum(listed.values()):
            notes.append(
                f"{name} counts {more} FLOPs beyond 2*MACs: the "
                + " and ".join(f"{n} {what}" for what, n in listed.items())
                + f", one FLOP each{tail}"
            )
        else:
            shown = ", ".join(f"{n} {what}" for what, n in listed.items())
            notes.append(
                f"{name} counts {more} FLOPs beyond 2*MACs = {expected}, by its own rules "
                "for the ops it runs" + (f" (the formula lists {shown}, one each)" if shown else "")
            )
    return tuple(notes)


def peak_activation_bytes(
    graph: Graph, input_bytes: int, node_bytes: Sequence[int | None]
) -> int | None:
    """The peak of the activation memory of one forward pass, nodes run in order: a
    value is held from the node that makes it until its last reader has run, and a
    node's output is allocated while its inputs are still held (weights not counted).

    Example:
        >>> from compare.core.graph import Graph
        >>> peak_activation_bytes(Graph.chain(["a", "b"]), 100, [40, 10])
        140
    """
    if any(b is None for b in node_bytes):
        return None
    sizes: dict[str, int] = {graph.inputs[0]: input_bytes}
    last = {name: i for i, node in enumerate(graph.nodes) for name in node.inputs}
    for name in graph.outputs:
        last[name] = len(graph.nodes)
    held = input_bytes
    peak = held
    for index, (node, size) in enumerate(zip(graph.nodes, node_bytes, strict=True)):
        assert size is not None
        sizes[node.name] = size
        held += size
        peak = max(peak, held)
        for name in {*node.inputs, node.name}:
            if last.get(name, index) <= index:
                held -= sizes[name]
    return peak


# -- PyTorch --------------------------------------------------------------------------


def _torch_input(shapes: Sequence[Any], dtype: str, device: str) -> list[Any]:
    import torch

    out = []
    for shape in shapes:
        dims = [int(d) for d in shape.torch()[1:] if d is not None]
        kind = torch.int64 if shape.dtype == "int" else getattr(torch, dtype)
        out.append(torch.zeros((1, *dims), dtype=kind, device=device))
    return out


def _device(module: Any) -> str:
    """``meta`` for a module built without weight memory (shape-only), else ``cpu``."""
    tensors = itertools.chain(module.parameters(), module.buffers())
    return "meta" if any(t.is_meta for t in tensors) else "cpu"


def _torch_flops(module: Any, shapes: Sequence[Any], dtype: str) -> dict[str, int]:
    """FlopCounterMode on one call on zeros of ``shapes`` at batch 1: total FLOPs per
    module name it tracked."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    inputs = _torch_input(shapes, dtype, _device(module))
    counter = FlopCounterMode(display=False)
    # With grad enabled: under no_grad, nn.MultiheadAttention in eval mode takes its
    # fused fast path (torch._native_multi_head_attention), for which the counter has
    # no formula, and would count 0 FLOPs for an attention layer.
    with torch.enable_grad(), counter:
        module(*inputs)
    return {name: sum(ops.values()) for name, ops in counter.get_flop_counts().items()}


def count_torch(pair: Any) -> Counts:
    """PyTorch's ``FlopCounterMode`` on ``pair.torch``, once, per node.

    Example:
        >>> from compare.catalog import seed_model
        >>> from compare.parity import build
        >>> count_torch(build(seed_model())).total
        3896640
    """
    from compare.adapters.base import Built, Unsupported

    layers = pair.sides["torch"].layers
    try:
        module = pair.torch
    except Unsupported:
        return _torch_layer_by_layer(pair)
    index_of = {id(b.obj): i for i, b in enumerate(layers) if isinstance(b, Built)}
    flops = _torch_flops(module, pair.formulas[0].input_shapes[:1], pair.dtype)
    root = type(module).__name__
    per_node: dict[int, int | None] = dict.fromkeys(range(len(layers)), 0)
    for child_name, child in module.named_children():
        if id(child) in index_of:
            per_node[index_of[id(child)]] = flops.get(f"{root}.{child_name}", 0)
    attributed = sum(v for v in per_node.values() if v is not None)
    return Counts(per_node, flops.get("Global", 0) - attributed)


def _torch_layer_by_layer(pair: Any) -> Counts:
    from compare.adapters.base import Built

    per_node: dict[int, int | None] = {}
    for index, built in enumerate(pair.sides["torch"].layers):
        if not isinstance(built, Built):
            per_node[index] = None
            continue
        shapes = pair.formulas[index].input_shapes
        per_node[index] = _torch_flops(built.obj, shapes, pair.dtype).get("Global", 0)
    return Counts(per_node)


# -- TensorFlow -----------------------------------------------------------------------


def _tf_graph(model: Any, spec: Any) -> Any:
    """The graph of ``model``'s forward on ``spec``: frozen (its variables' values as
    constants), or, where the variables have no values (shape-only), traced with each
    one mapped to a symbolic zeros tensor of its shape, which is never run."""
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import (
        convert_variables_to_constants_v2,
    )

    from compare.adapters._keras_import import keras

    def stateless(x: Any) -> Any:
        mapping = [(v, tf.zeros(tuple(v.shape), v.dtype)) for v in model.variables]
        with keras.StatelessScope(state_mapping=mapping, initialize_variables=False):
            return model(x, training=False)

    valued = all(getattr(v, "_value", True) is not None for v in model.variables)
    forward = tf.function((lambda x: model(x, training=False)) if valued else stateless)
    return convert_variables_to_constants_v2(forward.get_concrete_function(spec)).graph


def _tf_op_flops(model: Any, shape: Any, dtype: str) -> dict[str, int]:
    """TensorFlow's profiler on the frozen graph of ``model``'s forward at batch 1:
    float ops per op name."""
    import tensorflow as tf

    dims = tuple(int(d) for d in shape.keras()[1:] if d is not None)
    tf_dtype = tf.int64 if shape.dtype == "int" else getattr(tf, dtype)
    graph = _tf_graph(model, tf.TensorSpec((1, *dims), tf_dtype))
    builder = tf.compat.v1.profiler.ProfileOptionBuilder
    options = builder(builder.float_operation()).with_empty_output().build()
    with contextlib.redirect_stderr(io.StringIO()):  # "n ops no flops stats ..." lines
        profile = tf.compat.v1.profiler.profile(graph, options=options)
    out: dict[str, int] = {}

    def walk(node: Any) -> None:
        if node.float_ops:
            out[node.name] = out.get(node.name, 0) + int(node.float_ops)
        for child in node.children:
            walk(child)

    walk(profile)
    return out


_SUFFIX = re.compile(r"_\d+$")


def _owner(op_name: str, layer_index: Mapping[str, int]) -> int | None:
    """The node whose Keras layer names a scope of ``op_name`` (``conv_0`` or, as Keras
    uniquifies a scope, ``conv_0_1``), or None."""
    for segment in op_name.split("/"):
        if segment in layer_index:
            return layer_index[segment]
        stripped = _SUFFIX.sub("", segment)
        if stripped in layer_index:
            return layer_index[stripped]
    return None


def count_keras(pair: Any) -> Counts:
    """TensorFlow's profiler on the frozen forward of ``pair.keras``, once, per node.

    Example:
        >>> from compare.catalog import seed_model
        >>> from compare.parity import build
        >>> count_keras(build(seed_model())).total
        3928298
    """
    from compare.adapters.base import Built, Unsupported

    layers = pair.sides["keras"].layers
    try:
        model = pair.keras
    except Unsupported:
        return _keras_layer_by_layer(pair)
    layer_index = {
        part.name: i for i, b in enumerate(layers) if isinstance(b, Built) for part in b.obj
    }
    per_node: dict[int, int | None] = dict.fromkeys(range(len(layers)), 0)
    unattributed = 0
    for name, flops in _tf_op_flops(model, pair.formulas[0].input, pair.dtype).items():
        owner = _owner(name, layer_index)
        if owner is None:
            unattributed += flops
        else:
            per_node[owner] = (per_node[owner] or 0) + flops
    return Counts(per_node, unattributed)


def _keras_layer_by_layer(pair: Any) -> Counts:
    from compare.adapters._keras_import import keras
    from compare.adapters.base import Built

    per_node: dict[int, int | None] = {}
    for index, built in enumerate(pair.sides["keras"].layers):
        shapes = pair.formulas[index].input_shapes
        if not isinstance(built, Built) or len(shapes) != 1:  # a merge alone: not counted
            per_node[index] = None
            continue
        shape = shapes[0]
        dims = tuple(int(d) for d in shape.keras()[1:] if d is not None)
        x = keras.Input(shape=dims, dtype="int64" if shape.dtype == "int" else pair.dtype)
        y = x
        for part in built.obj:
            y = part(y)
        flops = _tf_op_flops(keras.Model(x, y), shape, pair.dtype)
        per_node[index] = sum(flops.values())
    return Counts(per_node)


def count_pair(pair: Any) -> dict[str, Counts]:
    """Both counters on one built pair at batch 1: framework -> ``Counts``. A shape-only
    pair (``build(..., shape_only=True)``) is counted too.

    Example:
        >>> from compare.catalog import seed_model
        >>> from compare.parity import build
        >>> {k: c.total for k, c in count_pair(build(seed_model())).items()}
        {'torch': 3896640, 'keras': 3928298}
        >>> count_pair(build(seed_model(), shape_only=True))["torch"].scaled(8).total
        31173120
    """
    return {"torch": count_torch(pair), "keras": count_keras(pair)}


def array_bytes(shape: Sequence[int | None] | None, dtype: str, batch: int = 1) -> int | None:
    """Bytes of one activation of ``batch`` samples from its observed shape (batch
    axis first, whatever its observed size).

    Example:
        >>> array_bytes((None, 40, 26, 26), "float32"), array_bytes((2, 4), "float32", 8)
        (108160, 128)
    """
    if shape is None:
        return None
    return batch * math.prod(int(d) for d in shape[1:] if d is not None) * ITEMSIZE[dtype]


def held_bytes(framework: str, built: Any) -> tuple[int, int]:
    """(parameter bytes, buffer bytes) one built layer holds, read from the framework:
    PyTorch's parameters and buffers; Keras' weights (trainable or not) and its other
    variables (a dropout's seed state).

    Example:
        >>> import torch
        >>> from compare.adapters.base import Built
        >>> held_bytes("torch", Built("torch", torch.nn.BatchNorm1d(4), ("BatchNorm1d",)))
        (32, 40)
    """
    import numpy as np

    if framework == "torch":
        module = built.obj
        params = sum(p.numel() * p.element_size() for p in module.parameters())
        buffers = sum(b.numel() * b.element_size() for b in module.buffers())
        return int(params), int(buffers)
    params = buffers = 0
    for part in built.obj:
        weights = part.weights
        ids = {id(w) for w in weights}
        for v in part.variables:
            size = math.prod(int(d) for d in v.shape) * np.dtype(v.dtype).itemsize
            if id(v) in ids:
                params += size
            else:
                buffers += size
    return params, buffers
