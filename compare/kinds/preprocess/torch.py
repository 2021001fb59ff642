"""PyTorch builders of the preprocessing family: PyTorch has no such layers (torchvision
normalises in its transforms, outside the model), so ``Rescaling`` and
``Normalization`` are small modules of ours computing Keras' definitions, the
normalization's statistics held as buffers.

Example:
    >>> Rescaling(0.5, 1.0)(torch.tensor([2.0])).tolist()
    [2.0]
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from compare.adapters.base import Built, Made
from compare.core.registry import register_part
from compare.formulas import LayerFormula
from compare.kinds.preprocess import spec

__all__ = [
    "Normalization",
    "Rescaling",
    "build_normalization",
    "build_rescaling",
    "normalization_initialisers",
    "preprocess_defaults",
]


class Rescaling(nn.Module):
    """``x * scale + offset`` (Keras' ``Rescaling``).

    Example:
        >>> Rescaling(2.0)
        Rescaling(scale=2.0, offset=0.0)
    """

    def __init__(self, scale: float, offset: float = 0.0) -> None:
        super().__init__()
        self.scale, self.offset = scale, offset

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.scale + self.offset

    def extra_repr(self) -> str:
        return f"scale={self.scale}, offset={self.offset}"


class Normalization(nn.Module):
    """``(x - mean) / max(sqrt(variance), eps)`` over dim 1 (the channels), or its
    inverse: Keras' ``Normalization(axis=-1)`` on a channels-first tensor, ``mean`` and
    ``variance`` buffers of shape (C,).

    Example:
        >>> n = Normalization(2)
        >>> sorted(name for name, _ in n.named_buffers())
        ['mean', 'variance']
    """

    mean: torch.Tensor
    variance: torch.Tensor

    def __init__(self, channels: int, invert: bool = False, eps: float = 1e-7) -> None:
        super().__init__()
        self.channels, self.invert, self.eps = channels, invert, eps
        self.register_buffer("mean", torch.zeros(channels))
        self.register_buffer("variance", torch.ones(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = (1, -1) + (1,) * (x.ndim - 2)
        mean = self.mean.reshape(shape)
        std = torch.clamp(torch.sqrt(self.variance), min=self.eps).reshape(shape)
        return x * std + mean if self.invert else (x - mean) / std

    def extra_repr(self) -> str:
        return f"{int(self.mean.shape[0])}, invert={self.invert}, eps={self.eps}"


@register_part("torch", "build", "rescaling")
def build_rescaling(layer: spec.Rescaling, formula: LayerFormula) -> Made:
    """Our ``Rescaling`` module.

    Example:
        >>> build_rescaling(spec.Rescaling(scale=0.5), None)[0]
        Rescaling(scale=0.5, offset=0.0)
    """
    note = (
        "PyTorch has no rescaling layer (torchvision's ToTensor divides by 255 in the data "
        "transforms): a module of ours computes x * scale + offset"
    )
    return Rescaling(layer.scale, layer.offset), {}, (("preprocessing", note),)


@register_part("torch", "build", "normalization")
def build_normalization(layer: spec.Normalization, formula: LayerFormula) -> Made:
    """Our ``Normalization`` module, its buffers the ``mean`` and ``variance`` roles.

    Example:
        >>> from compare.formulas import infer
        >>> from compare.spec import Input, Model
        >>> m = Model("m", Input(3, (4, 4)), (spec.Normalization(),))
        >>> sorted(build_normalization(m.layers[0], infer(m)[0])[1])
        ['mean', 'variance']
    """
    module = Normalization(formula.input.channels, layer.invert, spec.NORMALIZATION_EPSILON)
    roles = {"mean": (module, "mean"), "variance": (module, "variance")}
    return module, roles, ()


@register_part("torch", "initialisers", "normalization")
def normalization_initialisers(built: Built) -> dict[str, tuple[str, float | None]]:
    """Role -> (initialiser, std): mean zeros and variance ones, read from the buffers.

    Example:
        >>> m = Normalization(2)
        >>> normalization_initialisers(Built("torch", m, (), {"mean": (m, "mean")}))
        {'mean': ('constant(0)', 0.0)}
    """
    out: dict[str, tuple[str, float | None]] = {}
    for role, (module, attr) in built.roles.items():
        values = getattr(module, attr)
        out[role] = (f"constant({float(values.flatten()[0]):g})", float(values.std(correction=0)))
    return out


def preprocess_defaults(layer: Any, formula: LayerFormula) -> dict[str, Any]:
    """No PyTorch layer exists to have defaults: nothing to read.

    Example:
        >>> preprocess_defaults(spec.Rescaling(), None)
        {}
    """
    return {}


register_part("torch", "defaults", "rescaling", "normalization")(preprocess_defaults)
