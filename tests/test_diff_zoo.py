"""compare.diff on the zoos: torchvision against keras.applications (weights=None).

Every figure is held against the frameworks' own counts, against the published
parameter counts (torchvision's model docs; the Keras ResNet50 figure of issue 14) or
against a count of the real modules stated here. The ResNet50 pair is also measured
(``measure=True``): its drift is held against the output scale, not against figures.
The catalogue of diffs, ``reports/diffs.md``, is written from the same diffs; regenerate
it with
``pytest tests/test_diff_zoo.py --regen-golden`` and review the change.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import keras
import pytest
import torch
from zoo import torch_model

import compare
from compare.diff import Place, render_markdown

nn = torch.nn
ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "reports" / "diffs.md"

#: (torchvision name, keras.applications name): the pairs of the catalogue, in order.
PAIRS = (
    ("resnet50", "ResNet50"),
    ("mobilenet_v2", "MobileNetV2"),
    ("vgg16", "VGG16"),
    ("densenet121", "DenseNet121"),
)
_DIFFS: dict[str, compare.diff.Diff] = {}


def _modules(module, cls):
    return [m for m in module.modules() if isinstance(m, cls)]


def _params(module):
    return sum(p.numel() for p in module.parameters())


def _diff(name, measure=False):
    """The diff of one pair, with both models (computed once per run)."""
    keras_name = dict(PAIRS)[name]
    t = torch_model(name)
    k = getattr(keras.applications, keras_name)(weights=None)
    d = compare.diff(t, k, input="3x224x224", measure=measure)
    _DIFFS[name] = d
    return t, k, d


@pytest.fixture(scope="module")
def resnet50():
    return _diff("resnet50", measure=True)


@pytest.fixture(scope="module")
def mobilenet_v2():
    return _diff("mobilenet_v2")


@pytest.fixture(scope="module")
def vgg16():
    return _diff("vgg16")


@pytest.fixture(scope="module")
def densenet121():
    return _diff("densenet121")


def _by_key(d):
    return {x.key: x for x in d.differences}


def test_resnet50(resnet50):
    t, k, d = resnet50
    r = d.reconciliation
    # the published counts, and the frameworks' own counters
    assert r.torch.total == _params(t) == 25_557_032
    assert r.keras.total == k.count_params() == 25_636_712
    assert r.gap == 79_680
    convs, bns = _modules(t, nn.Conv2d), _modules(t, nn.BatchNorm2d)
    biases = sum(c.out_channels for c in convs)  # Keras' convs carry one bias per filter
    stats = 2 * sum(b.num_features for b in bns)  # moving mean and variance per channel
    assert (biases, stats) == (26_560, 53_120)
    parts = {c.name.split(" (")[0]: c.params for c in r.causes}
    assert parts == {"conv biases": biases, "batch_norm moving_mean, moving_variance": stats}
    found = _by_key(d)
    moved = found["conv.strides_moved"]
    # torchvision's "v1.5": the stride of a downsampling bottleneck on its 3x3 conv
    strided_3x3 = [
        name
        for name, m in t.named_modules()
        if isinstance(m, nn.Conv2d) and m.kernel_size == (3, 3) and m.stride == (2, 2)
    ]
    assert strided_3x3 == ["layer2.0.conv2", "layer3.0.conv2", "layer4.0.conv2"]
    assert moved.places == tuple(
        Place(n, f"conv{stage}_block1_1_conv") for n, stage in zip(strided_3x3, (3, 4, 5))
    )
    assert all(k.get_layer(f"conv{stage}_block1_1_conv").strides == (2, 2) for stage in (3, 4, 5))
    eps = found["batch_norm.epsilon"]
    assert (eps.torch, eps.keras) == (1e-5, 1.001e-5) and len(eps.places) == len(bns) == 53
    assert len(found["conv.use_bias"].places) == len(convs) == 53
    assert (found["dense.activation"].torch, found["dense.activation"].keras) == (
        "linear",
        "softmax",
    )


def test_resnet50_drift(resnet50):
    """The softmax switched off, what is left is the stride placement (not switchable):
    the two networks compute different functions."""
    _, _, d = resnet50
    drift = d.drift
    switched = {s.key: s.error for s in drift.switched}
    assert set(switched) == {"batch_norm.epsilon", "batch_norm.momentum", "dense.activation"}
    assert switched["dense.activation"] < drift.error
    assert 0.01 * drift.scale < drift.all_off < drift.error


def test_mobilenet_v2(mobilenet_v2):
    t, k, d = mobilenet_v2
    found = _by_key(d)
    assert set(found) == {
        "only_torch.dropout",
        "conv.padding",
        "depthwise_conv.padding",
        "batch_norm.epsilon",
        "batch_norm.momentum",
        "dense.activation",
    }
    bns = _modules(t, nn.BatchNorm2d)
    assert len(found["batch_norm.epsilon"].places) == len(bns) == 52
    assert (found["batch_norm.epsilon"].torch, found["batch_norm.epsilon"].keras) == (1e-5, 1e-3)
    # Keras pads a stride-2 3x3 conv by (0, 1) (ZeroPadding2D(correct_pad) or 'same' on
    # an even size); torchvision by (1, 1): at every stride-2 conv and only there
    strided = [m for m in _modules(t, nn.Conv2d) if m.stride == (2, 2)]
    n_pad = len(found["conv.padding"].places) + len(found["depthwise_conv.padding"].places)
    assert n_pad == len(strided) == 5
    assert found["depthwise_conv.padding"].keras == ((0, 1), (0, 1))
    r = d.reconciliation
    assert r.torch.total == _params(t) == 3_504_872
    assert r.keras.total == k.count_params() == 3_538_984
    assert r.gap == 2 * sum(b.num_features for b in bns) == 34_112
    assert [c.params for c in r.causes] == [r.gap]


def test_vgg16(vgg16):
    t, k, d = vgg16
    r = d.reconciliation
    assert r.torch.total == _params(t) == 138_357_544 == r.keras.total == k.count_params()
    assert r.gap == 0 and r.causes == ()
    found = _by_key(d)
    dropouts = [n for n, m in t.named_modules() if isinstance(m, nn.Dropout)]
    assert [p.torch for p in found["only_torch.dropout"].places] == dropouts
    assert (found["dense.activation"].torch, found["dense.activation"].keras) == (
        "linear",
        "softmax",
    )


def test_densenet121(densenet121):
    t, k, d = densenet121
    r = d.reconciliation
    bns = _modules(t, nn.BatchNorm2d)
    assert r.torch.total == _params(t) == 7_978_856
    assert r.keras.total == k.count_params() == 8_062_504
    assert r.gap == 2 * sum(b.num_features for b in bns) == 83_648
    found = _by_key(d)
    assert set(found) == {
        "connection.concatenate",
        "batch_norm.epsilon",
        "batch_norm.momentum",
        "dense.activation",
    }
    # torchvision's dense layer k concatenates the block input and k - 1 new maps at
    # once; Keras concatenates two at a time. Layers 1 and 2 of a block read the same
    # values either way; from layer 3 on, and at the block's output, the wiring differs
    blocks = [m for m in t.modules() if type(m).__name__ == "_DenseBlock"]
    concat = found["connection.concatenate"]
    assert len(concat.places) == sum(len(b) - 1 for b in blocks) == 54
    assert concat.keras == "2 inputs"
    assert concat.torch == f"3 to {max(len(b) for b in blocks) + 1} inputs"
    assert len(found["batch_norm.epsilon"].places) == len(bns) == 121


def test_the_catalogue_of_diffs(resnet50, mobilenet_v2, vgg16, densenet121, request):
    parts = [
        "# Two libraries, one network: torchvision against keras.applications\n\n"
        "Written by `pytest tests/test_diff_zoo.py --regen-golden` (weights=None, input "
        "3x224x224); every figure is read from the frameworks.\n"
    ]
    # drift figures vary in their last digits between machines: not in the catalogue
    parts += [render_markdown(dataclasses.replace(_DIFFS[name], drift=None)) for name, _ in PAIRS]
    produced = "\n".join(parts)
    if request.config.getoption("--regen-golden"):
        CATALOGUE.write_text(produced)
        pytest.skip("regenerated reports/diffs.md")
    assert produced == CATALOGUE.read_text(), (
        "reports/diffs.md differs from the diffs; if the change is intended, run "
        "pytest tests/test_diff_zoo.py --regen-golden and review the change"
    )
