"""Pools and padding of real stems: PyTorch's -inf pool padding and ceil_mode realised
in Keras, zero padding before a max pool (ResNet50V2's stem) realised in PyTorch, the
zero pad folded where the pooled value is non-negative, and adaptive pools read where
their sizes divide.

The oracle is a numpy max pool written from PyTorch's documented rule: output length
``floor((n + 2p - k) / s) + 1`` (``ceil`` instead of floor with ``ceil_mode``, dropping
a last window that would start past the input and its left padding), padding -inf
(or zeros, for an explicit zero pad), windows clipped to the padded input.
"""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest
import torch
from test_shuffle import assert_keras_port_computes
from zoo import torch_model

import compare
from compare.comparison import compare_model
from compare.errors import SpecError
from compare.importers import UnmappableError, spec_differences
from compare.kinds.pool.keras import MaskedAveragePooling, NegInfPadding
from compare.kinds.pool.spec import AvgPool, MaxPool
from compare.kinds.resample.spec import Resample
from compare.parity import build
from compare.spec import Activation, Conv, Input, Model

nn = torch.nn
F = torch.nn.functional
L = keras.layers


def _out_len(n, k, s, p, ceil):
    if not ceil:
        return (n + 2 * p - k) // s + 1
    out = math.ceil((n + 2 * p - k) / s) + 1
    return out - 1 if (out - 1) * s >= n + p else out


def numpy_max_pool(x, k, s, p, ceil=False, pad_value=-np.inf):
    """x: (N, C, H, W); PyTorch's max pool by its documentation."""
    n_h, n_w = x.shape[2:]
    o_h, o_w = _out_len(n_h, k, s, p, ceil), _out_len(n_w, k, s, p, ceil)
    big = np.full((*x.shape[:2], n_h + 2 * p + k, n_w + 2 * p + k), -np.inf)
    big[:, :, : n_h + 2 * p, : n_w + 2 * p] = pad_value  # the padding; beyond it: nothing
    big[:, :, p : p + n_h, p : p + n_w] = x
    y = np.empty((*x.shape[:2], o_h, o_w))
    for i in range(o_h):
        for j in range(o_w):
            y[:, :, i, j] = big[:, :, i * s : i * s + k, j * s : j * s + k].max(axis=(2, 3))
    return y


def _x(channels, size, seed=0):
    return np.random.default_rng(seed).standard_normal((2, channels, *size)).astype("float32")


def _both(model, x):
    pair = build(model)
    with torch.no_grad():
        y_t = pair.torch(torch.from_numpy(x)).numpy()
    y_k = np.moveaxis(np.asarray(pair.keras(np.moveaxis(x, 1, -1))), -1, 1)
    return y_t, y_k


#: id -> (input size, pool_size, strides, padding, ceil_mode, pad_zeros)
POOLS = {
    "resnet_stem_3_2_pad1": ((16, 16), 3, 2, 1, False, False),
    "googlenet_3_2_ceil": ((16, 16), 3, 2, 0, True, False),
    "squeezenet_3_2_ceil_odd": ((15, 15), 3, 2, 0, True, False),
    "ceil_and_pad": ((13, 11), 3, 2, 1, True, False),
    "two_ceil": ((7, 7), 2, 2, 0, True, False),
    "resnet50v2_zero_pad": ((16, 16), 3, 2, 1, False, True),
    "zero_pad_2_2": ((7, 6), 2, 2, 1, False, True),
}


def _pool(k, s, p, ceil, zeros):
    return MaxPool(pool_size=k, strides=s, padding=p or "valid", ceil_mode=ceil, pad_zeros=zeros)


@pytest.mark.parametrize("case", list(POOLS), ids=list(POOLS))
def test_both_frameworks_compute_the_numpy_max_pool(case):
    size, k, s, p, ceil, zeros = POOLS[case]
    model = Model("p", Input(3, size), (_pool(k, s, p, ceil, zeros),))
    x = _x(3, size)
    want = numpy_max_pool(x, k, s, p, ceil, 0.0 if zeros else -np.inf)
    y_t, y_k = _both(model, x)
    np.testing.assert_array_equal(y_t, want.astype("float32"))
    np.testing.assert_array_equal(y_k, want.astype("float32"))


