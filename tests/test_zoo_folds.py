"""What keras.applications writes with constants, read into the spec's kinds.

* MobileNetV3's hard sigmoid is ``layers.ReLU(6.0)(x + 3.0) * (1.0 / 6.0)``
  (keras/src/applications/mobilenet_v3.py): a ``keras.ops.add`` and a
  ``keras.ops.multiply`` with numbers around a ReLU, read as ``hard_sigmoid``;
* ConvNeXt's and EfficientNetV2-B's ``Normalization(mean=..., variance=...)`` keep the
  ImageNet statistics as constants, not weights; they are read from the tensors the
  built layer computes with.

The oracle: numpy's ``relu6(x + 3) / 6`` and ``(x - mean) / sqrt(variance)`` with the
constants written here, the real Keras model's own output, and torchvision's own count
of its ``mobilenet_v3_small`` against what is built in PyTorch from Keras' MobileNetV3Small.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
import torch
from zoo import torch_model

import compare
from compare.importers import UnmappableError
from compare.kinds.preprocess.spec import Normalization, Rescaling
from compare.parity import build

L = keras.layers


def _torch_output(imported, x_last):
    pair = build(imported.model)
    pair.load(imported)
    with torch.no_grad():
        y = pair.torch(torch.from_numpy(np.moveaxis(x_last, -1, 1))).numpy()
    return np.moveaxis(y, 1, -1)


def _x(shape, seed=0, scale=4.0):
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype("float32")


def _hard_sigmoid_net(write):
    x = keras.Input((6, 6, 3))
    y = L.Conv2D(4, 3)(x)
    return keras.Model(x, L.Conv2D(2, 1)(write(y)))


@pytest.mark.parametrize(
    "write",
    [
        lambda y: L.ReLU(6.0)(y + 3.0) * (1.0 / 6.0),  # MobileNetV3's spelling
        lambda y: L.ReLU(6.0)(3.0 + y) / 6.0,
        lambda y: (1.0 / 6.0) * L.ReLU(max_value=6.0)(keras.ops.add(y, 3.0)),
    ],
    ids=["times_a_sixth", "divided_by_six", "ops_add"],
)
def test_relu6_of_x_plus_3_over_6_reads_as_hard_sigmoid(write):
    net = _hard_sigmoid_net(write)
    imported = compare.from_keras(net)
    # the activation after a conv is the conv's own activation field
    assert [layer.kind for layer in imported.model.layers] == ["conv", "conv"]
    assert imported.model.layers[0].activation == "hard_sigmoid"
    x = _x((2, 6, 6, 3))
    np.testing.assert_allclose(_torch_output(imported, x), np.asarray(net(x)), atol=1e-5)
    assert compare.compare(imported).ok


def test_the_hard_sigmoid_read_is_numpys_relu6_of_x_plus_3_over_6():
    x = keras.Input((5,))
    net = keras.Model(x, L.ReLU(6.0)(x + 3.0) * (1.0 / 6.0))
    imported = compare.from_keras(net)
    data = np.linspace(-5, 5, 20, dtype="float32").reshape(4, 5)
    pair = build(imported.model)
    with torch.no_grad():
        y = pair.torch(torch.from_numpy(data)).numpy()
    np.testing.assert_allclose(y, np.clip(data + 3, 0, 6) / 6, atol=1e-6)


@pytest.mark.parametrize(
    "write, what",
    [
        (lambda y: L.ReLU(6.0)(y + 2.0) * (1.0 / 6.0), "Add with a constant"),
        (lambda y: L.ReLU(6.0)(y + 3.0) * 0.2, "Add with a constant"),
        (lambda y: L.ReLU()(y + 3.0) * (1.0 / 6.0), "Add with a constant"),
    ],
    ids=["plus_two", "times_a_fifth", "no_cap"],
)
def test_other_constants_stay_refused_with_the_reason(write, what):
    with pytest.raises(UnmappableError, match=what):
        compare.from_keras(_hard_sigmoid_net(write))


def test_a_hard_sigmoid_whose_sum_is_read_twice_is_not_folded():
    x = keras.Input((6, 6, 3))
    y = L.Conv2D(4, 3)(x)
    shifted = y + 3.0
    out = L.Add()([L.ReLU(6.0)(shifted) * (1.0 / 6.0), L.Conv2D(4, 1)(shifted)])
    with pytest.raises(UnmappableError, match="with a constant"):
        compare.from_keras(keras.Model(x, out))


MEAN = [0.485, 0.456, 0.406]
VARIANCE = [0.229**2, 0.224**2, 0.225**2]


@pytest.mark.parametrize(
    "mean, variance",
    [(MEAN, VARIANCE), (0.5, 0.25)],
    ids=["per_channel", "scalar"],
)
def test_a_normalization_given_constants_is_read_with_them(mean, variance):
    x = keras.Input((5, 5, 3))
    y = L.Normalization(mean=mean, variance=variance)(L.Rescaling(1.0 / 255)(x))
    net = keras.Model(x, L.Conv2D(2, 1)(y))
    imported = compare.from_keras(net)
    assert imported.model.layers[:2] == (Rescaling(scale=1.0 / 255), Normalization())
    want_mean = np.broadcast_to(np.asarray(mean, "float32"), (3,))
    want_var = np.broadcast_to(np.asarray(variance, "float32"), (3,))
    np.testing.assert_allclose(imported.weights[1]["mean"], want_mean)
    np.testing.assert_allclose(imported.weights[1]["variance"], want_var)
    data = np.random.default_rng(1).uniform(0, 255, (2, 5, 5, 3)).astype("float32")
    np.testing.assert_allclose(_torch_output(imported, data), np.asarray(net(data)), atol=1e-4)
    # by hand, the normalised input: (x / 255 - mean) / sqrt(variance)
    stem = keras.Model(x, y)
    want = (data / 255 - want_mean) / np.sqrt(want_var)
    np.testing.assert_allclose(np.asarray(stem(data)), want, atol=1e-5)
    assert compare.compare(imported).ok


def test_efficientnetv2_b0_stem_reads_its_imagenet_statistics():
    app = keras.applications.EfficientNetV2B0(weights=None, input_shape=(32, 32, 3))
    stem = keras.Model(app.input, app.get_layer("stem_activation").output)
    imported = compare.from_keras(stem)
    assert imported.model.layers[:2] == (Rescaling(scale=1.0 / 255), Normalization())
    np.testing.assert_allclose(imported.weights[1]["mean"], MEAN, rtol=1e-6)
    np.testing.assert_allclose(imported.weights[1]["variance"], VARIANCE, rtol=1e-6)
    data = np.random.default_rng(2).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    np.testing.assert_allclose(_torch_output(imported, data), np.asarray(stem(data)), atol=1e-3)


@pytest.mark.slow
def test_keras_mobilenetv3small_is_built_in_torch_with_torchvisions_own_count():
    app = keras.applications.MobileNetV3Small(weights=None, input_shape=(32, 32, 3))
    frozen = sum(int(np.prod(w.shape)) for w in app.non_trainable_weights)
    imported = compare.from_keras(app)
    # the excitation conv of each squeeze-excitation block carries it as its activation
    hard = [ly for ly in imported.model.layers if getattr(ly, "activation", "") == "hard_sigmoid"]
    assert len(hard) == 9  # one per block given se_ratio in mobilenet_v3.py's small stack
    result = compare.compare(imported, diagnostics=False).models[0]
    assert result.status == "ok", result.parity
    assert all(layer.parity.status == "ok" for layer in result.layers)
    totals = result.totals()
    assert totals["keras"]["params"] == app.count_params()
    assert totals["torch"]["params"] == app.count_params() - frozen
    # the same architecture as torchvision's mobilenet_v3_small: PyTorch's own count of
    # torchvision's model equals PyTorch's own count of the build from Keras
    tv = sum(p.numel() for p in torch_model("mobilenet_v3_small").parameters())
    assert totals["torch"]["params"] == tv


@pytest.mark.slow
def test_keras_efficientnetv2b0_is_read_built_and_compared():
    app = keras.applications.EfficientNetV2B0(weights=None, input_shape=(32, 32, 3))
    frozen = sum(int(np.prod(w.shape)) for w in app.non_trainable_weights)
    imported = compare.from_keras(app)
    result = compare.compare(imported, diagnostics=False).models[0]
    assert result.status == "ok", result.parity
    assert all(layer.parity.status == "ok" for layer in result.layers)
    totals = result.totals()
    assert totals["torch"]["params"] == app.count_params() - frozen
    # the built Keras normalization keeps mean (3), variance (3) and count (1) as
    # weights, which the source's constants are not
    assert totals["keras"]["params"] == app.count_params() + 7


@pytest.mark.slow
def test_keras_convnext_tiny_reads_its_layer_scale_and_imagenet_statistics():
    app = keras.applications.ConvNeXtTiny(weights=None, input_shape=(32, 32, 3))
    scales = [ly for ly in app.layers if type(ly).__name__ == "LayerScale"]
    assert len(scales) == 3 + 3 + 9 + 3  # one per block: ConvNeXtTiny's depths
    rng = np.random.default_rng(3)
    for ly in scales:  # initialised to 1e-6, which would hide a wrong port
        ly.gamma.assign(rng.uniform(0.5, 1.5, tuple(ly.gamma.shape)).astype("float32"))
    imported = compare.from_keras(app)
    # x * gamma, one gamma per channel: a 1x1 depthwise conv without bias
    depthwise = [ly for ly in imported.model.layers if ly.kind == "depthwise_conv"]
    ones = [ly for ly in depthwise if ly.kernel_size == (1, 1) and not ly.use_bias]
    assert len(ones) == len(scales)
    gammas = [w["depthwise_kernel"].ravel() for w in imported.weights if "depthwise_kernel" in w]
    ported = [g for g in gammas if any(np.array_equal(g, s.gamma.numpy()) for s in scales)]
    assert len(ported) == len(scales)
    result = compare.compare(imported, diagnostics=False).models[0]
    assert result.status == "ok", result.parity
    assert all(layer.parity.status == "ok" for layer in result.layers)
    totals = result.totals()
    assert totals["torch"]["params"] == totals["keras"]["params"] - 7  # the normalization's
    assert totals["torch"]["params"] == app.count_params()
    # torchvision's convnext_tiny: the same architecture, PyTorch's own count
    tv = sum(p.numel() for p in torch_model("convnext_tiny").parameters())
    assert totals["torch"]["params"] == tv
