"""compare.diff on the zoos: torchvision against keras.applications (weights=None).

Every figure is held against the frameworks' own counts, against the published
parameter counts (torchvision's model docs; the Keras ResNet50 figure of issue 14) or
against a count of the real modules stated here. The catalogue of diffs,
``reports/diffs.md``, is written from the same diffs; regenerate it with
``pytest tests/test_diff_zoo.py --regen-golden`` and review the change.
"""

from __future__ import annotations

from pathlib import Path

import keras
import pytest
import torch
from zoo import torch_model

import compare

nn = torch.nn
ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "reports" / "diffs.md"

#: (torchvision name, keras.applications name): the pairs of the catalogue, in order.
PAIRS = (("mobilenet_v2", "MobileNetV2"),)
_DIFFS: dict[str, compare.diff.Diff] = {}


def _modules(module, cls):
    return [m for m in module.modules() if isinstance(m, cls)]


def _params(module):
    return sum(p.numel() for p in module.parameters())


def _diff(name):
    """The diff of one pair, with both models (computed once per run)."""
    keras_name = dict(PAIRS)[name]
    t = torch_model(name)
    k = getattr(keras.applications, keras_name)(weights=None)
    d = compare.diff(t, k, input="3x224x224")
    _DIFFS[name] = d
    return t, k, d


@pytest.fixture(scope="module")
def mobilenet_v2():
    return _diff("mobilenet_v2")


def _by_key(d):
    return {x.key: x for x in d.differences}


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