@pytest.mark.parametrize("case", list(POOLS), ids=list(POOLS))
def test_facts_classes_and_shapes_read_back(case):
    size, k, s, p, ceil, zeros = POOLS[case]
    result = compare_model(Model("p", Input(3, size), (_pool(k, s, p, ceil, zeros),)))
    assert result.status == "ok", result.parity
    row = result.layers[0]
    t, kk = row.frameworks["torch"], row.frameworks["keras"]
    out = tuple(_out_len(n, k, s, p, ceil) for n in size)
    assert t.output_shape == (None, 3, *out) and kk.output_shape == (None, *out, 3)
    assert t.params == kk.params == 0
    if zeros:
        assert t.classes == ("ZeroPad2d", "MaxPool2d")
        assert kk.classes == ("ZeroPadding2D", "MaxPooling2D")
    else:
        assert t.classes == ("MaxPool2d",)
        assert kk.classes == ("NegInfPadding", "MaxPooling2D")


def test_the_pad_value_is_named_and_a_naive_port_measured():
    size, x = (7, 6), _x(3, (7, 6))  # 2x2 windows padded by 1: a corner holds 1 element
    for zeros in (False, True):
        result = compare_model(Model("p", Input(3, size), (_pool(2, 2, 1, False, zeros),)))
        diff = next(d for d in result.layers[0].differences if d.what == "pad_value")
        # the naive port pads with the other value: the numpy difference of the two
        want = np.abs(numpy_max_pool(x, 2, 2, 1) - numpy_max_pool(x, 2, 2, 1, pad_value=0.0))
        assert diff.measured and diff.naive_max_abs_err == pytest.approx(want.max(), abs=1e-6)
        assert want.max() > 0


def test_after_a_relu_the_zero_pad_changes_nothing():
    model = Model(
        "p",
        Input(3, (16, 16)),
        (Activation(activation="relu"), _pool(3, 2, 1, False, False)),
    )
    result = compare_model(model)
    diff = next(d for d in result.layers[1].differences if d.what == "pad_value")
    assert diff.naive_max_abs_err == 0.0


def numpy_avg_pool(x, k, s, p, ceil, count_include_pad):
    """x: (N, C, H, W); PyTorch's average pool by its CPU kernel's rule: a window starts
    at o*s - p and ends at min(start + k, n + p); with count_include_pad it divides by
    that length, else by the part of it inside the input (per axis, multiplied)."""
    n_h, n_w = x.shape[2:]
    o_h, o_w = _out_len(n_h, k, s, p, ceil), _out_len(n_w, k, s, p, ceil)

    def span(o, n):
        start = o * s - p
        end = min(start + k, n + p)
        inside = (max(start, 0), min(end, n))
        return inside, (end - start if count_include_pad else inside[1] - inside[0])

    y = np.empty((*x.shape[:2], o_h, o_w))
    for i in range(o_h):
        (h0, h1), d_h = span(i, n_h)
        for j in range(o_w):
            (w0, w1), d_w = span(j, n_w)
            y[:, :, i, j] = x[:, :, h0:h1, w0:w1].sum(axis=(2, 3)) / (d_h * d_w)
    return y


#: id -> (input size, pool_size, strides, padding, ceil_mode, count_include_pad)
AVG_POOLS = {
    "ceil_2_2_odd_include": ((7, 7), 2, 2, 0, True, True),
    "ceil_3_2_exclude": ((16, 16), 3, 2, 0, True, False),
    "ceil_pad1_include": ((15, 15), 3, 2, 1, True, True),
    "ceil_pad1_exclude": ((13, 11), 3, 2, 1, True, False),
    "ceil_pad1_include_uneven": ((6, 5), 3, 2, 1, True, True),
    "pad1_exclude_stride3": ((8, 8), 3, 3, 1, False, False),
}


