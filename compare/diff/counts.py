"""Parameter counts read from the frameworks themselves: whole models and per node.

PyTorch: ``named_parameters`` (trainable where ``requires_grad``) and ``named_buffers``;
Keras: ``count_params``, ``trainable_weights`` and ``non_trainable_weights``. A node's
count is that of the source modules / layers the importer read it from
(``Imported.paths``), each tensor counted once however often its module is called.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Counts", "keras_counts", "torch_counts"]


@dataclass(frozen=True)
class Counts:
    """Parameter counts of one side, as its framework counts them.

    ``total`` is every parameter the framework counts (PyTorch: ``named_parameters``;
    Keras: ``count_params()``, non-trainable weights included); ``buffers`` the elements
    of PyTorch buffers (Keras has none: ``None``).

    Example:
        >>> Counts(total=10, trainable=8, non_trainable=2, buffers=None).to_dict()["total"]
        10
    """

    total: int
    trainable: int
    non_trainable: int
    buffers: int | None
    #: The frameworks' own names of the non-trainable weights (Keras) and of the
    #: floating-point buffers (PyTorch), in order, each once.
    non_trainable_names: tuple[str, ...] = ()
    buffer_names: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, int | None]:
        """The four counts by name (the weight names are in the causes)."""
        return {
            "total": self.total,
            "trainable": self.trainable,
            "non_trainable": self.non_trainable,
            "buffers": self.buffers,
        }


def _size(w: Any) -> int:
    n = 1
    for d in w.shape:
        n *= int(d)
    return n


def torch_counts(module: Any, paths: Any = None) -> Counts:
    """Counts of a torch module, or of the submodules named in ``paths`` (names that are
    not submodules, such as a traced function, hold nothing).

    Example:
        >>> import torch
        >>> c = torch_counts(torch.nn.BatchNorm2d(4))
        >>> c.total, c.trainable, c.buffers, c.buffer_names
        (8, 8, 9, ('running_mean', 'running_var'))
    """
    if paths is None:
        owners = [module]
    else:
        named = dict(module.named_modules())
        owners = [named[p] for p in dict.fromkeys(paths) if p in named]
    params: dict[int, Any] = {}
    buffers: dict[int, Any] = {}
    names: dict[str, None] = {}
    for owner in owners:
        for p in owner.parameters():
            params[id(p)] = p
        for name, b in owner.named_buffers():
            buffers[id(b)] = b
            if b.is_floating_point():
                names[name.rsplit(".", 1)[-1]] = None
    trainable = sum(p.numel() for p in params.values() if p.requires_grad)
    total = sum(p.numel() for p in params.values())
    return Counts(
        int(total),
        int(trainable),
        int(total - trainable),
        int(sum(b.numel() for b in buffers.values())),
        buffer_names=tuple(names),
    )


def _keras_layers(model: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for layer in model.layers:
        out.setdefault(layer.name, layer)
        if hasattr(layer, "layers"):
            for name, inner in _keras_layers(layer).items():
                out.setdefault(name, inner)
    return out


def keras_counts(model: Any, paths: Any = None) -> Counts:
    """Counts of a Keras model, or of its layers (nested models opened) named in ``paths``.

    Example:
        >>> import keras
        >>> bn = keras.Sequential([keras.Input((2, 2, 4)), keras.layers.BatchNormalization()])
        >>> c = keras_counts(bn)
        >>> c.total, c.trainable, c.non_trainable, c.non_trainable_names
        (16, 8, 8, ('moving_mean', 'moving_variance'))
    """
    if paths is None:
        trainable = sum(_size(w) for w in model.trainable_weights)
        non = sum(_size(w) for w in model.non_trainable_weights)
        names = tuple(dict.fromkeys(w.name for w in model.non_trainable_weights))
        return Counts(int(model.count_params()), trainable, non, None, non_trainable_names=names)
    named = _keras_layers(model)
    seen: dict[int, tuple[Any, bool]] = {}
    for p in dict.fromkeys(paths):
        layer = named.get(p)
        if layer is None:
            continue
        for w in layer.trainable_weights:
            seen[id(w)] = (w, True)
        for w in layer.non_trainable_weights:
            seen[id(w)] = (w, False)
    trainable = sum(_size(w) for w, t in seen.values() if t)
    non = sum(_size(w) for w, t in seen.values() if not t)
    names = tuple(dict.fromkeys(w.name for w, t in seen.values() if not t))
    return Counts(trainable + non, trainable, non, None, non_trainable_names=names)
