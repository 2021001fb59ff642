"""Both model zoos, read from their framework and built in the other, end to end.

keras.applications and torchvision.models, with random weights (``weights=None``:
nothing is downloaded), at small inputs. For each model: the parameters the spec holds
equal the source framework's own count, the built models' counts are read from both
frameworks, and every node's output agrees after the weights are ported (per node, not
only the output). The published parameter counts are held against the frameworks' own.
These are the slowest tests of the suite (marked ``slow``; CI runs them).
"""

from __future__ import annotations

import keras
import pytest
import torch
from zoo import torch_model

import compare
from compare.testing import check_equivalent

pytestmark = pytest.mark.slow

# name -> (input size, published parameter count or None)
TORCH = {
    "resnet18": (32, 11_689_512),
    "resnet50": (32, 25_557_032),
    "mobilenet_v2": (32, 3_504_872),
    "densenet121": (32, 7_978_856),
}
KERAS = {
    "ResNet50": (32, 25_636_712),
    "MobileNetV2": (32, 3_538_984),
    "DenseNet121": (32, 8_062_504),
}
#: A full report (naive ports, initialiser reads) for the smaller models; the rest are
#: compared without diagnostics to keep CI's time.
FULL = {"resnet18", "mobilenet_v2", "MobileNetV2"}


def own_count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def assert_every_node_ok(result) -> None:
    bad = [(layer.index, layer.kind, layer.parity) for layer in result.layers]
    bad = [b for b in bad if b[2].status != "ok"]
    assert not bad, bad[:3]
    assert result.status == "ok", result.parity


@pytest.mark.parametrize("name", sorted(TORCH))
def test_torchvision_model_read_built_in_keras_and_compared(name):
    size, published = TORCH[name]
    net = torch_model(name)
    assert own_count(net) == published  # torchvision's own count is the published one
    imported = compare.from_torch(net, input=f"3x{size}x{size}")
    assert sum(f.params for f in imported.model.formulas) == own_count(net)
    result = compare.compare(imported, diagnostics=name in FULL).models[0]
    totals = result.totals()
    assert totals["torch"]["params"] == own_count(net)
    assert totals["keras"]["trainable_params"] == own_count(net)
    assert_every_node_ok(result)


@pytest.mark.parametrize("name", sorted(KERAS))
def test_keras_application_read_built_in_torch_and_compared(name):
    size, published = KERAS[name]
    model = getattr(keras.applications, name)(weights=None, input_shape=(size, size, 3))
    assert model.count_params() == published  # Keras' own count is the published one
    frozen = sum(int(w.numpy().size) for w in model.non_trainable_weights)
    imported = compare.from_keras(model)
    assert sum(f.params for f in imported.model.formulas) == model.count_params() - frozen
    result = compare.compare(imported, diagnostics=name in FULL).models[0]
    totals = result.totals()
    assert totals["keras"]["params"] == model.count_params()
    assert totals["keras"]["non_trainable_params"] == frozen
    assert totals["torch"]["params"] == model.count_params() - frozen
    assert_every_node_ok(result)


def test_published_non_trainable_count_of_keras_resnet50():
    model = keras.applications.ResNet50(weights=None, input_shape=(32, 32, 3))
    assert sum(int(w.numpy().size) for w in model.non_trainable_weights) == 53_120


def test_a_torchvision_model_and_its_keras_build_are_equivalent_node_by_node():
    net = torch_model("mobilenet_v2")
    pair = compare.build(compare.from_torch(net, input="3x32x32"))
    result = check_equivalent(net, pair.keras, input="3x32x32", weights="own")
    assert result.ok, result.message
    assert len(result.errors) > 100  # every node of the graph, not only the output