def _avg(k, s, p, ceil, cip):
    return AvgPool(
        pool_size=k, strides=s, padding=p or "valid", ceil_mode=ceil, count_include_pad=cip
    )


@pytest.mark.parametrize("case", list(AVG_POOLS), ids=list(AVG_POOLS))
def test_both_frameworks_compute_the_numpy_average_pool(case):
    size, k, s, p, ceil, cip = AVG_POOLS[case]
    x = _x(3, size)
    want = numpy_avg_pool(x, k, s, p, ceil, cip)
    y_t, y_k = _both(Model("p", Input(3, size), (_avg(k, s, p, ceil, cip),)), x)
    np.testing.assert_allclose(y_t, want, atol=1e-6)
    np.testing.assert_allclose(y_k, want, atol=1e-6)
    with torch.no_grad():  # and the real nn.AvgPool2d it stands for
        real = nn.AvgPool2d(k, s, p, ceil_mode=ceil, count_include_pad=cip)(torch.from_numpy(x))
    np.testing.assert_allclose(real.numpy(), want, atol=1e-6)


@pytest.mark.parametrize("case", list(AVG_POOLS), ids=list(AVG_POOLS))
def test_average_pools_keras_cannot_divide_are_masked_means_read_back(case):
    size, k, s, p, ceil, cip = AVG_POOLS[case]
    result = compare_model(Model("p", Input(3, size), (_avg(k, s, p, ceil, cip),)))
    assert result.status == "ok", result.parity
    t, kk = result.layers[0].frameworks["torch"], result.layers[0].frameworks["keras"]
    out = tuple(_out_len(n, k, s, p, ceil) for n in size)
    assert t.output_shape == (None, 3, *out) and kk.output_shape == (None, *out, 3)
    assert t.classes == ("AvgPool2d",) and kk.classes == ("MaskedAveragePooling",)
    assert t.params == kk.params == 0


def test_the_ceil_window_keras_own_pool_misses_is_measured():
    # the naive port: Keras' AveragePooling2D(2, 2) without the last window; on 7x7 the
    # 3x3 block both compute is the same, the fourth row and column are missing
    x = _x(2, (7, 7))
    want = numpy_avg_pool(x, 2, 2, 0, True, True)
    keras_own = np.moveaxis(np.asarray(L.AveragePooling2D(2, 2)(np.moveaxis(x, 1, -1))), -1, 1)
    assert keras_own.shape[2:] == (3, 3) and want.shape[2:] == (4, 4)
    np.testing.assert_allclose(keras_own, want[:, :, :3, :3], atol=1e-6)
    # the last window holds one element (x[6, 6]) and PyTorch divides by 1, not by 4
    np.testing.assert_allclose(want[:, :, 3, 3], x[:, :, 6, 6], atol=1e-6)


@pytest.mark.parametrize("case", list(AVG_POOLS), ids=list(AVG_POOLS))
@pytest.mark.parametrize("source", ["torch", "keras"])
def test_built_average_pools_round_trip_through_both_importers(case, source):
    size, k, s, p, ceil, cip = AVG_POOLS[case]
    conv = Conv(filters=2, kernel_size=1)
    model = Model("p", Input(3, size), (conv, _avg(k, s, p, ceil, cip)))
    pair = build(model)
    imported = (
        compare.from_torch(pair.torch, input=(3, *size))
        if source == "torch"
        else compare.from_keras(pair.keras)
    )
    # without padding there is nothing to count (count_include_pad reads as off); a
    # ceil_mode that adds no window reads as off
    adds = any(_out_len(n, k, s, p, True) != _out_len(n, k, s, p, False) for n in size)
    want = _avg(k, s, p, ceil and adds, cip and p > 0)
    assert spec_differences(Model("p", Input(3, size), (conv, want)), imported.model) == []


