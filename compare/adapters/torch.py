"""PyTorch adapter: channels-first ``nn`` modules built from specs, facts read back.

The generic engine only: a layer is built by the ``"build"`` part its family
registers for ``torch`` (``compare/kinds/<family>/torch.py``, imported on first
use through ``compare.core.registry``); this module runs what was built, reads its
facts and weights, and chains layers into one module. It names no kind.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Collection
from typing import Any

import numpy as np
import torch
from torch import fx, nn

from compare import layouts
from compare.adapters import parts
from compare.adapters.base import Built, KindDefaults, Notes, Unsupported, WeightFact
from compare.adapters.torch_modules import Crop, MoveAxis
from compare.core.graph import Graph
from compare.formulas import LayerFormula
from compare.records import Facts
from compare.spec import Layer

# Crop and MoveAxis are re-exported: compare.importers.torch imports them from here.
__all__ = ["Crop", "MoveAxis", "TorchAdapter"]


def _tensor(array: np.ndarray, *, strided: bool = False) -> torch.Tensor:
    """A tensor over ``array``'s memory (a copy only if it is not contiguous, unless
    ``strided``: then a strided view, such as a transpose, is shared as it is), to be
    read only. A read-only array (a view of a Keras variable) is shared too: PyTorch
    warns that it cannot mark the tensor read-only, and nothing here writes to it."""
    if not strided or any(st < 0 for st in array.strides):
        array = np.ascontiguousarray(array)
    if array.flags.writeable:
        return torch.from_numpy(array)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return torch.from_numpy(array)


#: Dtypes a blank build zeroes through numpy: its zeros come from calloc, whose pages
#: the kernel maps zeroed when first written (by a port that copies into them; one
#: that hands over its own copy, ``set_weights(take=...)``, never touches them), where
#: torch.zeros writes every page itself. ResNet50's 100 MB of weights cost 0.34 s more
#: in page faults that way on these machines.
_CALLOC_DTYPES = {torch.float32: np.float32, torch.float64: np.float64, torch.int64: np.int64}


def _zeros_for_meta(module: nn.Module) -> None:
    """Give every parameter and buffer of a module built on ``meta`` zeroed CPU storage
    of its shape and dtype (a parameter keeps ``requires_grad``; one shared by several
    submodules stays shared).

    ``Module.to_empty`` does the same through ``torch.empty_like`` on meta tensors, whose
    Python reference implementation imports ``torch.fx.experimental.symbolic_shapes``
    and with it sympy: 1-1.7 s on the first blank build of a process.

    Example:
        >>> with torch.device("meta"):
        ...     m = nn.Linear(3, 2)
        >>> _zeros_for_meta(m)
        >>> m.weight.device.type, float(m.weight.detach().abs().sum()), m.weight.requires_grad
        ('cpu', 0.0, True)
    """
    # old tensor -> its zeros (the old one kept alive, so that no id is reused)
    done: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}
    for sub in module.modules():
        stores: tuple[dict[str, Any], ...] = (sub._parameters, sub._buffers)
        for store in stores:
            for name, tensor in store.items():
                if tensor is None or tensor.device.type != "meta":
                    continue
                if id(tensor) not in done:
                    np_dtype = _CALLOC_DTYPES.get(tensor.dtype)
                    if np_dtype is None:
                        zeros = torch.zeros(tensor.shape, dtype=tensor.dtype)
                    else:
                        zeros = torch.from_numpy(np.zeros(tuple(tensor.shape), np_dtype))
                    if isinstance(tensor, nn.Parameter):
                        zeros = nn.Parameter(zeros, requires_grad=tensor.requires_grad)
                    done[id(tensor)] = (tensor, zeros)
                store[name] = done[id(tensor)][1]


def _tensors(x: Any) -> list[torch.Tensor]:
    """One array, or a list of them (a node reading several values), as tensors."""
    arrays = x if isinstance(x, list) else [x]
    return [_tensor(a) for a in arrays]


def _identifier(name: str) -> str:
    """A node name as a submodule and fx node name (``"0"`` -> ``"node_0"``).

    Example:
        >>> _identifier("block 1.add"), _identifier("conv")
        ('node_block_1_add', 'conv')
    """
    clean = "".join(c if c.isalnum() or c == "_" else "_" for c in name)
    return clean if clean.isidentifier() and clean == name else f"node_{clean}"


_DTYPES = {"float32": torch.float32, "float64": torch.float64}


class TorchAdapter(KindDefaults):
    """Builds specs as ``torch.nn`` modules on CPU and reads their facts.

    Example:
        >>> from compare.spec import Input, Model, Conv
        >>> from compare.formulas import infer
        >>> m = Model("m", Input(1, (8, 8)), (Conv(filters=2, kernel_size=3),))
        >>> TorchAdapter().build(m.layers[0], infer(m)[0], 0, "float32").classes
        ('Conv2d',)
    """

    name = "torch"

    # -- building -----------------------------------------------------------------
    def clear(self) -> None:
        """PyTorch keeps no global state per module: nothing to release."""

    def seed(self, seed: int) -> None:
        """Seed the CPU generator the layers built next draw their weights from.

        ``torch.manual_seed`` would also queue seeds for CUDA, XPU and MTIA, each with
        a formatted traceback of the caller's stack (a cost that grows with stack
        depth); every layer here is built on the CPU, so the CPU generator is all
        there is to seed, and it gives the same weights.
        """
        torch.default_generator.manual_seed(seed)

    def build(
        self,
        layer: Layer,
        formula: LayerFormula,
        index: int,
        dtype: str,
        *,
        shape_only: bool = False,
        blank: bool = False,
    ) -> Built:
        make = parts.find(self.name, "build", layer.kind)
        if make is None:
            raise Unsupported(f"the torch adapter has no builder for kind '{layer.kind}'")
        # On the meta device parameters have shapes and dtypes but no storage.
        with torch.device("meta") if shape_only or blank else contextlib.nullcontext():
            built = self._made(layer.kind, *make(layer, formula))
            if layer.post_activation:
                built = parts.only(self.name, "post_activation")(built, layer, dtype)
        if blank and not shape_only:
            # storage without the initialisers' draws (reset_parameters never ran on
            # real memory), zeroed so that nothing reads uninitialised bytes
            _zeros_for_meta(built.obj)
        if torch.get_default_dtype() != _DTYPES[dtype]:  # a no-op walk otherwise
            built.obj.to(_DTYPES[dtype])
        built.obj.eval()
        return built

    @staticmethod
    def _made(kind: str, module: nn.Module, roles: dict[str, Any], notes: Notes = ()) -> Built:
        classes = tuple(
            type(m).__name__ for m in (module if isinstance(module, nn.Sequential) else [module])
        )
        live = {role: ref for role, ref in roles.items() if getattr(*ref) is not None}
        return Built("torch", module, classes, live, notes, kind)

    def initialisers(self, built: Built) -> dict[str, tuple[str, float | None]]:
        """Role -> (default initialiser, theoretical std) of a freshly built layer, from
        the ``"initialisers"`` part of its kind (PyTorch has no initialiser objects to
        read: each family says what its modules' ``reset_parameters`` draws)."""
        read = parts.find(self.name, "initialisers", built.kind)
        return read(built) if read is not None else {}

    # -- running and reading --------------------------------------------------------
    def run(self, built: Built, x: np.ndarray, *, training: bool = False) -> np.ndarray:
        """Run in eval() mode, or in train() mode for one batch when ``training``
        (batch norms then update their running statistics)."""
        module: nn.Module = built.obj
        module.train(training)
        try:
            with torch.no_grad():
                return module(*_tensors(x)).numpy()
        finally:
            module.eval()

    def trained_state(self, built: Built, x: np.ndarray) -> dict[str, np.ndarray]:
        """The role arrays after one ``train()``-mode batch; the layer's own are put back.

        Example:
            >>> from compare.spec import BatchNorm, Input, Model
            >>> from compare.parity import build
            >>> bn = build(Model("m", Input(2, (3,)), (BatchNorm(),))).sides["torch"].layers[0]
            >>> x = np.arange(12, dtype="float32").reshape(2, 2, 3)
            >>> after = TorchAdapter().trained_state(bn, x)
            >>> after = np.round(after["moving_mean"].astype(float), 2)  # 0.1 x channel means
            >>> after.tolist(), bn.obj.running_mean.tolist()
            ([0.4, 0.7], [0.0, 0.0])
        """
        saved = self.get_weights(built)
        try:
            self.run(built, x, training=True)
            return self.get_weights(built)
        finally:
            self.set_weights(built, saved)

    def run_with(self, built: Built, weights: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
        """Run with role arrays (torch layout) in place of the layer's own weights,
        which are put back afterwards. A strided array (a transposed view) is used as
        it is: ``nn.Linear`` multiplies by a transposed weight without copying it."""
        params = [getattr(*built.roles[role]) for role in weights]
        saved = [p.data for p in params]
        with torch.no_grad():
            try:  # swap the tensors behind the parameters: no copy, nothing re-registered
                for p, a in zip(params, weights.values()):
                    p.data = _tensor(a, strided=True)
                return built.obj(*_tensors(x)).numpy()
            finally:
                for p, data in zip(params, saved):
                    p.data = data

    def output_shape(
        self, built: Built, input_shape: tuple[int, ...], dtype: str
    ) -> tuple[int, ...]:
        shapes = input_shape if isinstance(input_shape, list) else [input_shape]
        with torch.no_grad():
            x_dtype = torch.int64 if dtype == "int64" else _DTYPES[dtype]  # token ids
            xs = [torch.empty(shape, dtype=x_dtype, device="meta") for shape in shapes]
            return tuple(int(d) for d in built.obj(*xs).shape)

    def facts(self, built: Built, layer: Layer, formula: LayerFormula) -> Facts:
        module: nn.Module = built.obj
        role_of = {id(getattr(*ref)): role for role, ref in built.roles.items()}
        weights = []
        trainable = non_trainable = 0
        for name, param in module.named_parameters():
            role = role_of.get(id(param))
            axes = layouts.weight_axes(layer, formula, role, "torch", param.dim()) if role else ()
            weights.append(
                WeightFact(name, tuple(param.shape), axes, bool(param.requires_grad), role)
            )
            if param.requires_grad:
                trainable += param.numel()
            else:
                non_trainable += param.numel()
        buffers = sum(b.numel() for b in module.buffers())
        return Facts(tuple(weights), trainable, non_trainable, buffers)

    def get_weights(self, built: Built) -> dict[str, np.ndarray]:
        return {role: view.copy() for role, view in self.weight_views(built).items()}

    def weight_views(self, built: Built) -> dict[str, np.ndarray]:
        """Read-only views of the role tensors, where ``get_weights`` copies them (an
        import's diagnostics read ResNet50's 100 MB of ported weights once, to measure
        them and to build the naive ports from). A write in place shows through.

        Example:
            >>> from compare.spec import Dense, Input, Model
            >>> from compare.parity import build
            >>> dense = build(Model("m", Input(3), (Dense(units=2),))).sides["torch"].layers[0]
            >>> view = TorchAdapter().weight_views(dense)["bias"]
            >>> with torch.no_grad():
            ...     _ = dense.obj.bias.fill_(7.0)
            >>> view.tolist(), view.flags.writeable
            ([7.0, 7.0], False)
        """
        out = {}
        for role, ref in built.roles.items():
            array = getattr(*ref).detach().cpu().numpy()
            array.flags.writeable = False
            out[role] = array
        return out

    def weight_shapes(self, built: Built) -> dict[str, tuple[int, ...]]:
        return {role: tuple(getattr(*ref).shape) for role, ref in built.roles.items()}

    def set_weights(
        self, built: Built, weights: dict[str, np.ndarray], *, take: Collection[str] = ()
    ) -> None:
        """Copy role arrays into the module's tensors. An array of a role in ``take``
        (the caller gives it away), of the tensor's dtype, C-contiguous and writeable,
        becomes the tensor's storage instead (``tensor.data`` swapped; the Parameter
        and its registration are unchanged). The port's fresh copies are then not
        copied a second time, and a blank build's zeroed pages are never touched.

        Example:
            >>> from compare.spec import Dense, Input, Model
            >>> from compare.parity import build
            >>> dense = build(Model("m", Input(3), (Dense(units=2),))).sides["torch"].layers[0]
            >>> bias = np.array([1.0, 2.0], dtype="float32")
            >>> TorchAdapter().set_weights(dense, {"bias": bias}, take={"bias"})
            >>> bias[0] = 5.0  # the module's bias is now this array's memory
            >>> dense.obj.bias.tolist(), isinstance(dense.obj.bias, torch.nn.Parameter)
            ([5.0, 2.0], True)
        """
        with torch.no_grad():
            for role, array in weights.items():
                param = getattr(*built.roles[role])
                if tuple(param.shape) != array.shape:
                    raise ValueError(
                        f"torch {role}: expected shape {tuple(param.shape)}, got {array.shape}"
                    )
                if (
                    role in take
                    and array.flags.c_contiguous
                    and array.flags.writeable
                    and _DTYPES.get(str(array.dtype)) == param.dtype
                    and param.device.type == "cpu"
                ):
                    param.data = torch.from_numpy(array)
                else:
                    param.copy_(_tensor(array))

    def assemble(
        self,
        builts: list[Built],
        input_shape: tuple[int, ...],
        dtype: str,
        input_dtype: str | None = None,
        graph: Graph | None = None,
    ) -> Any:
        """An ``nn.Sequential`` for a chain; for a graph, a ``torch.fx.GraphModule`` with
        one ``call_module`` per node (its submodules named after the nodes)."""
        if graph is None or graph.is_chain:
            return nn.Sequential(*(b.obj for b in builts)).to(_DTYPES[dtype]).eval()
        root = nn.Module()
        fx_graph = fx.Graph()
        env = {name: fx_graph.placeholder(_identifier(name)) for name in graph.inputs}
        for node, built in zip(graph.nodes, builts, strict=True):
            target = _identifier(node.name)
            root.add_module(target, built.obj)
            env[node.name] = fx_graph.call_module(target, tuple(env[name] for name in node.inputs))
        outs = [env[name] for name in graph.outputs]
        fx_graph.output(outs[0] if len(outs) == 1 else tuple(outs))
        return fx.GraphModule(root, fx_graph).to(_DTYPES[dtype]).eval()
