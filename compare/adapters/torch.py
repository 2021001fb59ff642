"""PyTorch adapter: channels-first ``nn`` modules built from specs, facts read back.

One builder per family, parameterised by rank through class tables. Each builder
makes the faithful equivalent of the spec: where ``nn.ConvNd`` cannot express the
spec's padding (TF's asymmetric 'same' with strides), an explicit ``ZeroPadNd``
precedes an unpadded conv; a transposed conv whose crop is asymmetric is followed
by a ``Crop``; a dense layer on a feature map moves channels last and back.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn

from compare import layouts
from compare.adapters.base import Built, LayerTables, Notes, Unsupported, WeightFact
from compare.formulas import LayerFormula
from compare.spec import Conv, ConvTranspose, Dense, DepthwiseConv, Flatten, Layer, SeparableConv

__all__ = ["Crop", "MoveAxis", "TorchAdapter"]

_CONV: dict[int, type[nn.Module]] = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}
_CONV_T: dict[int, type[nn.Module]] = {
    1: nn.ConvTranspose1d,
    2: nn.ConvTranspose2d,
    3: nn.ConvTranspose3d,
}
_ZERO_PAD: dict[int, type[nn.Module]] = {1: nn.ZeroPad1d, 2: nn.ZeroPad2d, 3: nn.ZeroPad3d}
_DTYPES = {"float32": torch.float32, "float64": torch.float64}


class MoveAxis(nn.Module):
    """Move one axis (``torch.movedim``): lets ``nn.Linear`` act on the channel axis.

    Example:
        >>> MoveAxis(1, -1)(torch.zeros(2, 3, 5)).shape
        torch.Size([2, 5, 3])
    """

    def __init__(self, source: int, destination: int) -> None:
        super().__init__()
        self.source, self.destination = source, destination

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.movedim(x, self.source, self.destination)

    def extra_repr(self) -> str:
        return f"{self.source}, {self.destination}"


class Crop(nn.Module):
    """Crop (start, end) elements from each spatial axis of a channels-first tensor.

    Example:
        >>> Crop(((0, 1), (1, 1)))(torch.zeros(1, 2, 5, 5)).shape
        torch.Size([1, 2, 4, 3])
    """

    def __init__(self, crops: tuple[tuple[int, int], ...]) -> None:
        super().__init__()
        self.crops = crops

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        index: list[slice] = [slice(None), slice(None)]
        index += [slice(a, x.shape[2 + i] - b) for i, (a, b) in enumerate(self.crops)]
        return x[tuple(index)]

    def extra_repr(self) -> str:
        return f"crops={self.crops}"


def _pad_arg(pads: tuple[tuple[int, int], ...]) -> tuple[int, ...]:
    """``nn.ZeroPadNd`` wants (last-axis before, after, previous axis ...)."""
    out: list[int] = []
    for before, after in reversed(pads):
        out += [before, after]
    return tuple(out)


def _padded_conv(
    layer: Conv | DepthwiseConv | SeparableConv,
    formula: LayerFormula,
    make: Callable[[Any], nn.Module],
) -> tuple[nn.Module, nn.Module, Notes]:
    """The conv made by ``make(padding)``, preceded by a ZeroPad when asymmetric.

    Returns (whole module, the conv inside it, notes).
    """
    assert formula.pads is not None
    rank = len(formula.pads)
    symmetric = all(before == after for before, after in formula.pads)
    if symmetric:
        conv = make(tuple(before for before, _ in formula.pads))
        return conv, conv, ()
    conv = make(0)
    pad = _ZERO_PAD[rank](_pad_arg(formula.pads))
    per_axis = ", ".join(f"({a}, {b})" for a, b in formula.pads)
    note = (
        f"padding (before, after) per axis {per_axis} is asymmetric; nn.Conv{rank}d pads "
        "symmetrically and refuses padding='same' with strides > 1, so "
        f"ZeroPad{rank}d({_pad_arg(formula.pads)}) precedes a Conv{rank}d(padding=0)"
    )
    return nn.Sequential(pad, conv), conv, (("padding", note),)


class TorchAdapter(LayerTables):
    """Builds specs as ``torch.nn`` modules on CPU and reads their facts.

    Example:
        >>> from compare.spec import Input, Model, Conv
        >>> from compare.formulas import infer
        >>> m = Model("m", Input(1, (8, 8)), (Conv(filters=2, kernel_size=3),))
        >>> TorchAdapter().build(m.layers[0], infer(m)[0], 0, "float32").classes
        ('Conv2d',)
    """

    name = "torch"
    tables = "compare.adapters.torch_layers"

    def __init__(self) -> None:
        self._builders: dict[type[Layer], Callable[..., Built]] = {
            Conv: self._conv,
            ConvTranspose: self._conv_transpose,
            DepthwiseConv: self._depthwise,
            SeparableConv: self._separable,
            Dense: self._dense,
            Flatten: self._flatten,
        }
        # Sequence families (lstm, gru, simple_rnn, embedding) live in their own module.
        from compare.adapters import torch_sequence

        for cls, make in torch_sequence.BUILDERS.items():
            self._builders[cls] = lambda layer, formula, make=make: self._made(
                *make(layer, formula)
            )

        # Normalisation, pooling, dropout and activation kinds: their own module too.
        from compare.adapters.torch_layers import LAYER_BUILDERS

        for cls, make in LAYER_BUILDERS.items():
            self._builders[cls] = self._wrap(make)

    def _wrap(self, make: Callable[..., tuple[nn.Module, dict[str, Any], Notes]]) -> Callable:
        def builder(layer: Layer, formula: LayerFormula) -> Built:
            module, roles, notes = make(layer, formula)
            return self._made(module, roles, notes)

        return builder

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
    ) -> Built:
        builder = self._builders.get(type(layer))
        if builder is None:
            raise Unsupported(f"the torch adapter has no builder for kind '{layer.kind}'")
        # On the meta device parameters have shapes and dtypes but no storage.
        with torch.device("meta") if shape_only else contextlib.nullcontext():
            built = builder(layer, formula)
            activation = getattr(layer, "activation", "linear")
            if layer.post_activation and activation != "linear":
                from compare.adapters.torch_layers import with_activation

                built = with_activation(built, activation)
        if torch.get_default_dtype() != _DTYPES[dtype]:  # a no-op walk otherwise
            built.obj.to(_DTYPES[dtype])
        built.obj.eval()
        return built

    def _conv(self, layer: Conv, formula: LayerFormula) -> Built:
        rank = formula.input.rank

        def make(padding: Any) -> nn.Module:
            return _CONV[rank](
                formula.input.channels,
                layer.filters,
                layer.kernel_size,
                stride=layer.strides,
                padding=padding,
                dilation=layer.dilation,
                groups=layer.groups,
                bias=layer.use_bias,
            )

        module, conv, notes = _padded_conv(layer, formula, make)
        return self._made(module, {"kernel": (conv, "weight"), "bias": (conv, "bias")}, notes)

    def _conv_transpose(self, layer: ConvTranspose, formula: LayerFormula) -> Built:
        assert formula.pads is not None and formula.extend is not None
        rank = formula.input.rank
        symmetric = all(a == b for a, b in formula.pads)
        padding = tuple(a for a, _ in formula.pads) if symmetric else 0
        conv = _CONV_T[rank](
            formula.input.channels,
            layer.filters,
            layer.kernel_size,
            stride=layer.strides,
            padding=padding,
            output_padding=formula.extend,
            groups=layer.groups,
            bias=layer.use_bias,
            dilation=layer.dilation,
        )
        if symmetric:
            return self._made(conv, {"kernel": (conv, "weight"), "bias": (conv, "bias")})
        note = (
            f"the crop {formula.pads} of the full transposed output is asymmetric; "
            f"nn.ConvTranspose{rank}d crops symmetrically, so it runs with padding=0 "
            "and a Crop follows"
        )
        module = nn.Sequential(conv, Crop(formula.pads))
        roles = {"kernel": (conv, "weight"), "bias": (conv, "bias")}
        return self._made(module, roles, (("padding", note),))

    def _depthwise(self, layer: DepthwiseConv, formula: LayerFormula) -> Built:
        rank, c = formula.input.rank, formula.input.channels

        def make(padding: Any) -> nn.Module:
            return _CONV[rank](
                c,
                c * layer.depth_multiplier,
                layer.kernel_size,
                stride=layer.strides,
                padding=padding,
                dilation=layer.dilation,
                groups=c,
                bias=layer.use_bias,
            )

        module, conv, notes = _padded_conv(layer, formula, make)
        roles = {"depthwise_kernel": (conv, "weight"), "bias": (conv, "bias")}
        text = (
            f"PyTorch has no depthwise class: Conv{rank}d(groups={c}, "
            f"out_channels={c}*{layer.depth_multiplier})"
        )
        return self._made(module, roles, (*notes, ("realisation", text)))

    def _separable(self, layer: SeparableConv, formula: LayerFormula) -> Built:
        rank, c = formula.input.rank, formula.input.channels
        cm = c * layer.depth_multiplier

        def make(padding: Any) -> nn.Module:
            return _CONV[rank](
                c,
                cm,
                layer.kernel_size,
                stride=layer.strides,
                padding=padding,
                dilation=layer.dilation,
                groups=c,
                bias=False,
            )

        module, depthwise, notes = _padded_conv(layer, formula, make)
        pointwise = _CONV[rank](cm, layer.filters, 1, bias=layer.use_bias)
        parts = list(module) if isinstance(module, nn.Sequential) else [module]
        roles = {
            "depthwise_kernel": (depthwise, "weight"),
            "pointwise_kernel": (pointwise, "weight"),
            "bias": (pointwise, "bias"),
        }
        text = (
            f"PyTorch has no separable class: Conv{rank}d(groups={c}, bias=False) then a "
            f"{'x'.join('1' * rank)} Conv{rank}d with the only bias"
        )
        return self._made(nn.Sequential(*parts, pointwise), roles, (*notes, ("realisation", text)))

    def _dense(self, layer: Dense, formula: LayerFormula) -> Built:
        linear = nn.Linear(formula.input.channels, layer.units, bias=layer.use_bias)
        roles = {"kernel": (linear, "weight"), "bias": (linear, "bias")}
        if formula.input.rank == 0:
            return self._made(linear, roles)
        note = "nn.Linear acts on the last axis, so channels move last and back"
        module = nn.Sequential(MoveAxis(1, -1), linear, MoveAxis(-1, 1))
        return self._made(module, roles, (("dense_on_map", note),))

    def _flatten(self, layer: Flatten, formula: LayerFormula) -> Built:
        return self._made(nn.Flatten(), {})

    @staticmethod
    def _made(module: nn.Module, roles: dict[str, Any], notes: Notes = ()) -> Built:
        classes = tuple(
            type(m).__name__ for m in (module if isinstance(module, nn.Sequential) else [module])
        )
        live = {role: ref for role, ref in roles.items() if getattr(*ref) is not None}
        return Built("torch", module, classes, live, notes)

    # -- running and reading --------------------------------------------------------
    def run(self, built: Built, x: np.ndarray, *, training: bool = False) -> np.ndarray:
        """Run in eval() mode, or in train() mode for one batch when ``training``
        (batch norms then update their running statistics)."""
        module: nn.Module = built.obj
        module.train(training)
        try:
            with torch.no_grad():
                return module(torch.from_numpy(np.ascontiguousarray(x))).numpy()
        finally:
            module.eval()

    def run_with(self, built: Built, weights: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
        """Run with role arrays (torch layout) in place of the layer's own weights,
        which are put back afterwards."""
        params = [getattr(*built.roles[role]) for role in weights]
        saved = [p.data for p in params]
        with torch.no_grad():
            try:  # swap the tensors behind the parameters: no copy, nothing re-registered
                for p, a in zip(params, weights.values()):
                    p.data = torch.from_numpy(np.ascontiguousarray(a))
                return built.obj(torch.from_numpy(np.ascontiguousarray(x))).numpy()
            finally:
                for p, data in zip(params, saved):
                    p.data = data

    def output_shape(
        self, built: Built, input_shape: tuple[int, ...], dtype: str
    ) -> tuple[int, ...]:
        with torch.no_grad():
            x_dtype = torch.int64 if dtype == "int64" else _DTYPES[dtype]  # token ids
            x = torch.empty(input_shape, dtype=x_dtype, device="meta")
            return tuple(int(d) for d in built.obj(x).shape)

    def facts(self, built: Built, layer: Layer, formula: LayerFormula) -> dict[str, Any]:
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
        return {
            "weights": tuple(weights),
            "trainable_params": trainable,
            "non_trainable_params": non_trainable,
            "buffers": buffers,
        }

    def get_weights(self, built: Built) -> dict[str, np.ndarray]:
        return {
            role: getattr(*ref).detach().cpu().numpy().copy() for role, ref in built.roles.items()
        }

    def weight_shapes(self, built: Built) -> dict[str, tuple[int, ...]]:
        return {role: tuple(getattr(*ref).shape) for role, ref in built.roles.items()}

    def set_weights(self, built: Built, weights: dict[str, np.ndarray]) -> None:
        with torch.no_grad():
            for role, array in weights.items():
                param = getattr(*built.roles[role])
                if tuple(param.shape) != array.shape:
                    raise ValueError(
                        f"torch {role}: expected shape {tuple(param.shape)}, got {array.shape}"
                    )
                param.copy_(torch.from_numpy(np.ascontiguousarray(array)))

    def assemble(
        self,
        builts: list[Built],
        input_shape: tuple[int, ...],
        dtype: str,
        input_dtype: str | None = None,
    ) -> Any:
        return nn.Sequential(*(b.obj for b in builts)).to(_DTYPES[dtype]).eval()
