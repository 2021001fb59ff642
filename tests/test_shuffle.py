"""The channel shuffle kind (ShuffleNet): nn.ChannelShuffle against Keras' Reshape,
Permute, Reshape; the oracle is the permutation written out by hand from the
ShuffleNet paper's definition (reshape the channels to (g, C/g), transpose, flatten),
and torchvision's own channel_shuffle function."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from zoo import torchvision

import compare
from compare.comparison import compare_model
from compare.errors import SpecError
from compare.importers import UnmappableError
from compare.kinds.shuffle.spec import ChannelShuffle
from compare.parity import build
from compare.spec import Conv, Input, Model


def assert_keras_port_computes(net, imported, x):
    """The Keras model built from ``imported``, with its weights ported, gives what the
    torch ``net`` gives on ``x`` (channels first), and the comparison is ok."""
    pair = build(imported.model)
    pair.load(imported)
    with torch.no_grad():
        want = net(torch.from_numpy(x)).numpy()
    y_k = np.moveaxis(np.asarray(pair.keras(np.moveaxis(x, 1, -1))), -1, 1)
    np.testing.assert_allclose(y_k, want, atol=1e-5)
    comparison = compare.compare(imported)
    assert comparison.ok, [m.parity for m in comparison]


nn = torch.nn


def _by_hand(x, g):
    """x: (N, C, *size); output channel a*g + b is input channel b*(C/g) + a."""
    c = x.shape[1]
    out = np.empty_like(x)
    for a in range(c // g):
        for b in range(g):
            out[:, a * g + b] = x[:, b * (c // g) + a]
    return out


CASES = {"shufflenet_2_of_8": (8, (5, 6), 2), "three_of_6_1d": (6, (7,), 3), "one": (4, (3, 3), 1)}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_both_frameworks_shuffle_as_the_definition_says(case):
    c, size, g = CASES[case]
    model = Model("s", Input(c, size), (ChannelShuffle(groups=g),))
    x = np.random.default_rng(0).standard_normal((2, c, *size)).astype("float32")
    pair = build(model)
    with torch.no_grad():
        y_t = pair.torch(torch.from_numpy(x)).numpy()
    y_k = np.moveaxis(np.asarray(pair.keras(np.moveaxis(x, 1, -1))), -1, 1)
    np.testing.assert_array_equal(y_t, _by_hand(x, g))
    np.testing.assert_array_equal(y_k, _by_hand(x, g))
    if len(size) == 2:
        shuffle = torchvision().models.shufflenetv2.channel_shuffle
        got = shuffle(torch.from_numpy(x), g).numpy()
        np.testing.assert_array_equal(got, _by_hand(x, g))


def test_facts_and_the_literal_reshape_port_measured():
    result = compare_model(Model("s", Input(8, (5, 6)), (ChannelShuffle(groups=2),)))
    assert result.status == "ok", result.parity
    row = result.layers[0]
    assert row.frameworks["torch"].classes == ("ChannelShuffle",)
    assert row.frameworks["keras"].classes == ("Reshape", "Permute", "Reshape")
    assert row.frameworks["torch"].params == row.frameworks["keras"].params == 0
    diff = next(d for d in row.differences if d.what == "reshape_layout")
    assert diff.measured and diff.naive_max_abs_err > 0.5


def test_groups_must_divide_the_channels():
    with pytest.raises(SpecError, match="groups=3 must divide the input's 8 channels"):
        _ = Model("s", Input(8, (2, 2)), (ChannelShuffle(groups=3),)).formulas
    with pytest.raises(SpecError, match="groups=0 must be an integer >= 1"):
        ChannelShuffle(groups=0)


def test_torch_chain_with_channel_shuffle_round_trips():
    net = nn.Sequential(nn.Conv2d(3, 8, 1), nn.ChannelShuffle(4)).eval()
    imported = compare.from_torch(net, input=(3, 5, 5))
    assert imported.model.layers[1] == ChannelShuffle(groups=4)
    assert compare.compare(imported)[0].status == "ok"


def test_keras_reshape_and_permute_of_activations_are_refused_with_the_reason():
    model = Model("s", Input(3, (5, 5)), (Conv(filters=8, kernel_size=1), ChannelShuffle(groups=2)))
    with pytest.raises(UnmappableError) as info:
        compare.from_keras(build(model).keras)
    assert "Permute" in str(info.value)


class _WrittenOut(nn.Module):
    """A conv, torchvision's own channel_shuffle function (view, transpose, contiguous,
    view), a conv: the shuffle as ShuffleNetV2 writes it."""

    def __init__(self, c, g, shuffle=None):
        super().__init__()
        self.a, self.b, self.g = nn.Conv2d(3, c, 1), nn.Conv2d(c, 2, 1), g
        self.shuffle = shuffle or torchvision().models.shufflenetv2.channel_shuffle

    def forward(self, x):
        return self.b(self.shuffle(self.a(x), self.g))


def _reshape_by_hand(x, g):
    n, c, h, w = x.shape
    return torch.transpose(x.reshape(n, g, c // g, h, w), 1, 2).reshape(n, c, h, w)


@pytest.mark.parametrize("c, g", [(8, 2), (12, 3), (6, 6)])
def test_the_shuffle_written_out_reads_as_channel_shuffle(c, g):
    for shuffle in (None, _reshape_by_hand):
        net = _WrittenOut(c, g, shuffle).eval()
        imported = compare.from_torch(net, input=(3, 5, 6))
        assert imported.model.layers[1] == ChannelShuffle(groups=g)
        assert len(imported.model.layers) == 3
        x = np.random.default_rng(1).standard_normal((2, 3, 5, 6)).astype("float32")
        assert_keras_port_computes(net, imported, x)


class _NotAShuffle(nn.Module):
    def __init__(self, dims):
        super().__init__()
        self.a, self.dims = nn.Conv2d(3, 8, 1), dims

    def forward(self, x):
        n, _, h, w = x.shape
        y = self.a(x).view(n, 2, 4, h, w)
        return torch.transpose(y, *self.dims).contiguous().view(n, 8, h, w)


@pytest.mark.parametrize("dims", [(2, 3), (3, 4)])
def test_a_transpose_of_other_axes_is_refused_with_the_reason(dims):
    with pytest.raises(UnmappableError, match="a transpose is read only inside a channel shuffle"):
        compare.from_torch(_NotAShuffle(dims), input=(3, 4, 4))
