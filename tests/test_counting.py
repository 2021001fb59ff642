"""FLOPs, MACs and memory: the tool's figures held against the frameworks' own counters
run here, in the test, against hand-derived formulas, and against published figures.

Published figures:
- the seed model (issue 15): MACs 243,360 + 1,658,880 + 46,080 = 1,948,320; PyTorch's
  ``FlopCounterMode`` 3,896,640 FLOPs; TensorFlow's profiler 3,928,298 (bias adds
  included: 27,040 + 4,608 + 10 = 31,658).
- torchinfo's README example net (Conv2d(1, 10, 5), Conv2d(10, 20, 5), Dropout2d,
  max_pool2d 2, relu, Linear(320, 50), Linear(50, 10) on 1x28x28): 480,500 mult-adds,
  conv 144,000 + 320,000, dense 16,000 + 500.
"""

from __future__ import annotations

import contextlib
import io

import pytest

from compare.adapters.base import Built
from compare.catalog import seed_model
from compare.comparison import compare_model
from compare.core.graph import Graph
from compare.core.work import Work
from compare.counting import count_pair, explain, peak_activation_bytes
from compare.parity import build
from compare.spec import (
    Activation,
    Conv,
    Dense,
    Dropout,
    Flatten,
    Input,
    MaxPool,
    Model,
)
from compare.specfile import load_lenient

CATALOG = "compare/catalog"


# -- the counters, run here -------------------------------------------------------------


def torch_flops(module, inputs) -> int:
    """PyTorch's FlopCounterMode on one call of ``module``."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        module(*inputs)
    return counter.get_total_flops()


def torch_zeros(shape, dtype="float32", batch=1):
    import torch

    dims = [int(d) for d in shape.torch()[1:] if d is not None]
    if shape.dtype == "int":
        return torch.zeros((batch, *dims), dtype=torch.int64)
    return torch.zeros((batch, *dims), dtype=getattr(torch, dtype))


def tf_flops(model, shape, batch=1) -> int:
    """TensorFlow's profiler (float_operation) on the frozen forward of ``model`` at
    ``batch`` samples."""
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import (
        convert_variables_to_constants_v2,
    )

    dims = tuple(int(d) for d in shape.keras()[1:] if d is not None)
    dtype = tf.int64 if shape.dtype == "int" else tf.float32
    fn = tf.function(lambda x: model(x, training=False))
    frozen = convert_variables_to_constants_v2(
        fn.get_concrete_function(tf.TensorSpec((batch, *dims), dtype))
    )
    opts = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    opts["output"] = "none"
    with contextlib.redirect_stderr(io.StringIO()):
        return int(tf.compat.v1.profiler.profile(frozen.graph, options=opts).total_float_ops)


def keras_layer_model(built, shape):
    """One layer's Keras parts called on a fresh input: a model of that layer alone."""
    import keras

    dims = tuple(int(d) for d in shape.keras()[1:] if d is not None)
    x = keras.Input(shape=dims, dtype="int64" if shape.dtype == "int" else "float32")
    y = x
    for part in built.obj:
        y = part(y)
    return keras.Model(x, y)


# -- the seed model: published figures ----------------------------------------------------


@pytest.fixture(scope="module")
def seed():
    return compare_model(seed_model(), count=True)


def test_seed_macs_are_the_published_ones(seed):
    # hand-derived: filters * out positions * (kernel * in channels), units * features
    assert [layer.macs for layer in seed.layers] == [
        40 * 26 * 26 * (3 * 3 * 1),
        8 * 24 * 24 * (3 * 3 * 40),
        0,
        10 * 4608,
    ]
    assert seed.totals()["formula_macs"] == 243_360 + 1_658_880 + 46_080 == 1_948_320


