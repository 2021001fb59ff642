"""Reading branching models: torch.fx DAGs and Keras functional graphs, node by node.

Every model here is written by hand the way users write them (``x + self.conv(x)``,
``out += identity``, ``torch.cat``, a squeeze-excitation ``scale * x``, Keras'
``Add()([shortcut, x])`` with the shortcut built first, ``keras.ops`` calls). The
expected graphs are stated from the model code; the parameter counts are each
framework's own.
"""

from __future__ import annotations

import keras
import pytest
import torch
from torch import nn

import compare
from compare import UnmappableError
from compare.testing import assert_equivalent, check_equivalent

L = keras.layers


def torch_count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


class Residual(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(2, 2, 3, padding=1)

    def forward(self, x):
        return self.conv(x) + x


class Block(nn.Module):
    """torchvision's BasicBlock shape: in-place add of the shortcut, ReLU after it."""

    def __init__(self, c: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c, 2 * c, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(2 * c)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(2 * c, 2 * c, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(2 * c)
        self.down = nn.Sequential(nn.Conv2d(c, 2 * c, 1, stride, bias=False), nn.BatchNorm2d(2 * c))

    def forward(self, x):
        identity = self.down(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += identity
        return self.relu(out)


class TwoBlocks(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 4, 3, padding=1)
        self.blocks = nn.Sequential(Block(4, 2), Block(8, 1))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, 5)

    def forward(self, x):
        x = self.pool(self.blocks(self.stem(x)))
        return self.fc(torch.flatten(x, 1))


def keras_block(x, c: int, stride: int, name: str):
    """The same block in Keras, written as keras.applications writes it: the
    shortcut first, then ``Add()([shortcut, x])``."""
    shortcut = L.Conv2D(2 * c, 1, stride, use_bias=False, name=f"{name}_0_conv")(x)
    shortcut = L.BatchNormalization(epsilon=1e-5, momentum=0.9, name=f"{name}_0_bn")(shortcut)
    if stride > 1:
        x = L.ZeroPadding2D(1, name=f"{name}_pad")(x)
    x = L.Conv2D(2 * c, 3, stride, "valid" if stride > 1 else "same", use_bias=False)(x)
    x = L.BatchNormalization(epsilon=1e-5, momentum=0.9, name=f"{name}_1_bn")(x)
    x = L.ReLU()(x)
    x = L.Conv2D(2 * c, 3, padding="same", use_bias=False)(x)
    x = L.BatchNormalization(epsilon=1e-5, momentum=0.9, name=f"{name}_2_bn")(x)
    x = L.Add(name=f"{name}_add")([shortcut, x])
    return L.ReLU(name=f"{name}_out")(x)


def keras_two_blocks() -> keras.Model:
    inputs = keras.Input((12, 12, 3))
    x = L.Conv2D(4, 3, padding="same", name="stem")(inputs)
    x = keras_block(x, 4, 2, "b1")
    x = keras_block(x, 8, 1, "b2")
    x = L.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, L.Dense(5, name="fc")(x))


def test_a_residual_forward_is_read_as_a_graph():
    imported = compare.from_torch(Residual(), input="2x5x5")
    model = imported.model
    assert [layer.kind for layer in model.layers] == ["conv", "add"]
    assert model.wiring == (("conv", ("input",)), ("add", ("conv", "input")))
    assert model.layers[0].padding == (1, 1)


def test_two_residual_blocks_read_from_torch_with_counts_and_parity():
    net = TwoBlocks().eval()
    imported = compare.from_torch(net, input="3x12x12")
    model = imported.model
    kinds = [layer.kind for layer in model.layers]
    # stem, 2 x (shortcut conv + bn, conv bn relu conv bn, add, relu), pool, dense
    assert kinds.count("add") == 2 and kinds.count("conv") == 7 and kinds.count("batch_norm") == 6
    adds = [inputs for (_, inputs), layer in zip(model.wiring, model.layers) if layer.kind == "add"]
    assert [len(inputs) for inputs in adds] == [2, 2]
    assert sum(f.params for f in model.formulas) == torch_count(net)
    result = compare.compare(imported).models[0]
    assert result.status == "ok", result.parity
    assert result.totals()["torch"]["params"] == torch_count(net)
    assert all(layer.parity.status == "ok" for layer in result.layers)


def test_keras_reads_the_real_dag_not_the_layer_list_order():
    model = keras_two_blocks()
    imported = compare.from_keras(model)
    spec = imported.model
    wiring = dict(spec.wiring)
    # the shortcut conv reads the stem, not the main path it was created before
    assert wiring["b1_0_conv"] == ("stem",)
    assert wiring["b1_add"][0] == "b1_0_bn"  # Add()([shortcut, x]): the shortcut first
    assert wiring["b1_add"][1] == "b1_2_bn"
    frozen = sum(int(w.numpy().size) for w in model.non_trainable_weights)  # BN statistics
    assert frozen == 2 * (3 * 8 + 3 * 16)
    assert sum(f.params for f in spec.formulas) == model.count_params() - frozen
    result = compare.compare(imported).models[0]
    assert result.status == "ok", result.parity
    assert result.totals()["keras"]["params"] == model.count_params()


def test_a_torch_graph_and_its_keras_port_are_equivalent_node_by_node():
    net = TwoBlocks().eval()
    result = check_equivalent(net, keras_two_blocks(), input="3x12x12")
    assert result.ok, result.message
    # every node compared, not only the output: stem, 2 blocks of 9, pool, dense
    assert len(result.errors) == 1 + 2 * 9 + 2


def test_a_changed_epsilon_in_one_block_is_named_with_both_sides_places():
    net = TwoBlocks().eval()
    net.blocks[1].bn2.eps = 1e-3
    with pytest.raises(AssertionError, match="describe different networks") as info:
        assert_equivalent(net, keras_two_blocks(), input="3x12x12")
    text = str(info.value)
    assert "epsilon: torch 0.001, keras 1e-05" in text
    assert "torch: blocks.1.bn2 (BatchNorm2d)" in text


def test_the_first_diverging_node_is_named_on_both_sides():
    # Weights every layout agrees on (each kernel constant), so both models compute the
    # same function with their own weights; then one Keras statistic is changed.
    net = TwoBlocks().eval()
    keras_net = keras_two_blocks()
    with torch.no_grad():
        for module in net.modules():
            if isinstance(module, nn.Conv2d | nn.Linear):
                module.weight.fill_(0.01)
                if module.bias is not None:
                    module.bias.zero_()
    for layer in keras_net.layers:
        if isinstance(layer, L.Conv2D | L.Dense):
            layer.kernel.assign(keras.ops.full(layer.kernel.shape, 0.01))
            if layer.bias is not None:
                layer.bias.assign(keras.ops.zeros(layer.bias.shape))
    assert check_equivalent(net, keras_net, input="3x12x12", weights="own").ok
    bn = keras_net.get_layer("b2_1_bn")
    bn.moving_mean.assign(keras.ops.full(bn.moving_mean.shape, 3.0))
    result = check_equivalent(net, keras_net, input="3x12x12", weights="own")
    assert not result.ok and result.divergence is not None
    assert result.divergence.torch == "blocks.1.bn1 (BatchNorm2d)"
    assert result.divergence.keras == "b2_1_bn (BatchNormalization)"
    assert "diverge first after layer" in result.message


def test_squeeze_excitation_broadcast_multiply_both_ways():
    class SE(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.pool = nn.AdaptiveAvgPool2d(1)
            self.fc1 = nn.Conv2d(8, 2, 1)
            self.fc2 = nn.Conv2d(2, 8, 1)

        def forward(self, x):
            s = torch.sigmoid(self.fc2(torch.relu(self.fc1(self.pool(x)))))
            return s * x

    inputs = keras.Input((6, 6, 8))
    s = L.GlobalAveragePooling2D(keepdims=True)(inputs)
    s = L.Conv2D(2, 1, activation="relu")(s)
    s = L.Conv2D(8, 1, activation="sigmoid")(s)
    out = L.Multiply()([s, inputs])
    keras_se = keras.Model(inputs, out)
    imported = compare.from_torch(SE(), input="8x6x6")
    assert [layer.kind for layer in imported.model.layers][-1] == "multiply"
    assert compare.compare(imported).models[0].status == "ok"
    assert check_equivalent(SE(), keras_se, input="8x6x6").ok


def test_concatenate_on_channels_and_keras_ops_calls_are_read():
    inputs = keras.Input((5, 5, 3))
    a = L.Conv2D(2, 1, name="a")(inputs)
    b = L.Conv2D(4, 3, padding="same", name="b")(inputs)
    joined = keras.ops.concatenate([a, b], axis=-1)
    out = joined + L.Conv2D(6, 1, name="c")(joined)  # keras.ops.add on symbolic tensors
    model = keras.Model(inputs, out)
    spec = compare.from_keras(model).model
    kinds = sorted(layer.kind for layer in spec.layers)
    assert kinds == ["add", "concatenate", "conv", "conv", "conv"]
    assert spec.formulas[[la.kind for la in spec.layers].index("concatenate")].output.channels == 6
    assert compare.compare(compare.from_keras(model)).models[0].status == "ok"


def test_torch_cat_and_every_add_spelling():
    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a, self.b = nn.Conv2d(2, 2, 1), nn.Conv2d(2, 2, 1)

        def forward(self, x):
            y = torch.add(self.a(x), x)
            y = y.add(self.b(y))
            z = torch.cat([y, x], dim=1)
            return torch.cat((z, z - z.mul(z)), 1)

    spec = compare.from_torch(Net(), input="2x3x3").model
    assert [layer.kind for layer in spec.layers] == [
        "conv",
        "add",
        "conv",
        "add",
        "concatenate",
        "multiply",
        "subtract",
        "concatenate",
    ]
    assert compare.compare(compare.from_torch(Net(), input="2x3x3")).models[0].status == "ok"


def test_every_unmapped_part_of_a_graph_is_named_once_in_the_users_words():
    class Bad(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(2, 2, 3, padding=1)
            self.odd = nn.PixelShuffle(1)

        def forward(self, x):
            y = self.conv(x) + 3
            return torch.cat([self.odd(y), x], dim=2) + x.mean()

    with pytest.raises(UnmappableError) as info:
        compare.from_torch(Bad(), input="2x4x4")
    text = str(info.value)
    reasons = {item.path: item.reason for item in info.value.items}
    assert "adds 3, not another tensor of the model" in reasons["add"]
    assert "PixelShuffle" in text and "no importer maps this class" in reasons["odd"]
    assert "joins dim=2" in reasons["cat"]
    assert "getattr" not in text and "call_function" not in text


def test_a_keras_constant_op_and_a_shared_layer_in_a_graph_are_named():
    inputs = keras.Input((4, 4, 2))
    shared = L.Conv2D(2, 1, name="shared")
    x = L.Add()([shared(inputs), shared(shared(inputs))])
    with pytest.raises(UnmappableError, match=r"shared .*called 3 times \(shared weights\)"):
        compare.from_keras(keras.Model(inputs, x))
    scaled = L.Add()([inputs, inputs * 0.5])
    with pytest.raises(UnmappableError, match="with a constant"):
        compare.from_keras(keras.Model(inputs, scaled))


def test_keras_squeeze_reshape_joins_the_global_pool_as_keepdims():
    # keras.applications' EfficientNet squeeze: GlobalAveragePooling2D, Reshape((1, 1, C))
    inputs = keras.Input((6, 6, 8))
    s = L.GlobalAveragePooling2D(name="squeeze")(inputs)
    s = L.Reshape((1, 1, 8), name="se_reshape")(s)
    s = L.Conv2D(8, 1, activation="sigmoid", name="excite")(s)
    model = keras.Model(inputs, L.Multiply(name="scale")([inputs, s]))
    imported = compare.from_keras(model)
    assert imported.model.layers[0].keepdims is True
    assert imported.paths[0] == ("squeeze", "se_reshape")
    assert compare.compare(imported).models[0].status == "ok"
    lone = keras.Model(inputs, L.Reshape((1, 1, 8))(L.Dense(8)(L.Flatten()(inputs))))
    with pytest.raises(UnmappableError, match="size-1 spatial axes is read as part of the"):
        compare.from_keras(lone)


def test_a_cat_of_one_tensor_is_the_identity():
    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(2, 3, 1)

        def forward(self, x):
            features = [x]
            y = self.conv(torch.cat(features, 1))  # DenseNet's first layer of a block
            return torch.cat([x, y], 1)

    spec = compare.from_torch(Net(), input="2x4x4").model
    assert [layer.kind for layer in spec.layers] == ["conv", "concatenate"]
    assert spec.wiring[0] == ("conv", ("input",))


def test_nested_keras_models_in_a_graph_are_opened():
    stem = keras.Sequential(
        [keras.Input((8, 8, 3)), L.Conv2D(4, 3, padding="same", name="c")], name="stem"
    )
    inputs = keras.Input((8, 8, 3))
    x = stem(inputs)
    branch_in = keras.Input((8, 8, 4))
    branch = keras.Model(
        branch_in,
        L.Add(name="inner_add")([branch_in, L.Conv2D(4, 1, name="d")(branch_in)]),
        name="block",
    )
    y = branch(x)
    model = keras.Sequential([keras.Input((8, 8, 3)), keras.Model(inputs, y, name="net")])
    imported = compare.from_keras(model)
    assert [layer.kind for layer in imported.model.layers] == ["conv", "conv", "add"]
    assert dict(imported.model.wiring)["net/block/inner_add"] == ("net/stem/c", "net/block/d")
    result = compare.compare(imported).models[0]
    assert result.status == "ok"
    assert result.totals()["keras"]["params"] == model.count_params()


def test_a_flatten_after_a_concatenation_ports_the_dense_rows():
    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a, self.b = nn.Conv2d(2, 3, 3), nn.Conv2d(2, 4, 3)
            self.fc = nn.Linear(7 * 3 * 3, 5)

        def forward(self, x):
            joined = torch.cat([self.a(x), self.b(x)], 1)
            return self.fc(torch.flatten(joined, 1))

    imported = compare.from_torch(Net(), input="2x5x5")
    result = compare.compare(imported).models[0]
    assert result.status == "ok" and all(la.parity.status == "ok" for la in result.layers)
    dense = result.layers[-1]
    naive = next(d for d in dense.differences if d.what == "flatten_dense")
    assert naive.measured and naive.naive_max_abs_err > 1e-3  # C,H,W rows taken as H,W,C


def test_a_keras_transformer_block_is_read_and_built_in_torch():
    # a pre-norm ViT encoder block: LN, self-attention, add, LN, MLP, add
    inputs = keras.Input((10, 32))
    h = L.LayerNormalization(epsilon=1e-5, name="ln1")(inputs)  # named: Keras' own names
    h = L.MultiHeadAttention(4, 8, name="attn")(h, h)  # depend on the models built before
    x = L.Add(name="res1")([inputs, h])
    h = L.LayerNormalization(epsilon=1e-5)(x)
    h = L.Dense(32, name="up")(L.Dense(64, activation="gelu")(h))
    model = keras.Model(inputs, L.Add(name="res2")([x, h]))
    imported = compare.from_keras(model)
    wiring = dict(imported.model.wiring)
    assert wiring["attn"] == ("ln1",)  # mha(h, h): self-attention
    assert wiring["res2"] == ("res1", "up")
    result = compare.compare(imported).models[0]
    assert result.status == "ok" and all(la.parity.status == "ok" for la in result.layers)
    assert result.totals()["torch"]["params"] == model.count_params()


def test_a_mean_or_amax_over_the_spatial_axes_is_a_global_pool():
    class Head(nn.Module):  # MNASNet's head: x.mean([2, 3]) then a classifier
        def __init__(self) -> None:
            super().__init__()
            self.conv, self.fc = nn.Conv2d(2, 3, 3), nn.Linear(3, 4)

        def forward(self, x):
            y = self.conv(x)
            gate = torch.amax(y, (2, 3), keepdim=True)
            return self.fc((y * gate).mean([2, 3]))

    layers = compare.from_torch(Head(), input="2x6x6").model.layers
    assert [(la.kind, getattr(la, "keepdims", None)) for la in layers] == [
        ("conv", None),
        ("global_max_pool", True),
        ("multiply", None),
        ("global_avg_pool", False),
        ("dense", None),
    ]

    class Odd(nn.Module):
        def forward(self, x):
            return x.mean(1, keepdim=True) + x

    with pytest.raises(UnmappableError, match=r"reduces dims 1 of a 4-d tensor"):
        compare.from_torch(Odd(), input="2x6x6")


def test_a_keras_ops_call_in_a_chain_is_named_not_lost():
    inputs = keras.Input((4, 4, 2))
    x = L.Conv2D(2, 1, name="c")(inputs)
    model = keras.Model(inputs, L.Flatten()(keras.ops.relu(x) * 2.0))
    with pytest.raises(UnmappableError) as info:
        compare.from_keras(model)
    reasons = {item.path: item.reason for item in info.value.items}
    assert any("with a constant" in reason for reason in reasons.values()), reasons
