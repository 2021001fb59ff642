"""The importers find what a kind maps through the registry: a mapper or fold registered
from a test file is read the same way as a built-in family's."""

from __future__ import annotations

import os
from dataclasses import replace

import pytest

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras
import torch
from torch import nn

from compare.core import registry
from compare.importers import UnmappableError, from_keras, from_torch
from compare.importers.base import Fold, Part
from compare.kinds.dropout.spec import Dropout


class Halve(nn.Module):
    """A user module no family maps: ``x * 0.5``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * 0.5


class KerasHalve(keras.layers.Layer):
    def call(self, x):
        return x * 0.5


def _as_dropout(obj, piece):
    return replace(piece, layer=Dropout(rate=0.25))


@pytest.fixture
def halve_mapped():
    registry.register_part("torch", "module", Halve)(_as_dropout)
    registry.register_part("keras", "layer", KerasHalve)(_as_dropout)
    yield
    registry.unregister_kind(Halve)  # forgets every part registered for the key
    registry.unregister_kind(KerasHalve)


def test_an_unregistered_module_is_named_with_the_reason():
    # ``x * 0.5`` is traced to ``operator.mul``, which the merge family reads only
    # between two tensors of the model: the constant is named
    with pytest.raises(UnmappableError, match=r"0\.mul \(_operator\.mul\): it multiplies 0\.5"):
        from_torch(nn.Sequential(Halve()), "2x3")


def test_a_mapper_registered_from_a_test_file_is_used(halve_mapped):
    assert [layer.kind for layer in from_torch(nn.Sequential(Halve()), "2x3").model.layers] == [
        "dropout"
    ]
    model = keras.Sequential([keras.Input((3, 2)), KerasHalve()])
    assert from_keras(model).model.layers[0].rate == 0.25


def test_a_registered_fold_runs_on_the_assembled_parts(halve_mapped):
    seen: list[list[str]] = []

    def record(parts: list[Part], source: str) -> list[Part]:
        seen.append([f"{source}:{part.layer.kind}" for part in parts])
        return parts

    registry.register_part("any", "fold", "test_record")(Fold(99, record))
    try:
        from_torch(nn.Sequential(nn.Flatten(), Halve()), "2x3")
    finally:
        registry.unregister_kind("test_record")
    assert seen == [["torch:flatten", "torch:dropout"]]


def test_a_grouped_conv_read_as_depthwise_keeps_its_activation():
    model = keras.Sequential(
        [keras.Input((8, 8, 4)), keras.layers.Conv2D(4, 3, groups=4, activation="relu")]
    )
    (layer,) = from_keras(model).model.layers
    assert (layer.kind, layer.activation) == ("depthwise_conv", "relu")


def test_separable_keeps_the_pointwise_activation_and_not_a_depthwise_one():
    def read(depthwise_activation):
        return from_keras(
            keras.Sequential(
                [
                    keras.Input((8, 8, 4)),
                    keras.layers.DepthwiseConv2D(
                        3, use_bias=False, activation=depthwise_activation
                    ),
                    keras.layers.Conv2D(6, 1, activation="tanh"),
                ]
            )
        ).model.layers

    (separable,) = read(None)
    assert (separable.kind, separable.activation) == ("separable_conv", "tanh")
    depthwise, pointwise = read("relu")  # relu between the two: not one separable conv
    assert (depthwise.activation, pointwise.kind, pointwise.activation) == ("relu", "conv", "tanh")