def test_seed_flops_are_the_published_ones_and_the_counters_own(seed):
    pair = build(seed_model())
    x = torch_zeros(pair.formulas[0].input)
    totals = seed.totals()
    assert totals["torch"]["flops"] == 3_896_640 == torch_flops(pair.torch, [x])
    assert totals["keras"]["flops"] == 3_928_298 == tf_flops(pair.keras, pair.formulas[0].input)
    # PyTorch counts 2 FLOPs per MAC and no bias add; TensorFlow adds one per bias add
    assert totals["torch"]["flops"] == 2 * 1_948_320
    assert totals["keras"]["flops"] - totals["torch"]["flops"] == 27_040 + 4_608 + 10 == 31_658


def test_seed_names_why_the_counters_differ(seed):
    assert seed.layers[0].count_notes == (
        "TensorFlow counts the 27040 bias adds (one FLOP each); PyTorch does not",
    )
    assert seed.layers[2].count_notes == ()


def test_seed_memory(seed):
    totals = seed.totals()
    for name in ("torch", "keras"):
        # float32 parameters: 4 bytes each; no buffers
        assert totals[name]["param_bytes"] == 4 * 49_378
        assert totals[name]["buffer_bytes"] == 0
        # outputs at batch 1: 40*26*26, 8*24*24, 4608, 10 floats
        assert [layer.frameworks[name].activation_bytes for layer in seed.layers] == [
            4 * 27_040,
            4 * 4_608,
            4 * 4_608,
            4 * 10,
        ]
        # peak: conv 1 runs while conv 0's output is held
        assert totals[name]["peak_activation_bytes"] == 4 * (27_040 + 4_608)


def test_seed_json_and_frame_carry_the_figures(seed):
    doc = seed.to_dict()
    assert doc["layers"][1]["formula"]["macs"] == 1_658_880
    assert doc["layers"][1]["frameworks"]["torch"]["flops"] == 3_317_760
    assert doc["totals"]["formula_macs"] == 1_948_320
    assert doc["totals"]["keras"]["flops"] == 3_928_298
    from compare.table import to_frame

    frame = to_frame([seed])
    keras_rows = frame[frame.framework == "keras"]
    assert keras_rows["flops"].tolist() == [513_760, 3_322_368, 0, 92_170]
    assert keras_rows["formula_macs"].tolist() == [243_360, 1_658_880, 0, 46_080]


def test_counting_is_off_unless_asked():
    result = compare_model(seed_model())
    assert result.layers[0].frameworks["torch"].flops is None
    assert result.totals()["torch"]["flops"] is None
    assert result.totals()["formula_macs"] == 1_948_320  # the formulas cost nothing


def test_show_prints_the_work_table(capsys):
    from compare.cli import main

    assert main(["show"]) == 0
    out = capsys.readouterr().out
    assert "total: 1,948,320 MACs; PyTorch 3,896,640 FLOPs; TensorFlow 3,928,298 FLOPs" in out
    assert "TensorFlow counts the 27040 bias adds" in out


# -- torchinfo's README net -------------------------------------------------------------


def torchinfo_net():
    import torch
    from torch import nn

    class Net(nn.Module):  # torchinfo's README example, as modules in a chain
        def __init__(self) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
            self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
            self.conv2_drop = nn.Dropout2d()
            self.fc1 = nn.Linear(320, 50)
            self.fc2 = nn.Linear(50, 10)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = nn.functional.relu(nn.functional.max_pool2d(self.conv1(x), 2))
            x = nn.functional.relu(nn.functional.max_pool2d(self.conv2_drop(self.conv2(x)), 2))
            x = x.view(-1, 320)
            x = nn.functional.relu(self.fc1(x))
            x = nn.functional.dropout(x, training=self.training)
            return self.fc2(x)

    return Net().eval()


TORCHINFO_SPEC = Model(
    "torchinfo_readme",
    Input(1, (28, 28)),
    (
        Conv(filters=10, kernel_size=5),
        MaxPool(pool_size=2),
        Activation(activation="relu"),
        Conv(filters=20, kernel_size=5),
        Dropout(rate=0.5),
        MaxPool(pool_size=2),
        Activation(activation="relu"),
        Flatten(),
        Dense(units=50, activation="relu"),
        Dropout(rate=0.5),
        Dense(units=10),
    ),
)


