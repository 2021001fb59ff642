"""The two model zoos for the tests: keras.applications and torchvision.models.

PyPI's torchvision wheel links CUDA; beside the CPU torch of these machines its import
fails with "operator torchvision::nms does not exist", because the C++ ops that would
register the schemas of ``nms`` and ``qnms`` are not loaded. Defining the two schemas
first lets ``torchvision.models`` import (the models never call them). This lives in
the tests only: the package never imports torchvision.
"""

from __future__ import annotations

import functools
from typing import Any

import torch

_LIBRARIES: list[Any] = []


@functools.cache
def torchvision() -> Any:
    """``torchvision``, imported once with its two op schemas defined if missing."""
    try:
        torch.ops.torchvision.nms.default  # noqa: B018 - registered by the C++ ops
    except (AttributeError, RuntimeError):
        lib = torch.library.Library("torchvision", "DEF")
        lib.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
        lib.define("qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
        _LIBRARIES.append(lib)  # keep the schemas alive
    import torchvision as tv
    import torchvision.models

    return tv


def torch_model(name: str, **kwargs: Any) -> torch.nn.Module:
    """A torchvision classifier with random weights (nothing is downloaded)."""
    tv = torchvision()
    torch.manual_seed(0)
    return tv.models.get_model(name, weights=None, **kwargs).eval()
