"""The channel slice kind: ShuffleNetV2's ``x.chunk(2, dim=1)`` and ``torch.split`` on
the channels, read item by item, built as ``x[:, start:stop]`` in PyTorch and
``x[..., start:stop]`` in Keras. The oracle is numpy slicing of the channel axis and
the chunk sizes torch documents (``torch.chunk``: pieces of ceil(C / chunks), the last
smaller), written here by hand."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from test_shuffle import assert_keras_port_computes
from zoo import torch_model

import compare
from compare.comparison import compare_model
from compare.errors import SpecError
from compare.importers import UnmappableError, spec_differences
from compare.kinds.merge.spec import Concatenate
from compare.kinds.shuffle.keras import SliceChannels
from compare.kinds.shuffle.spec import ChannelShuffle, ChannelSlice
from compare.parity import build
from compare.spec import Conv, Input, Model

nn = torch.nn


def _x(c, size, seed=0):
    return np.random.default_rng(seed).standard_normal((2, c, *size)).astype("float32")


@pytest.mark.parametrize(
    "c, size, start, stop", [(8, (5, 6), 0, 4), (8, (5, 6), 4, 8), (5, (7,), 1, 4), (6, (), 2, 3)]
)
def test_both_frameworks_slice_as_numpy_does(c, size, start, stop):
    model = Model("s", Input(c, size), (ChannelSlice(start=start, stop=stop),))
    x = _x(c, size)
    pair = build(model)
    with torch.no_grad():
        y_t = pair.torch(torch.from_numpy(x)).numpy()
    y_k = np.moveaxis(np.asarray(pair.keras(np.moveaxis(x, 1, -1))), -1, 1)
    np.testing.assert_array_equal(y_t, x[:, start:stop])
    np.testing.assert_array_equal(y_k, x[:, start:stop])
    result = compare_model(model)
    assert result.status == "ok", result.parity
    t, k = result.layers[0].frameworks["torch"], result.layers[0].frameworks["keras"]
    assert t.classes == ("SliceChannels",) and k.classes == ("SliceChannels",)
    assert t.output_shape == (None, stop - start, *size)
    assert k.output_shape == (None, *size, stop - start)
    assert t.params == k.params == 0


def test_bad_slices_name_the_field_and_the_rule():
    with pytest.raises(SpecError, match="stop=2 must be greater than start=2"):
        ChannelSlice(start=2, stop=2)
    with pytest.raises(SpecError, match="start=-1 must be an integer >= 0"):
        ChannelSlice(start=-1, stop=2)
    with pytest.raises(SpecError, match="stop=9 must be at most the input's 8 channels"):
        _ = Model("s", Input(8, (2, 2)), (ChannelSlice(start=0, stop=9),)).formulas


def _chunk_sizes(c, chunks):
    """torch.chunk's documented sizes: ceil(c / chunks) each, the last what is left."""
    each = -(-c // chunks)
    sizes, left = [], c
    while left > 0:
        sizes.append(min(each, left))
        left -= each
    return sizes


class _Halves(nn.Module):
    """ShuffleNetV2's stride-1 unit: half the channels pass, half go through a conv."""

    def __init__(self, c, split):
        super().__init__()
        self.a, self.b, self.split = nn.Conv2d(3, c, 1), nn.Conv2d(c // 2, c // 2, 1), split

    def forward(self, x):
        x1, x2 = self.split(self.a(x))
        return torch.cat((x1, self.b(x2)), dim=1)


@pytest.mark.parametrize(
    "split",
    [
        lambda y: y.chunk(2, dim=1),
        lambda y: torch.chunk(y, 2, 1),
        lambda y: torch.split(y, 4, dim=1),
        lambda y: y.split([4, 4], 1),
    ],
    ids=["chunk_method", "torch_chunk", "torch_split", "split_sections"],
)
def test_shufflenets_split_reads_as_two_channel_slices(split):
    net = _Halves(8, split).eval()
    imported = compare.from_torch(net, input=(3, 5, 5))
    slices = [ly for ly in imported.model.layers if isinstance(ly, ChannelSlice)]
    assert slices == [ChannelSlice(start=0, stop=4), ChannelSlice(start=4, stop=8)]
    assert any(isinstance(ly, Concatenate) for ly in imported.model.layers)
    assert_keras_port_computes(net, imported, _x(3, (5, 5)))


class _Uneven(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.a = nn.Conv2d(3, c, 1)

    def forward(self, x):
        a, b, c = self.a(x).chunk(3, dim=1)
        return torch.cat((c, a, b), dim=1)


def test_uneven_chunks_read_with_torchs_own_sizes():
    net = _Uneven(7).eval()
    imported = compare.from_torch(net, input=(3, 4, 4))
    slices = [ly for ly in imported.model.layers if isinstance(ly, ChannelSlice)]
    sizes = _chunk_sizes(7, 3)  # 3, 3, 1
    starts = np.cumsum([0, *sizes[:-1]]).tolist()
    want = [ChannelSlice(start=s, stop=s + n) for s, n in zip(starts, sizes)]
    assert sorted(slices, key=lambda s: s.start) == want
    assert compare.compare(imported).ok


class _SpatialChunk(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 4, 1)

    def forward(self, x):
        top, bottom = self.a(x).chunk(2, dim=2)
        return top + bottom


def test_a_split_of_a_spatial_axis_is_refused_with_the_reason():
    with pytest.raises(UnmappableError, match="does not hold whole channels"):
        compare.from_torch(_SpatialChunk(), input=(3, 4, 4))


@pytest.mark.parametrize("source", ["torch", "keras"])
def test_built_slices_round_trip_through_both_importers(source):
    model = Model(
        "s", Input(3, (4, 4)), (Conv(filters=6, kernel_size=1), ChannelSlice(start=2, stop=5))
    )
    pair = build(model)
    imported = (
        compare.from_torch(pair.torch, input=(3, 4, 4))
        if source == "torch"
        else compare.from_keras(pair.keras)
    )
    assert spec_differences(model, imported.model) == []


def test_slice_channels_serialises():
    layer = SliceChannels(1, 3)
    assert (SliceChannels.from_config(layer.get_config()).start, layer.stop) == (1, 3)


@pytest.mark.slow
def test_torchvision_shufflenet_v2_reads_with_its_shuffles_and_splits():
    net = torch_model("shufflenet_v2_x0_5")
    own = sum(p.numel() for p in net.parameters())
    assert own == 1_366_792  # torchvision's published count for shufflenet_v2_x0_5
    imported = compare.from_torch(net, input="3x32x32")
    layers = imported.model.layers
    # stages of 4, 8 and 4 units (torchvision's stages_repeats): each unit shuffles
    # once; the 3 + 7 + 3 units of stride 1 split their input in two
    assert sum(isinstance(ly, ChannelShuffle) for ly in layers) == 16
    assert sum(isinstance(ly, ChannelSlice) for ly in layers) == 2 * 13
    assert all(ly.groups == 2 for ly in layers if isinstance(ly, ChannelShuffle))
    assert sum(f.params for f in imported.model.formulas) == own
    result = compare.compare(imported, diagnostics=False).models[0]
    assert result.status == "ok", result.parity
    assert all(layer.parity.status == "ok" for layer in result.layers)
    totals = result.totals()
    assert totals["torch"]["params"] == own
    assert totals["keras"]["trainable_params"] == own