def test_torchinfo_readme_net_macs():
    result = compare_model(TORCHINFO_SPEC, count=True)
    macs = [layer.macs for layer in result.layers]
    assert [m for m in macs if m] == [144_000, 320_000, 16_000, 500]
    assert result.totals()["formula_macs"] == 480_500
    # the counter on torchinfo's own module (functional pools and relus) agrees
    import torch

    net_flops = torch_flops(torchinfo_net(), [torch.zeros(1, 1, 28, 28)])
    assert result.totals()["torch"]["flops"] == net_flops == 2 * 480_500


# -- the case table: every catalogue model of these files, both counters ------------------


def catalogue(*files: str):
    return [m for f in files for m in load_lenient(f"{CATALOG}/{f}")]


CASES = catalogue("graphs.toml", "layers.toml", "classics.toml", "recurrent.toml") + [
    m
    for m in catalogue("conv_zoo.toml", "differences.toml")
    if m.name
    in {
        "conv2d_forms",
        "conv_transpose2d_forms",
        "depthwise_conv2d_forms",
        "separable_conv2d_forms",
        "flatten_dense_3d",
        "tf_same_stride2_odd",
        "keras_strides_dilation",
        "torch_scale_without_centre",
    }
]


@pytest.fixture(scope="module")
def counted():
    cache = {}

    def get(model):
        if model.name not in cache:
            pair = build(model)
            cache[model.name] = (pair, count_pair(pair), compare_model(model, count=True))
        return cache[model.name]

    return get


@pytest.mark.parametrize("model", CASES, ids=lambda m: m.name)
def test_torch_attribution_matches_the_counter_on_each_layer_alone(model, counted):
    pair, counts, _ = counted(model)
    for index, built in enumerate(pair.sides["torch"].layers):
        if not isinstance(built, Built):
            assert counts["torch"].per_node[index] is None
            continue
        inputs = [torch_zeros(s) for s in pair.formulas[index].input_shapes]
        assert counts["torch"].per_node[index] == torch_flops(built.obj, inputs), index


@pytest.mark.parametrize("model", CASES, ids=lambda m: m.name)
def test_torch_total_is_the_counter_on_the_whole_model(model, counted):
    pair, counts, result = counted(model)
    if pair.unsupported():
        pytest.skip("a layer PyTorch or Keras cannot build: no whole model")
    x = torch_zeros(pair.formulas[0].input)
    assert counts["torch"].total == torch_flops(pair.torch, [x])
    assert result.totals()["torch"]["flops"] == counts["torch"].total


@pytest.mark.parametrize("model", CASES, ids=lambda m: m.name)
def test_keras_attribution_matches_the_profiler_on_each_layer_alone(model, counted):
    pair, counts, _ = counted(model)
    for index, built in enumerate(pair.sides["keras"].layers):
        shapes = pair.formulas[index].input_shapes
        if not isinstance(built, Built) or len(shapes) != 1:
            continue  # a merge alone would need several inputs: held by the total below
        alone = tf_flops(keras_layer_model(built, shapes[0]), shapes[0])
        assert counts["keras"].per_node[index] == alone, index


@pytest.mark.parametrize("model", CASES, ids=lambda m: m.name)
def test_keras_total_is_the_profiler_on_the_whole_model(model, counted):
    pair, counts, result = counted(model)
    if pair.unsupported():
        pytest.skip("a layer PyTorch or Keras cannot build: no whole model")
    assert counts["keras"].total == tf_flops(pair.keras, pair.formulas[0].input)
    assert counts["keras"].unattributed == 0
    assert result.totals()["keras"]["flops"] == counts["keras"].total


#: Kinds whose every multiply-add PyTorch's counter has a formula for (its convolution
#: and matmul rules): there it must report exactly 2 FLOPs per formula MAC.
MATMUL_KINDS = {"conv", "conv_transpose", "depthwise_conv", "separable_conv", "dense"}


