"""How the importers fold an activation into the layer before it.

Framework-free, registered for ``compare.importers.base.assemble``: an activation
directly after a layer that carries an ``activation`` field set to none (a conv or a
dense layer: ``post_activation``) becomes that field, when the field can say it (it
has no ``negative_slope`` / ``alpha``: only their defaults fold). The spec's two
spellings, ``Conv(activation="relu")`` and ``Conv`` then ``Activation("relu")``, are one
network; an import always gives the first, so a PyTorch ``Conv2d, ReLU`` and a Keras
``Conv2D(activation="relu")`` read as the same spec. It runs after the folds that
rewrite the layer it joins (a depthwise or separable conv).
"""

from __future__ import annotations

import dataclasses

from compare.core.registry import register_part
from compare.importers.base import Fold, Part, fold_pairs
from compare.kinds.activation.spec import Activation
from compare.spec import Layer

__all__ = ["fold_activations"]


def _fusable(owner: Layer, act: Layer) -> bool:
    return (
        owner.post_activation
        and getattr(owner, "activation", None) == "linear"
        and isinstance(act, Activation)
        and act.activation != "linear"
        and act == Activation(activation=act.activation)
    )


def fold_activations(parts: list[Part], source: str) -> list[Part]:
    """Each activation that can be the ``activation`` field of the layer before it,
    joined to that layer.

    Example:
        >>> fold_activations([], "torch")
        []
    """

    def join(prev: Part, one: Part) -> Part | None:
        if not _fusable(prev.layer, one.layer):
            return None
        assert isinstance(one.layer, Activation)
        merged = dataclasses.replace(prev.layer, activation=one.layer.activation)  # type: ignore[call-arg]
        return Part(merged, prev.roles, prev.pieces + one.pieces, prev.in_shape, one.out_shape)

    return fold_pairs(parts, join)


register_part("any", "fold", "activation")(Fold(40, fold_activations))
