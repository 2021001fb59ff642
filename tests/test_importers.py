"""from_torch / from_keras: round trips over a case table, weights, and named refusals."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import compare
from compare.adapters import get_adapter
from compare.catalog import seed_model
from compare.importers import UnmappableError, spec_differences
from compare.spec import (
    Conv,
    ConvTranspose,
    Dense,
    DepthwiseConv,
    Flatten,
    Input,
    Model,
    SeparableConv,
)

nn = torch.nn
L = keras.layers


def _m(name, inp, *layers):
    return Model(name, inp, layers)


CASES = [
    _m("conv2d", Input(3, (9, 9)), Conv(filters=4, kernel_size=3)),
    _m(
        "conv2d_same_stride2",
        Input(3, (8, 8)),
        Conv(filters=4, kernel_size=3, strides=2, padding="same"),
    ),
    _m(
        "conv2d_pad_dilation",
        Input(3, (9, 9)),
        Conv(filters=4, kernel_size=3, padding=2, dilation=2),
    ),
    _m("conv2d_groups", Input(4, (8, 8)), Conv(filters=6, kernel_size=3, groups=2)),
    _m("conv1d_same", Input(2, (10,)), Conv(filters=3, kernel_size=5, padding="same")),
    _m(
        "conv3d",
        Input(2, (5, 6, 5)),
        Conv(filters=2, kernel_size=(3, 2, 3), strides=(1, 2, 1), padding=1),
    ),
    _m("conv_t2d_valid", Input(3, (5, 5)), ConvTranspose(filters=4, kernel_size=3, strides=2)),
    _m(
        "conv_t2d_pad_outpad",
        Input(3, (5, 5)),
        ConvTranspose(filters=2, kernel_size=3, strides=2, padding=1, output_padding=1),
    ),
    _m(
        "conv_t2d_same_asym",
        Input(3, (5, 5)),
        ConvTranspose(filters=2, kernel_size=3, strides=2, padding="same"),
    ),
    _m(
        "conv_t1d_same",
        Input(2, (6,)),
        ConvTranspose(filters=3, kernel_size=4, strides=2, padding="same"),
    ),
    _m(
        "depthwise2d", Input(3, (8, 8)), DepthwiseConv(kernel_size=3, depth_multiplier=2, padding=1)
    ),
    _m(
        "depthwise1d_same_stride2",
        Input(2, (9,)),
        DepthwiseConv(kernel_size=3, strides=2, padding="same"),
    ),
    _m("depthwise3d", Input(2, (5, 5, 5)), DepthwiseConv(kernel_size=3)),
    _m(
        "separable2d", Input(3, (8, 8)), SeparableConv(filters=5, kernel_size=3, depth_multiplier=2)
    ),
    _m(
        "separable1d_nobias",
        Input(2, (9,)),
        SeparableConv(filters=4, kernel_size=3, use_bias=False, padding="same"),
    ),
    _m("separable3d", Input(2, (5, 5, 5)), SeparableConv(filters=3, kernel_size=3)),
    _m("dense_vector", Input(6), Dense(units=4)),
    _m("dense_on_map", Input(3, (4, 4)), Dense(units=5)),
    seed_model(),
    _m(
        "stack",
        Input(1, (12, 12)),
        Conv(filters=4, kernel_size=3, strides=2, padding="same"),
        DepthwiseConv(kernel_size=3, padding=1),
        ConvTranspose(filters=2, kernel_size=2, strides=2),
        Flatten(),
        Dense(units=7, use_bias=False),
    ),
]


def _input(model):
    return (model.input.channels, *model.input.size)


@pytest.fixture(scope="module", params=CASES, ids=[m.name for m in CASES])
def case(request):
    model = request.param
    pair = compare.build(model, seed=3)
    pair.port(src="torch")
    return model, pair


@pytest.mark.parametrize("source", ["torch", "keras"])
def test_round_trip_gives_the_same_spec_and_weights(case, source):
    model, pair = case
    if source == "torch":
        imported = compare.from_torch(pair.torch, input=_input(model))
    else:
        imported = compare.from_keras(pair.keras)
    assert [layer.kind for layer in imported.model.layers] == [layer.kind for layer in model.layers]
    assert spec_differences(model, imported.model) == []
    adapter = get_adapter(source)
    for index, built in enumerate(pair.sides[source].layers):
        want = adapter.get_weights(built)
        got = imported.weights[index]
        assert sorted(got) == sorted(want)
        for role in want:
            np.testing.assert_array_equal(got[role], want[role])


def test_padding_int_and_same_are_one_network_but_other_fields_are_not():
    a = _m("a", Input(2, (8, 8)), Conv(filters=2, kernel_size=3, padding=1))
    b = _m("b", Input(2, (8, 8)), Conv(filters=2, kernel_size=3, padding="same"))
    c = _m("c", Input(2, (8, 8)), Conv(filters=2, kernel_size=3, padding="same", use_bias=False))
    assert spec_differences(a, b) == []
    [mismatch] = spec_differences(a, c)
    assert (mismatch.index, mismatch.field, mismatch.torch, mismatch.keras) == (
        0,
        "use_bias",
        True,
        False,
    )


class Chain(nn.Module):
    """A user module whose forward is a straight chain of modules and functions."""

    def __init__(self):
        super().__init__()
        self.pad = nn.ZeroPad2d((0, 1, 0, 1))
        self.conv = nn.Conv2d(1, 4, 3, stride=2)
        self.body = nn.Sequential(nn.Conv2d(4, 4, 3, groups=4, bias=False), nn.Conv2d(4, 6, 1))
        self.fc = nn.Linear(6 * 5 * 5, 3)

    def forward(self, x):
        x = self.body(self.conv(self.pad(x)))
        return self.fc(torch.flatten(x, 1))


@pytest.fixture(scope="module")
def chain():
    torch.manual_seed(0)
    return Chain()


def test_fx_chain_is_read_with_folds_and_paths(chain):
    imported = compare.from_torch(chain, input="1x14x14")
    layers = imported.model.layers
    assert [layer.kind for layer in layers] == ["conv", "separable_conv", "flatten", "dense"]
    assert layers[0].padding == "same"  # (0, 1) pads are TF's split for stride 2
    assert imported.paths[0] == ("pad", "conv")
    assert imported.paths[1] == ("body.0", "body.1")
    np.testing.assert_array_equal(imported.weights[3]["kernel"], chain.fc.weight.detach().numpy())


@pytest.mark.parametrize("source", ["torch", "keras"])
def test_build_from_an_import_keeps_the_users_weights(chain, source):
    x = np.random.default_rng(1).standard_normal((2, 1, 14, 14)).astype("float32")
    with torch.no_grad():
        want = chain(torch.from_numpy(x)).numpy()
    imported = compare.from_torch(chain, input=(1, 14, 14))
    if source == "keras":  # go round through the user's weights in a Keras model
        imported = compare.from_keras(compare.build(imported).keras)
        assert imported.source == "keras"
    pair = compare.build(imported, seed=99)
    with torch.no_grad():
        got_torch = pair.torch(torch.from_numpy(x)).numpy()
    got_keras = keras.ops.convert_to_numpy(pair.keras(np.moveaxis(x, 1, -1)))
    np.testing.assert_allclose(got_torch, want, atol=1e-5)
    np.testing.assert_allclose(got_keras, want, atol=1e-5)


def test_compare_reports_an_import_with_its_weights(chain):
    imported = compare.from_keras(compare.build(compare.from_torch(chain, "1x14x14")).keras)
    result = compare.compare(imported)[0]
    assert result.status == "ok"
    assert [r.kind for r in result.layers] == ["conv", "separable_conv", "flatten", "dense"]


def test_reading_does_not_change_the_users_module(chain):
    chain.train()
    before = {k: v.clone() for k, v in chain.state_dict().items()}
    compare.from_torch(chain, input="1x14x14")
    assert chain.training
    for key, value in chain.state_dict().items():
        assert torch.equal(value, before[key])


def test_every_unmappable_torch_module_is_named_with_path_class_and_reason():
    module = nn.Sequential(
        nn.Conv2d(3, 4, 3),
        nn.Hardtanh(),
        nn.ZeroPad2d((1, 0, 0, 0)),
        nn.Conv2d(4, 4, 3),
        nn.Conv2d(4, 4, 3, padding_mode="reflect", padding=1),
    )
    with pytest.raises(UnmappableError) as info:
        compare.from_torch(module, input="3x16x16")
    items = {item.path: item for item in info.value.items}
    assert set(items) == {"1", "2 + 3", "4"}
    assert items["1"].cls == "torch.nn.Hardtanh"
    assert "no importer maps this class" in items["1"].reason
    assert "asymmetric and not TensorFlow's 'same'" in items["2 + 3"].reason
    assert "padding_mode='reflect'" in items["4"].reason
    assert "1 (torch.nn.Hardtanh)" in str(info.value)


class Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 2, 3, padding=1)

    def forward(self, x):
        return self.conv(x) + x


def test_a_forward_that_is_not_a_chain_is_read_as_a_graph():
    spec = compare.from_torch(nn.Sequential(Residual()), input="2x5x5").model
    assert [layer.kind for layer in spec.layers] == ["conv", "add"]
    assert spec.wiring == (("0.conv", ("input",)), ("0.add", ("0.conv", "input")))


def test_linear_on_a_channels_first_map_is_refused():
    with pytest.raises(UnmappableError, match=r"0 \(torch.nn.Linear\): it acts on the last axis"):
        compare.from_torch(nn.Sequential(nn.Linear(5, 2)), input="3x4x5")


def test_keras_functional_chain_and_nested_sequential_are_read():
    inputs = keras.Input((10, 2))
    x = L.ZeroPadding1D((1, 1))(inputs)
    x = L.Conv1D(3, 3)(x)
    x = keras.Sequential([L.Flatten(), L.Dense(4, name="out")], name="head")(x)
    imported = compare.from_keras(keras.Model(inputs, x))
    layers = imported.model.layers
    assert [layer.kind for layer in layers] == ["conv", "flatten", "dense"]
    assert layers[0].padding == (1,)
    assert imported.paths[2] == ("head/out",)


def test_keras_unmappable_layers_are_named():
    inputs = keras.Input((6, 6, 2))
    a = L.Conv2D(2, 3, padding="same", name="a")(inputs)
    merged = L.Add(name="merge")([a, inputs])
    assert compare.from_keras(keras.Model(inputs, merged)).model.wiring[1] == (
        "merge",
        ("a", "input"),
    )
    fused = keras.Sequential(
        [
            keras.Input((6, 6, 2)),
            L.Conv2D(2, 3, activation="softsign", name="c"),
            L.Cropping2D(1, name="crop"),
        ]
    )
    with pytest.raises(UnmappableError) as info:
        compare.from_keras(fused)
    reasons = {item.path: item.reason for item in info.value.items}
    assert "activation 'softsign' is not one of keras.activations" in reasons["c"]
    assert "part of the transposed convolution before it" in reasons["crop"]


class ViewNet(nn.Module):
    """The classic hand-written forward: functional padding and x.view(x.size(0), -1)."""

    def __init__(self, flat=True):
        super().__init__()
        self.flat = flat
        self.c1 = nn.Conv2d(1, 3, 5, padding=2)
        self.c2 = nn.Conv2d(3, 4, 5)
        self.fc = nn.Linear(4 * 10 * 10, 2)

    def forward(self, x):
        x = self.c2(torch.nn.functional.pad(self.c1(x), (1, 1, 1, 1)))
        if self.flat:
            return self.fc(x.view(x.size(0), -1))
        return x.reshape(x.shape[0], 4, -1)


def test_functional_pad_and_view_flatten_are_read():
    imported = compare.from_torch(ViewNet(), input="1x12x12")
    assert [layer.kind for layer in imported.model.layers] == ["conv", "conv", "flatten", "dense"]
    assert imported.model.layers[1].padding == (1, 1)
    assert imported.paths[1] == ("pad", "c2")


def test_a_reshape_that_is_not_a_flatten_is_named():
    with pytest.raises(UnmappableError, match=r"reshape \(Tensor.reshape\): reshapes"):
        compare.from_torch(ViewNet(flat=False), input="1x12x12")


def test_keras_shared_layer_is_not_a_chain():
    inputs = keras.Input((4, 4, 2))
    conv = L.Conv2D(2, 1, name="shared")
    model = keras.Model(inputs, conv(conv(inputs)))
    with pytest.raises(UnmappableError, match="its graph is not a chain"):
        compare.from_keras(model)


def test_keras_model_without_input_shape_needs_input():
    model = keras.Sequential([L.Conv1D(2, 3), L.Flatten()])
    with pytest.raises(compare.SpecError, match="no fixed input shape; give input="):
        compare.from_keras(model)
    imported = compare.from_keras(model, input="3x8")
    assert imported.model.input == Input(3, (8,))


def test_compare_an_import_from_keras_ports_keras_weights_to_torch(case):
    _, pair = case
    imported = compare.from_keras(pair.keras)
    result = compare.compare(imported)[0]
    assert result.status == "ok", result.parity
    built = compare.build(imported)
    for index, layer in enumerate(built.sides["torch"].layers):
        torch_weights = get_adapter("torch").get_weights(layer)
        want = get_adapter("torch").get_weights(pair.sides["torch"].layers[index])
        for role, array in want.items():  # the pair was ported torch -> keras: back again
            np.testing.assert_allclose(torch_weights[role], array, rtol=0, atol=0)


def test_keras_reshape_to_a_vector_is_a_flatten():
    model = keras.Sequential([keras.Input((3, 3, 2)), L.Reshape((-1,), name="r"), L.Dense(2)])
    assert [layer.kind for layer in compare.from_keras(model).model.layers] == ["flatten", "dense"]
    bad = keras.Sequential([keras.Input((3, 3, 2)), L.Reshape((9, 2), name="r")])
    with pytest.raises(UnmappableError, match=r"r \(keras.layers.Reshape\): reshapes"):
        compare.from_keras(bad)


@st.composite
def single_layer_models(draw):
    rank = draw(st.integers(1, 2))
    channels = draw(st.integers(2, 4))
    size = tuple(draw(st.integers(4, 9)) for _ in range(rank))
    kind = draw(st.sampled_from([Conv, ConvTranspose, DepthwiseConv, SeparableConv]))
    fields = {
        "kernel_size": draw(st.integers(1, 4)),
        "strides": draw(st.integers(1, 3)),
        "dilation": draw(st.integers(1, 2)),
        "padding": draw(st.sampled_from(["valid", "same", 1, 2])),
        "use_bias": draw(st.booleans()),
    }
    if kind in (Conv, ConvTranspose, SeparableConv):
        fields["filters"] = draw(st.integers(1, 4)) * (2 if kind is not SeparableConv else 1)
    if kind in (DepthwiseConv, SeparableConv):
        fields["depth_multiplier"] = draw(st.integers(1, 2))
    if kind is Conv:
        # groups == channels is a depthwise convolution, which is what it is read as
        fields["groups"] = draw(st.sampled_from([g for g in (1, 2) if g < channels]))
    if kind is ConvTranspose and fields["padding"] != "same":
        fields["output_padding"] = draw(st.integers(0, 1))
    try:
        layer = kind(**fields)
        return Model("h", Input(channels, size), (layer,))
    except compare.SpecError:
        assume(False)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(single_layer_models())
def test_torch_round_trip_of_random_single_layers(model):
    from compare.formulas import infer

    formula = infer(model)[0]
    built = get_adapter("torch").build(model.layers[0], formula, 0, "float32")
    imported = compare.from_torch(built.obj, input=_input(model))
    assert [layer.kind for layer in imported.model.layers] == [model.layers[0].kind]
    assert spec_differences(model, imported.model) == []


class DenseOnMap(nn.Module):
    """nn.Linear on the channels of a map, written with permute / movedim."""

    def __init__(self, back=(0, 3, 1, 2)):
        super().__init__()
        self.back = back
        self.conv = nn.Conv2d(3, 4, 3)
        self.fc = nn.Linear(4, 5)

    def forward(self, x):
        x = self.fc(self.conv(x).permute(0, 2, 3, 1))
        return x.permute(*self.back)


def test_linear_between_channel_moves_is_a_dense_on_the_map():
    imported = compare.from_torch(DenseOnMap(), input="3x6x6")
    assert [layer.kind for layer in imported.model.layers] == ["conv", "dense"]
    assert imported.paths[1] == ("permute", "fc", "permute_1")
    with pytest.raises(UnmappableError, match=r"permute_1 \(Tensor.permute\): permutes the axes"):
        compare.from_torch(DenseOnMap(back=(0, 3, 2, 1)), input="3x6x6")


def test_consecutive_paddings_add_up_into_the_next_conv():
    module = nn.Sequential(
        nn.ZeroPad2d((1, 0, 1, 0)), nn.ZeroPad2d((0, 1, 0, 1)), nn.Conv2d(2, 2, 3)
    )
    imported = compare.from_torch(module, input="2x6x6")
    assert imported.model.layers[0].padding == (1, 1)
    assert imported.paths[0] == ("0", "1", "2")
    keras_model = keras.Sequential(
        [keras.Input((6, 6, 2)), L.ZeroPadding2D(((0, 1), (0, 1))), L.Dense(2)]
    )
    with pytest.raises(
        UnmappableError,
        match=r"read as part of the convolution or pool that follows "
        r"it, but keras.layers.Dense follows",
    ):
        compare.from_keras(keras_model)


class Functional(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 2, 3)

    def forward(self, x):
        return torch.nn.functional.hardtanh(self.conv(x)).sum(dim=(1, 2, 3))


def test_unmapped_functions_and_batch_breaking_outputs_are_named():
    with pytest.raises(UnmappableError) as info:
        compare.from_torch(Functional(), input="2x5x5")
    reasons = {item.path: item.reason for item in info.value.items}
    assert "no importer maps this function or method" in reasons["hardtanh"]
    assert "not one tensor that keeps the batch axis" in reasons["sum_1"]


def test_every_branch_of_a_forward_is_read():
    class TwoResiduals(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Conv2d(2, 2, 3, padding=1), nn.Conv2d(2, 2, 3, padding=1)

        def forward(self, x):
            x = x + self.a(x)
            return torch.cat([x, self.b(x)], dim=1)

    spec = compare.from_torch(TwoResiduals(), input="2x4x4").model
    assert [layer.kind for layer in spec.layers] == ["conv", "add", "conv", "concatenate"]


def test_every_merge_of_a_keras_model_is_read():
    inputs = keras.Input((4, 4, 2))
    x = keras.layers.Add()([inputs, keras.layers.Conv2D(2, 3, padding="same")(inputs)])
    y = keras.layers.Concatenate()([x, keras.layers.Conv2D(2, 1)(x)])
    spec = compare.from_keras(keras.Model(inputs, y)).model
    assert [layer.kind for layer in spec.layers] == ["conv", "add", "conv", "concatenate"]