@pytest.mark.parametrize("model", CASES, ids=lambda m: m.name)
def test_formula_macs_are_half_the_torch_count_on_conv_and_dense(model, counted):
    _, _, result = counted(model)
    for layer in result.layers:
        flops = layer.frameworks["torch"].flops
        if layer.kind in MATMUL_KINDS and flops is not None:
            assert flops == 2 * layer.macs, layer.index
        elif layer.kind not in MATMUL_KINDS and layer.work is not None and flops is not None:
            assert flops in (0, 2 * layer.macs), layer.index  # no MACs, or a GRU's


def test_tensorflow_adds_the_bias_adds_on_2d_convs_and_dense(counted):
    _, _, result = counted(next(m for m in CASES if m.name == "vgg_block"))
    for layer in result.layers:
        if layer.kind in ("conv", "dense"):
            work = layer.work
            assert layer.frameworks["keras"].flops == 2 * work.macs + work.bias_adds


def test_a_graph_model_is_counted_once_on_its_graph_module(counted):
    pair, _, result = counted(next(m for m in CASES if m.name == "residual_block"))
    assert type(pair.torch).__name__ == "GraphModule"
    add = next(layer for layer in result.layers if layer.kind == "add")
    # the add of two 8x8x8 maps: no MAC, 512 element-wise adds, which TensorFlow counts
    assert add.macs == 0 and add.work.other == 8 * 8 * 8
    assert add.frameworks["keras"].flops == 512 and add.frameworks["torch"].flops == 0


def test_batch_norm_memory_per_framework(counted):
    _, _, result = counted(next(m for m in CASES if m.name == "conv_bn_relu"))
    bn = next(layer for layer in result.layers if layer.kind == "batch_norm")
    c = bn.frameworks["torch"].output_shape[1]
    # PyTorch: gamma, beta as parameters; running mean, var (float32) and the int64
    # num_batches_tracked as buffers. Keras: all four vectors are weights.
    assert bn.frameworks["torch"].param_bytes == 2 * 4 * c
    assert bn.frameworks["torch"].buffer_bytes == 2 * 4 * c + 8
    assert bn.frameworks["keras"].param_bytes == 4 * 4 * c
    assert bn.frameworks["keras"].buffer_bytes == 0


def test_activation_bytes_are_the_torch_outputs(counted):
    import torch

    pair, _, result = counted(next(m for m in CASES if m.name == "inception_concat"))
    seen: dict[int, int] = {}
    hooks = [
        built.obj.register_forward_hook(
            lambda _m, _i, out, index=index: seen.__setitem__(
                index, out.numel() * out.element_size()
            )
        )
        for index, built in enumerate(pair.sides["torch"].layers)
    ]
    try:
        with torch.no_grad():
            pair.torch(torch_zeros(pair.formulas[0].input))
    finally:
        for hook in hooks:
            hook.remove()
    assert [layer.frameworks["torch"].activation_bytes for layer in result.layers] == [
        seen[i] for i in range(len(result.layers))
    ]


def test_an_unsupported_layer_is_counted_layer_by_layer(counted):
    pair, counts, result = counted(next(m for m in CASES if m.name == "keras_strides_dilation"))
    assert pair.unsupported()
    assert counts["keras"].total is None  # the layer Keras refuses is not counted
    assert counts["torch"].total == 2 * result.totals()["formula_macs"]


# -- the framework-free parts --------------------------------------------------------------


def test_peak_activation_bytes_holds_a_skip_connection():
    # input 10 -> a (20) -> b (30) -> sum(a, b) (5): a is held until the sum runs
    from compare.core.graph import Node

    graph = Graph(
        ("input",),
        (Node("a", "x", ("input",)), Node("b", "x", ("a",)), Node("s", "x", ("a", "b"))),
        ("s",),
    )
    # while b runs: a + b = 50; while s runs: a + b + s = 55
    assert peak_activation_bytes(graph, 10, [20, 30, 5]) == 55
    assert peak_activation_bytes(graph, 10, [20, None, 5]) is None


