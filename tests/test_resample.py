"""The resample kind: nn.Upsample / F.interpolate against UpSampling*D / Resizing.

The oracle is a plain numpy resize written here from the published definitions
(PyTorch's ``nn.Upsample`` documentation and TensorFlow's ``tf.image.resize``):

* nearest: input index ``floor(out * in / out_size)``; nearest-exact (half-pixel
  centres, TensorFlow 2's nearest) ``floor((out + 0.5) * in / out_size)``;
* bilinear, half-pixel centres: source ``(out + 0.5) * in / out_size - 0.5`` clamped at
  0; align_corners=True: ``out * (in - 1) / (out_size - 1)``; linear between the two
  neighbours in each axis.

Both frameworks' outputs are held against it, and the naive ports' errors against the
difference of two numpy resizes.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
import torch

import compare
from compare.comparison import compare_model
from compare.errors import SpecError
from compare.importers import UnmappableError, spec_differences
from compare.kinds.resample.keras import TFResize2D
from compare.kinds.resample.spec import Resample
from compare.parity import build
from compare.spec import Conv, Input, Model, model_from_dict

nn = torch.nn
F = torch.nn.functional
L = keras.layers


# -- the numpy oracle ------------------------------------------------------------------


def _nearest_axis(x, axis, n_out, half_pixel):
    n_in = x.shape[axis]
    out = np.arange(n_out)
    src = np.floor((out + 0.5) * n_in / n_out) if half_pixel else np.floor(out * n_in / n_out)
    return np.take(x, np.minimum(src.astype(int), n_in - 1), axis=axis)


def _linear_axis(x, axis, n_out, align_corners):
    n_in = x.shape[axis]
    out = np.arange(n_out, dtype=np.float64)
    if align_corners:
        src = out * (n_in - 1) / (n_out - 1) if n_out > 1 else np.zeros(n_out)
    else:
        src = np.maximum((out + 0.5) * n_in / n_out - 0.5, 0.0)
    lo = np.floor(src).astype(int)
    hi = np.minimum(lo + 1, n_in - 1)
    w = (src - lo).reshape([-1 if a == axis else 1 for a in range(x.ndim)])
    return np.take(x, lo, axis=axis) * (1 - w) + np.take(x, hi, axis=axis) * w


def numpy_resize(x, size, mode, align_corners=False):
    """x: (N, C, *spatial) float64; resized to ``size`` axis by axis."""
    y = x.astype(np.float64)
    for i, n_out in enumerate(size):
        axis = 2 + i
        if mode == "bilinear":
            y = _linear_axis(y, axis, n_out, align_corners)
        else:
            y = _nearest_axis(y, axis, n_out, half_pixel=mode == "nearest_exact")
    return y


# -- the case table --------------------------------------------------------------------

#: id -> (input size, layer fields, Keras class the spec is built as)
CASES = {
    "nearest_x2": ((5, 7), {"scale": 2}, "UpSampling2D"),
    "nearest_x3x2": ((4, 5), {"scale": (3, 2)}, "UpSampling2D"),
    "bilinear_x2": ((5, 7), {"scale": 2, "mode": "bilinear"}, "UpSampling2D"),
    "bilinear_x3": ((4, 4), {"scale": 3, "mode": "bilinear"}, "UpSampling2D"),
    "bilinear_x2_corners": (
        (5, 7),
        {"scale": 2, "mode": "bilinear", "align_corners": True},
        "TFResize2D",
    ),
    "bilinear_to_9x11_corners": (
        (5, 7),
        {"size": (9, 11), "mode": "bilinear", "align_corners": True},
        "TFResize2D",
    ),
    "bilinear_to_7x9": ((5, 7), {"size": (7, 9), "mode": "bilinear"}, "Resizing"),
    "bilinear_down_3x4": ((5, 7), {"size": (3, 4), "mode": "bilinear"}, "Resizing"),
    "nearest_to_7x9": ((5, 7), {"size": (7, 9), "mode": "nearest"}, "TFResize2D"),
    "nearest_exact_to_7x9": ((5, 7), {"size": (7, 9), "mode": "nearest_exact"}, "Resizing"),
    "nearest_to_10x21": ((5, 7), {"size": (10, 21), "mode": "nearest"}, "UpSampling2D"),
    "nearest_1d_x3": ((6,), {"scale": 3}, "UpSampling1D"),
    "nearest_3d_x122": ((2, 3, 4), {"scale": (1, 2, 2)}, "UpSampling3D"),
}


def _model(size, fields, channels=3):
    return Model("r", Input(channels, size), (Resample(**fields),))


def _x(size, channels=3, seed=0):
    return np.random.default_rng(seed).standard_normal((2, channels, *size)).astype("float32")


def _outputs(model, x):
    pair = build(model)
    with torch.no_grad():
        y_t = pair.torch(torch.from_numpy(x)).numpy()
    y_k = np.moveaxis(np.asarray(pair.keras(np.moveaxis(x, 1, -1))), -1, 1)
    return pair, y_t, y_k


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_both_frameworks_compute_the_numpy_resize(case):
    size, fields, _ = CASES[case]
    model = _model(size, fields)
    out = model.formulas[0].output.size
    x = _x(size)
    _, y_t, y_k = _outputs(model, x)
    layer = model.layers[0]
    want = numpy_resize(x, out, layer.mode, layer.align_corners)
    np.testing.assert_allclose(y_t, want, atol=2e-6)
    np.testing.assert_allclose(y_k, want, atol=2e-6)


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_facts_read_back_classes_shapes_and_no_parameters(case):
    size, fields, keras_class = CASES[case]
    result = compare_model(_model(size, fields))
    assert result.status == "ok", result.parity
    row = result.layers[0]
    t, k = row.frameworks["torch"], row.frameworks["keras"]
    assert t.classes == ("Upsample",)
    assert k.classes == (keras_class,)
    assert t.params == k.params == 0
    assert t.weights == k.weights == ()
    # by hand: each size times the scale, or the size asked for
    scale = fields.get("scale")
    if scale is not None:
        scales = scale if isinstance(scale, tuple) else (scale,) * len(size)
        out = tuple(n * s for n, s in zip(size, scales))
    else:
        out = fields["size"]
    assert t.output_shape == (None, 3, *out)
    assert k.output_shape == (None, *out, 3)


def _difference(result, what):
    return next((d for d in result.layers[0].differences if d.what == what), None)


def test_align_corners_is_named_and_its_naive_port_error_is_measured():
    size, fields = (5, 7), {"scale": 2, "mode": "bilinear", "align_corners": True}
    model = _model(size, fields)
    result = compare_model(model)
    diff = _difference(result, "align_corners")
    assert diff is not None and diff.measured
    # the naive port is Keras' half-pixel bilinear: the numpy difference of the two
    x = _x(size)  # the input the naive checks draw (seed 0, a batch of 2)
    out = (10, 14)
    want = np.abs(
        numpy_resize(x, out, "bilinear", True) - numpy_resize(x, out, "bilinear", False)
    ).max()
    assert diff.naive_max_abs_err == pytest.approx(want, abs=1e-5)
    assert want > 0.1
    notes = _difference(result, "resize_kernel")
    assert notes is not None and "align_corners" in notes.keras


def test_nearest_rounding_is_named_only_where_a_size_is_not_a_multiple():
    x = _x((5, 7))
    for fields, named in (
        ({"size": (7, 9), "mode": "nearest"}, True),
        ({"size": (7, 9), "mode": "nearest_exact"}, True),
        ({"size": (10, 21), "mode": "nearest"}, False),
        ({"scale": 2}, False),
    ):
        result = compare_model(_model((5, 7), fields))
        diff = _difference(result, "nearest_rounding")
        assert (diff is not None) == named, fields
        if named:
            want = np.abs(
                numpy_resize(x, (7, 9), "nearest") - numpy_resize(x, (7, 9), "nearest_exact")
            ).max()
            assert diff.naive_max_abs_err == pytest.approx(want, abs=1e-6)
            assert want > 0


def test_the_defaults_table_names_resizings_bilinear_default():
    # published: nn.Upsample(mode='nearest'), UpSampling2D(interpolation='nearest'),
    # Resizing(interpolation='bilinear'); none of the three aligns corners by default
    by_size = compare_model(_model((5, 7), {"size": (7, 9), "mode": "nearest_exact"}))
    rows = {r.name: r for r in by_size.layers[0].defaults}
    assert (rows["mode"].torch, rows["mode"].keras, rows["mode"].differs) == (
        "nearest",
        "bilinear",
        True,
    )
    assert rows["align_corners"].torch is False and rows["align_corners"].keras is False
    diff = _difference(by_size, "default_mode")
    assert diff is not None and diff.measured and diff.naive_max_abs_err > 0
    by_scale = compare_model(_model((5, 7), {"scale": 2}))
    rows = {r.name: r for r in by_scale.layers[0].defaults}
    assert (rows["mode"].torch, rows["mode"].keras, rows["mode"].differs) == (
        "nearest",
        "nearest",
        False,
    )


def test_keras_cannot_resize_1d_to_a_size_that_is_not_a_multiple():
    result = compare_model(_model((5,), {"size": 7}))
    assert result.status == "unsupported"
    assert "UpSampling1D" in result.layers[0].frameworks["keras"].reason


def test_tf_resize_2d_serialises_and_is_channels_last():
    layer = TFResize2D((4, 6), "bilinear", align_corners=True)
    again = TFResize2D.from_config(layer.get_config())
    assert (again.size, again.method, again.align_corners) == ((4, 6), "bilinear", True)
    y = layer(np.zeros((1, 2, 3, 5), "float32"))
    assert tuple(y.shape) == (1, 4, 6, 5)


# -- bad specs -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields, match",
    [
        ({}, "exactly one of scale and size"),
        ({"scale": 2, "size": 4}, "exactly one of scale and size"),
        ({"scale": 0}, r"scale=0 must be an integer >= 1"),
        ({"scale": 1.5}, r"scale=1.5 must be an integer"),
        ({"size": [3, 0]}, r"size=\[3, 0\] must hold integers >= 1"),
        ({"scale": 2, "mode": "bicubic"}, "mode='bicubic' must be one of"),
        ({"scale": 2, "align_corners": True}, "align_corners=true needs mode='bilinear'"),
        ({"scale": 2, "align_corners": 1}, "align_corners=1 must be"),
    ],
)
def test_bad_fields_raise_spec_errors_naming_them(fields, match):
    with pytest.raises(SpecError, match=match):
        Resample(**fields)


def test_bilinear_needs_two_spatial_axes_and_scale_the_input_rank():
    with pytest.raises(SpecError, match="mode='bilinear' interpolates two spatial axes"):
        _ = _model((6,), {"scale": 2, "mode": "bilinear"}).formulas
    with pytest.raises(SpecError, match="scale=\\[2, 2\\] has 2 values"):
        _ = _model((6,), {"scale": (2, 2)}).formulas
    with pytest.raises(SpecError, match="needs an input with at least 1 spatial axes"):
        _ = Model("r", Input(3), (Resample(scale=2),)).formulas


def test_spec_files_spell_pytorchs_names():
    model = model_from_dict(
        {
            "name": "r",
            "input": {"channels": 2, "size": [3, 3]},
            "layers": [{"kind": "resample", "scale_factor": 2, "mode": "nearest-exact"}],
        }
    )
    assert model.layers[0] == Resample(scale=(2, 2), mode="nearest_exact")


# -- importers: chains in both frameworks ----------------------------------------------


def test_torch_chain_with_upsample_modules_and_interpolate_round_trips():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3, padding=1)
            self.up = nn.Upsample(scale_factor=2, mode="bilinear")
            self.corners = nn.UpsamplingBilinear2d(size=(17, 19))
            self.near = nn.UpsamplingNearest2d(scale_factor=2)

        def forward(self, x):
            x = self.near(self.corners(self.up(self.conv(x))))
            return F.interpolate(x, size=(20, 30), mode="nearest-exact")

    net = Net().eval()
    imported = compare.from_torch(net, input=(3, 5, 6))
    layers = imported.model.layers
    assert [layer.kind for layer in layers] == ["conv"] + ["resample"] * 4
    assert layers[1] == Resample(scale=(2, 2), mode="bilinear")
    # nn.UpsamplingBilinear2d aligns corners (its documentation says so)
    assert layers[2] == Resample(size=(17, 19), mode="bilinear", align_corners=True)
    assert layers[3] == Resample(scale=(2, 2), mode="nearest")
    assert layers[4] == Resample(size=(20, 30), mode="nearest_exact")
    result = compare.compare(imported)[0]
    assert result.status == "ok", result.parity
    x = _x((5, 6))
    pair = build(imported.model)
    pair.load(imported)
    with torch.no_grad():
        np.testing.assert_allclose(
            pair.torch(torch.from_numpy(x)).numpy(), net(torch.from_numpy(x)).numpy(), atol=1e-5
        )
    y_k = np.moveaxis(np.asarray(pair.keras(np.moveaxis(x, 1, -1))), -1, 1)
    with torch.no_grad():
        np.testing.assert_allclose(y_k, net(torch.from_numpy(x)).numpy(), atol=1e-4)


def test_keras_chain_with_upsampling_and_resizing_round_trips():
    net = keras.Sequential(
        [
            keras.Input((5, 6, 3)),
            L.Conv2D(4, 3, padding="same"),
            L.UpSampling2D(2, interpolation="bilinear"),
            L.Resizing(7, 9),
            L.Resizing(14, 15, interpolation="nearest"),
            L.UpSampling2D((1, 2)),
        ]
    )
    imported = compare.from_keras(net)
    layers = imported.model.layers
    assert layers[1:] == (
        Resample(scale=(2, 2), mode="bilinear"),
        Resample(size=(7, 9), mode="bilinear"),  # Resizing's default interpolation
        Resample(size=(14, 15), mode="nearest_exact"),  # Keras' nearest: half-pixel
        Resample(scale=(1, 2), mode="nearest"),
    )
    result = compare.compare(imported)[0]
    assert result.status == "ok", result.parity
    x = _x((5, 6))
    pair = build(imported.model)
    pair.load(imported)
    with torch.no_grad():
        y_t = pair.torch(torch.from_numpy(x)).numpy()
    want = np.moveaxis(np.asarray(net(np.moveaxis(x, 1, -1))), -1, 1)
    np.testing.assert_allclose(y_t, want, atol=1e-4)


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
@pytest.mark.parametrize("source", ["torch", "keras"])
def test_built_pairs_round_trip_through_both_importers(case, source):
    size, fields, _ = CASES[case]
    model = Model("r", Input(3, size), (Conv(filters=2, kernel_size=1), Resample(**fields)))
    pair = build(model)
    if source == "torch":
        imported = compare.from_torch(pair.torch, input=(3, *size))
    else:
        imported = compare.from_keras(pair.keras)
    want = dict(fields)
    if "size" in fields and all(o % n == 0 for o, n in zip(fields["size"], size)):
        # a size that is a multiple of the input's is read as that integer scale
        want["scale"] = tuple(o // n for o, n in zip(want.pop("size"), size))
    expected = Model("r", Input(3, size), (Conv(filters=2, kernel_size=1), Resample(**want)))
    assert spec_differences(expected, imported.model) == []


@pytest.mark.parametrize(
    "module, match",
    [
        (nn.Upsample(scale_factor=1.5), "scale_factor=1.5"),
        (nn.Upsample(scale_factor=2, mode="bicubic"), "mode='bicubic'"),
    ],
)
def test_torch_resizes_the_spec_cannot_say_are_refused_with_the_reason(module, match):
    with pytest.raises(UnmappableError, match=match):
        compare.from_torch(nn.Sequential(module), input=(2, 4, 4))


def test_keras_resizes_the_spec_cannot_say_are_refused_with_the_reason():
    net = keras.Sequential([keras.Input((4, 4, 2)), L.Resizing(6, 6, interpolation="bicubic")])
    with pytest.raises(UnmappableError, match="interpolation='bicubic'"):
        compare.from_keras(net)
    net = keras.Sequential([keras.Input((4, 4, 2)), L.Resizing(6, 8, crop_to_aspect_ratio=True)])
    with pytest.raises(UnmappableError, match="crop_to_aspect_ratio=True"):
        compare.from_keras(net)