def test_masked_average_pooling_serialises():
    layer = MaskedAveragePooling((3, 3), (2, 2), ((1, 2), (1, 1)), ((1, 1), (1, 1)))
    again = MaskedAveragePooling.from_config(layer.get_config())
    assert (again.pads, again.counted) == (((1, 2), (1, 1)), ((1, 1), (1, 1)))
    assert tuple(layer(np.zeros((1, 6, 5, 2), "float32")).shape) == (1, 4, 3, 2)


def test_pad_zeros_with_ceil_mode_is_a_spec_error():
    with pytest.raises(SpecError, match="pad_zeros=true with ceil_mode=true"):
        MaxPool(pool_size=3, strides=2, padding=1, ceil_mode=True, pad_zeros=True)
    with pytest.raises(SpecError, match="pad_zeros=1 must be"):
        MaxPool(pool_size=3, pad_zeros=1)


def test_neg_inf_padding_serialises():
    layer = NegInfPadding(((1, 2), (0, 1)))
    assert NegInfPadding.from_config(layer.get_config()).pads == ((1, 2), (0, 1))
    assert tuple(layer(np.zeros((1, 3, 3, 2), "float32")).shape) == (1, 6, 4, 2)


# -- importers -------------------------------------------------------------------------


@pytest.mark.parametrize("case", list(POOLS), ids=list(POOLS))
@pytest.mark.parametrize("source", ["torch", "keras"])
def test_built_pools_round_trip_through_both_importers(case, source):
    size, k, s, p, ceil, zeros = POOLS[case]
    conv = Conv(filters=2, kernel_size=1)
    model = Model("p", Input(3, size), (conv, _pool(k, s, p, ceil, zeros)))
    pair = build(model)
    imported = (
        compare.from_torch(pair.torch, input=(3, *size))
        if source == "torch"
        else compare.from_keras(pair.keras)
    )
    want = _pool(k, s, p, ceil, zeros)
    if ceil and all(_out_len(n, k, s, p, True) == _out_len(n, k, s, p, False) for n in size):
        want = _pool(k, s, p, False, zeros)  # ceil_mode that adds no window reads as off
    elif ceil and source == "keras":
        # Keras holds -inf padding (p, end) before a 'valid' pool; where that is exactly
        # TensorFlow's 'same' split (total = (ceil(n/s)-1)*s + k - n, the smaller half
        # first), it reads back as padding='same'
        def ceil_pad(n):
            return (p, (_out_len(n, k, s, p, True) - 1) * s + k - n - p)

        def same_pad(n):
            total = max((-(-n // s) - 1) * s + k - n, 0)
            return (total // 2, total - total // 2)

        if all(ceil_pad(n) == same_pad(n) for n in size):
            want = MaxPool(pool_size=k, strides=s, padding="same")
    assert spec_differences(Model("p", Input(3, size), (conv, want)), imported.model) == []


def test_a_torch_zero_pad_before_a_max_pool_is_the_pools_own_after_a_relu():
    signed = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ZeroPad2d(1), nn.MaxPool2d(3, 2))
    after_relu = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.ZeroPad2d(1), nn.MaxPool2d(3, 2))

    class Functional(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3)

        def forward(self, x):
            return F.max_pool2d(F.pad(self.conv(x), (1, 1, 1, 1)), 3, 2)

    want = MaxPool(pool_size=(3, 3), strides=(2, 2), padding=(1, 1), pad_zeros=True)
    for net, pool in (
        (signed, want),
        (after_relu, MaxPool(pool_size=(3, 3), strides=(2, 2), padding=(1, 1))),
        (Functional(), want),
    ):
        imported = compare.from_torch(net.eval(), input=(3, 12, 12))
        assert imported.model.layers[-1] == pool
        assert_keras_port_computes(net, imported, _x(3, (12, 12)))


def test_resnet50v2_stem_reads_and_ports_with_zero_padding():
    app = keras.applications.ResNet50V2(weights=None, input_shape=(32, 32, 3))
    stem = keras.Model(app.input, app.get_layer("pool1_pool").output)
    imported = compare.from_keras(stem)
    conv, pool = imported.model.layers
    assert isinstance(conv, Conv) and conv.padding == (3, 3)
    assert pool == MaxPool(pool_size=(3, 3), strides=(2, 2), padding=(1, 1), pad_zeros=True)
    result = compare.compare(imported)[0]
    assert result.status == "ok", result.parity
    x = _x(3, (32, 32))
    pair = build(imported.model)
    pair.load(imported)
    with torch.no_grad():
        y_t = pair.torch(torch.from_numpy(x)).numpy()
    want = np.moveaxis(np.asarray(stem(np.moveaxis(x, 1, -1))), -1, 1)
    np.testing.assert_allclose(y_t, want, atol=1e-4)


@pytest.mark.parametrize(
    "name, chain, size",
    [
        ("resnet18", lambda m: [m.conv1, m.bn1, m.relu, m.maxpool], (32, 32)),
        ("googlenet", lambda m: [m.conv1, m.maxpool1], (32, 32)),
        ("squeezenet1_1", lambda m: list(m.features[:3]), (33, 33)),
        ("vgg11", lambda m: [*m.features[:3], m.avgpool], (28, 28)),
    ],
)
def test_torchvision_stems_read_and_compare(name, chain, size):
    kwargs = {"aux_logits": False, "init_weights": False} if name == "googlenet" else {}
    net = nn.Sequential(*chain(torch_model(name, **kwargs))).eval()
    imported = compare.from_torch(net, input=(3, *size))
    result = compare.compare(imported)[0]
    assert result.status == "ok", result.parity
    x = _x(3, size)
    pair = build(imported.model)
    pair.load(imported)
    with torch.no_grad():
        want = net(torch.from_numpy(x)).numpy()
    y_k = np.moveaxis(np.asarray(pair.keras(np.moveaxis(x, 1, -1))), -1, 1)
    np.testing.assert_allclose(y_k, want, atol=1e-4)
    if name == "vgg11":  # AdaptiveAvgPool2d((7, 7)) on a 14x14 map: a 2x2 window
        assert imported.model.layers[-1] == AvgPool(pool_size=(2, 2), strides=(2, 2))


@pytest.mark.parametrize(
    "module, size, want",
    [
        (nn.AdaptiveAvgPool2d((7, 7)), (14, 14), AvgPool(pool_size=(2, 2), strides=(2, 2))),
        (nn.AdaptiveAvgPool2d((7, 7)), (7, 7), AvgPool(pool_size=(1, 1), strides=(1, 1))),
        (nn.AdaptiveMaxPool2d((2, 3)), (4, 6), MaxPool(pool_size=(2, 2), strides=(2, 2))),
        (nn.AdaptiveAvgPool2d((None, 2)), (5, 6), AvgPool(pool_size=(1, 3), strides=(1, 3))),
        (nn.AdaptiveAvgPool2d((7, 7)), (1, 1), Resample(scale=(7, 7))),
    ],
    ids=["vgg_14", "vgg_7", "max_2x3", "none_axis", "vgg_1x1_replicates"],
)
def test_adaptive_pools_read_exactly_where_the_sizes_divide(module, size, want):
    net = nn.Sequential(nn.Conv2d(3, 2, 1), module).eval()
    imported = compare.from_torch(net, input=(3, *size))
    assert imported.model.layers[-1] == want
    x = _x(3, size)
    pair = build(imported.model)
    pair.load(imported)
    with torch.no_grad():
        y = net(torch.from_numpy(x)).numpy()
    y_k = np.moveaxis(np.asarray(pair.keras(np.moveaxis(x, 1, -1))), -1, 1)
    np.testing.assert_allclose(y_k, y, atol=1e-5)


def test_adaptive_pools_whose_windows_overlap_are_refused_with_the_reason():
    net = nn.Sequential(nn.AdaptiveAvgPool2d((5, 5)))
    with pytest.raises(UnmappableError, match=r"output_size=\(5, 5\) from \(7, 7\).*overlap"):
        compare.from_torch(net, input=(2, 7, 7))