@pytest.mark.parametrize(
    ("work", "torch", "keras", "says"),
    [
        (Work(5, "5", bias_adds=2), 10, 12, "TensorFlow counts the 2 bias adds"),
        (Work(5, "5", other=3), 10, 13, "the 3 other element-wise ops; PyTorch does not"),
        (Work(5, "5", bias_adds=2, activations=3), 10, 15, "the 2 bias adds and 3 activation"),
        (Work(5, "5"), 0, 10, "PyTorch counts 10 FLOPs fewer than 2*MACs = 10"),
        (Work(5, "5", activations=3), 10, 17, "TensorFlow counts 7 FLOPs beyond 2*MACs = 10"),
    ],
)
def test_explain_names_the_difference(work, torch, keras, says):
    assert any(says in note for note in explain(work, torch=torch, keras=keras))


def test_explain_is_silent_when_both_count_twice_the_macs():
    assert explain(Work(5, "5", bias_adds=2), torch=10, keras=10) == ()
    assert explain(None, torch=1, keras=2) == ()


def test_attention_matmuls_are_counted_by_the_formula_and_the_counters_gaps_named():
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from compare.spec import model_from_dict

    # E=32, 4 heads of 8, 10 steps: q, k, v projections 3*10*32*32 and the output
    # projection 10*32*32; the attention matmuls (scores, weighted values) 2*4*10*10*8
    projections = 4 * 10 * 32 * 32
    matmuls = 2 * 4 * 10 * 10 * 8
    spec = {"name": "a", "input": {"channels": 32, "size": [10]}}
    spec["layers"] = [{"kind": "multi_head_attention", "num_heads": 4}]
    result = compare_model(model_from_dict(spec), count=True)
    record = result.layers[0].to_dict()
    assert record["formula"]["macs"] == projections + matmuls
    # PyTorch's own counter on a plain nn.MultiheadAttention: under no_grad the fused
    # fast path counts nothing; with grad and need_weights (the default) it counts
    # every multiply-add; without the weights, scaled_dot_product_attention's CPU
    # kernel has no formula and only the projections are counted (the built layer's
    # case: compare calls it with need_weights=False)
    mha = torch.nn.MultiheadAttention(32, 4, batch_first=True).eval()
    x = torch.zeros(1, 10, 32)
    cases = [
        (torch.no_grad, True, 0),
        (torch.enable_grad, True, 2 * (projections + matmuls)),
        (torch.enable_grad, False, 2 * projections),
    ]
    for context, weights, want in cases:
        counter = FlopCounterMode(display=False)
        with context(), counter:
            mha(x, x, x, need_weights=weights)
        assert counter.get_total_flops() == want
    assert record["frameworks"]["torch"]["flops"] == 2 * projections
    gap = 2 * (projections + matmuls) - 2 * projections
    assert any(f"PyTorch counts {gap} FLOPs fewer" in note for note in record["count_notes"])


def test_formula_macs_hand_derived_for_every_conv_family():
    from compare.core.shapes import Shape
    from compare.spec import ConvTranspose, DepthwiseConv, SeparableConv

    x = Shape(4, (9, 9))
    cases = [
        # output 2 x 7 x 7, each a sum over 3*3 kernel taps of 4/2 channels
        (Conv(filters=2, kernel_size=3, groups=2), 2 * 7 * 7 * 3 * 3 * 2),
        # each of the 4*9*9 inputs scattered through 2*2 taps into 6 channels
        (ConvTranspose(filters=6, kernel_size=2, strides=2), 4 * 9 * 9 * 2 * 2 * 6),
        # 8 output channels (multiplier 2), 7x7, 3*3 taps of one channel
        (DepthwiseConv(kernel_size=3, depth_multiplier=2), 8 * 7 * 7 * 3 * 3),
        # depthwise 4 channels x 7x7 x 9, pointwise 5 filters x 7x7 x 4
        (SeparableConv(filters=5, kernel_size=3), 4 * 49 * 9 + 5 * 49 * 4),
    ]
    for layer, want in cases:
        resolved = layer.resolved(2)
        assert resolved.work(resolved.formula((x,))).macs == want, layer.kind
