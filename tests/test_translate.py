"""``compare translate``: the code it prints is the code whose parity it reports.

The central check runs what translate prints, in a fresh namespace against the real
frameworks: the source layer is built from the call (the test's own constant strings),
given random weights, then the printed equivalent, the printed weight-port statements
and the printed activation layout are executed, and both layers must compute the same
function. Every kind the importers read is in the table, in both directions.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from compare.cli import main
from compare.errors import SpecError
from compare.translate import (
    MAX_INPUT_ELEMENTS,
    parse_call,
    parse_input,
    signature,
    to_model,
    translate,
)


@pytest.fixture(scope="module")
def frameworks():
    from types import SimpleNamespace

    import keras
    import torch

    tf = SimpleNamespace(keras=keras)  # enough to build ``tf.keras.layers.X`` calls
    return {
        "torch": torch,
        "nn": torch.nn,
        "keras": keras,
        "layers": keras.layers,
        "L": keras.layers,
        "np": np,
        "tf": tf,
    }


def torch_case(call: str, shape: str, id: str) -> object:
    return pytest.param(call, shape, id=f"torch-{id}")


def keras_case(call: str, shape: str, id: str) -> object:
    return pytest.param(call, shape, id=f"keras-{id}")


# (call, --input): every kind the importers read, and the realisations that differ.
TORCH_CASES = [
    torch_case("nn.Conv2d(3, 8, 7, stride=2, padding=3)", "3x32x32", "conv2d-pad3-zeropadding"),
    torch_case("nn.Conv2d(3, 8, 3, stride=2, padding=1)", "3x15x15", "conv2d-same-on-odd"),
    torch_case("torch.nn.Conv1d(4, 6, 3, dilation=2, padding='same')", "4x20", "conv1d-dilated"),
    torch_case("nn.Conv3d(2, 4, 3, groups=2, bias=False)", "2x6x6x6", "conv3d-grouped"),
    torch_case("nn.Conv2d(4, 8, 3, groups=4, padding=1)", "4x8x8", "conv2d-depthwise"),
    torch_case(
        "nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1, output_padding=1)",
        "3x5x5",
        "conv-transpose2d-crop",
    ),
    torch_case("nn.ConvTranspose1d(4, 2, 2, stride=3)", "4x5", "conv-transpose1d-gaps"),
    torch_case("nn.ConvTranspose3d(2, 2, 3, padding=(1, 0, 1))", "2x4x4x4", "conv-transpose3d"),
    torch_case("nn.Linear(16, 4)", "16", "linear"),
    torch_case("nn.Flatten()", "3x4x4", "flatten"),
    torch_case("nn.BatchNorm2d(3)", "3x5x5", "batch-norm2d"),
    torch_case("nn.BatchNorm1d(6, eps=1e-3)", "6", "batch-norm1d"),
    torch_case("nn.LayerNorm(8)", "8", "layer-norm"),
    torch_case("nn.LayerNorm((3, 4, 4))", "3x4x4", "layer-norm-map"),
    torch_case("nn.GroupNorm(2, 4)", "4x5x5", "group-norm"),
    torch_case("nn.MaxPool2d(2)", "3x8x8", "max-pool2d"),
    torch_case("nn.MaxPool1d(3, stride=2, padding=1)", "2x9", "max-pool1d-padded"),
    torch_case("nn.AvgPool2d(3, stride=2, padding=1)", "3x9x9", "avg-pool2d-padded"),
    torch_case("nn.AvgPool1d(2, count_include_pad=False)", "3x8", "avg-pool1d"),
    torch_case("nn.AdaptiveAvgPool2d(1)", "3x5x5", "global-avg-pool-keepdims"),
    torch_case("nn.AdaptiveMaxPool1d(1)", "4x7", "global-max-pool1d"),
    torch_case("nn.Dropout(0.3)", "8", "dropout"),
    torch_case("nn.ReLU()", "4x5x5", "relu"),
    torch_case("nn.GELU(approximate='tanh')", "6", "gelu-tanh"),
    torch_case("nn.Softmax(dim=1)", "5", "softmax"),
    torch_case("nn.LeakyReLU(0.2)", "3x4", "leaky-relu"),
    torch_case("nn.ELU(alpha=0.5)", "5", "elu"),
    torch_case("nn.Sigmoid()", "5", "sigmoid"),
    torch_case("nn.SiLU()", "5", "silu"),
    torch_case("nn.LSTM(16, 8, batch_first=True)", "16x10", "lstm"),
    torch_case("nn.GRU(4, 6, batch_first=True)", "4x7", "gru"),
    torch_case("nn.RNN(3, 5, batch_first=True, nonlinearity='relu')", "3x6", "rnn-relu"),
    torch_case("nn.Embedding(50, 8)", "int:12", "embedding"),
    torch_case("nn.AvgPool2d(3, 2, ceil_mode=True)", "3x8x8", "avg-pool2d-ceil"),
    torch_case(
        "nn.AvgPool2d(3, 2, padding=1, ceil_mode=True, count_include_pad=False)",
        "3x6x6",
        "avg-pool2d-ceil-exclude",
    ),
    torch_case("nn.Upsample(scale_factor=2)", "3x5x5", "upsample-nearest"),
    torch_case("nn.Upsample(scale_factor=2, mode='bilinear')", "3x5x5", "upsample-bilinear"),
    torch_case(
        "nn.Upsample(size=(9, 9), mode='bilinear', align_corners=True)",
        "3x5x5",
        "upsample-align-corners",
    ),
]
KERAS_CASES = [
    keras_case("keras.layers.Conv2D(8, 7, strides=2, padding='same')", "32x32x3", "conv2d-same-s2"),
    keras_case("layers.Conv2D(4, 2, padding='same')", "6x6x3", "conv2d-same-s1-asymmetric"),
    keras_case("keras.layers.Conv1D(4, 3, padding='same', dilation_rate=2)", "10x2", "conv1d"),
    keras_case("keras.layers.Conv3D(4, 3, groups=2)", "5x5x5x2", "conv3d-grouped"),
    keras_case(
        "tf.keras.layers.Conv2DTranspose(2, 3, strides=2, padding='same')",
        "5x5x3",
        "conv-transpose2d-same",
    ),
    keras_case("keras.layers.Conv1DTranspose(2, 2, strides=3)", "5x4", "conv-transpose1d"),
    keras_case(
        "keras.layers.DepthwiseConv2D(3, depth_multiplier=2, strides=2)", "9x9x3", "depthwise2d"
    ),
    keras_case("keras.layers.DepthwiseConv1D(3, padding='same')", "8x2", "depthwise1d"),
    keras_case("keras.layers.SeparableConv1D(6, 3, padding='same')", "12x3", "separable1d"),
    keras_case(
        "keras.layers.SeparableConv2D(8, 3, depth_multiplier=2, padding='same', strides=2)",
        "16x16x3",
        "separable2d",
    ),
    keras_case("keras.layers.Dense(4)", "5x5x3", "dense-on-map"),
    keras_case("keras.layers.Dense(4, use_bias=False)", "16", "dense"),
    keras_case("keras.layers.Dense(3, activation='gelu')", "6", "dense-gelu"),
    keras_case("keras.layers.Conv2D(4, 3, activation='relu')", "6x6x2", "conv2d-relu"),
    keras_case("keras.layers.Flatten()", "4x4x3", "flatten"),
    keras_case("keras.layers.BatchNormalization()", "5x5x3", "batch-norm"),
    keras_case("keras.layers.LayerNormalization()", "8", "layer-norm"),
    keras_case("keras.layers.GroupNormalization(2)", "5x5x4", "group-norm"),
    keras_case("keras.layers.MaxPooling2D(2)", "8x8x3", "max-pool2d"),
    keras_case(
        "keras.layers.AveragePooling2D(3, strides=2, padding='same')", "9x9x3", "avg-pool-same"
    ),
    keras_case("keras.layers.GlobalAveragePooling2D()", "5x5x3", "global-avg-pool"),
    keras_case("keras.layers.GlobalMaxPooling1D()", "7x4", "global-max-pool1d"),
    keras_case("keras.layers.Dropout(0.3)", "8", "dropout"),
    keras_case("L.ReLU()", "4x4x2", "relu"),
    keras_case("keras.layers.Activation('tanh')", "6", "tanh"),
    keras_case("keras.layers.Softmax()", "5", "softmax"),
    keras_case("keras.layers.ELU()", "5", "elu"),
    keras_case("keras.layers.LeakyReLU(negative_slope=0.1)", "3x5", "leaky-relu"),
    keras_case("keras.layers.LSTM(8)", "10x16", "lstm"),
    keras_case("keras.layers.GRU(6, return_sequences=True)", "7x4", "gru-sequences"),
    keras_case("keras.layers.SimpleRNN(5, activation='relu')", "6x3", "simple-rnn"),
    keras_case("keras.layers.Embedding(50, 8)", "int:12", "embedding"),
    keras_case("keras.layers.Resizing(10, 10)", "5x5x3", "resizing-bilinear"),
    keras_case("keras.layers.Resizing(4, 4)", "8x8x3", "resizing-bilinear-down"),
    keras_case(
        "keras.layers.Resizing(10, 10, interpolation='nearest')", "5x5x3", "resizing-nearest"
    ),
    keras_case("keras.layers.UpSampling2D(2)", "4x4x3", "upsampling2d"),
    keras_case("keras.layers.Rescaling(1 / 255)", "4x4x3", "rescaling"),
    keras_case("keras.layers.Rescaling(scale=1 / 127.5, offset=-1)", "4x4x3", "rescaling-offset"),
    keras_case(
        "keras.layers.Normalization(mean=[0.485, 0.456, 0.406], variance=[0.052, 0.05, 0.051])",
        "4x4x3",
        "normalization-constants",
    ),
]


def _source_layer(ns, call, t):
    """The source layer, built by the test from its own constant string, random weights."""
    rng = np.random.default_rng(1)
    layer = eval(call, dict(ns))  # the test's own constant strings, never user input
    if t.source == "keras":
        dtype = "int32" if t.input.ids else "float32"
        ns["keras"].Sequential([ns["keras"].Input(t.input.dims, dtype=dtype), layer])
        layer.set_weights([rng.uniform(0.5, 1.5, w.shape) for w in layer.get_weights()])
    else:
        torch = ns["torch"]
        with torch.no_grad():
            for v in layer.state_dict().values():
                if v.is_floating_point():
                    v.copy_(torch.from_numpy(rng.uniform(0.5, 1.5, tuple(v.shape))))
    return layer


def _run(ns, framework, layer, x):
    if framework == "keras":
        return np.asarray(layer(x, training=False))
    torch = ns["torch"]
    with torch.no_grad():
        y = layer.eval()(torch.from_numpy(x))
    return (y[0] if isinstance(y, tuple) else y).numpy()


def _check_printed_code(frameworks, call, shape, dtype="float32"):
    t = translate(call, shape, dtype=dtype)
    assert t.status == "ok", (t.reason, t.result.parity, t.printed_parity)
    assert t.code and t.weights and t.activations
    src, dst = t.source, t.target
    # the source layer, and the printed code, executed in a fresh namespace
    ns = dict(frameworks)
    ns[f"{src}_layer"] = _source_layer(ns, call, t)
    exec(t.code, ns)
    exec(t.weights, ns)
    rng = np.random.default_rng(2)
    if t.input.ids:
        x = rng.integers(0, 50, (3, *t.source_dims))
        x = x.astype("int32" if src == "keras" else "int64")
    else:
        x = rng.standard_normal((3, *t.source_dims)).astype("float32")
    y_src = _run(ns, src, ns[f"{src}_layer"], x)
    ns[f"x_{src}"] = x
    into, back = t.activations.splitlines()
    exec(into, ns)
    x_dst = ns[f"x_{dst}"]
    if t.input.ids:
        x_dst = x_dst.astype("int64" if dst == "torch" else "int32")
    ns[f"y_{dst}"] = _run(ns, dst, ns[f"{dst}_layer"], x_dst)
    exec(back, ns)
    np.testing.assert_allclose(ns[f"y_{src}"], y_src, rtol=1e-5, atol=1e-4)
    return t


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
@pytest.mark.parametrize(("call", "shape"), TORCH_CASES + KERAS_CASES)
def test_printed_code_computes_what_the_source_layer_computes(frameworks, call, shape):
    _check_printed_code(frameworks, call, shape)


@pytest.mark.parametrize(
    ("call", "shape", "spelled"),
    [
        ("nn.Conv2d(3, 8, 3, stride=2, padding=1)", "3x16x16", "dtype='float64'"),
        ("keras.layers.Dense(4)", "5x5x3", ".to(torch.float64)"),
    ],
)
def test_float64_code_says_so_and_computes_the_same(frameworks, call, shape, spelled):
    t = _check_printed_code(frameworks, call, shape, dtype="float64")
    assert spelled in t.code


def test_asymmetric_same_at_stride_1_prints_what_the_adapter_builds():
    # Keras' 'same' for a 2x2 kernel pads 0 before and 1 after: PyTorch's Conv2d pads
    # symmetrically, so the faithful code is ZeroPad2d + Conv2d, never padding='same'.
    t = translate("keras.layers.Conv2D(4, 2, padding='same')", "6x6x3")
    assert t.code is not None
    assert "nn.ZeroPad2d((0, 1, 0, 1))" in t.code and "nn.Conv2d(3, 4, 2)" in t.code
    assert "padding='same'" not in t.code
    assert t.status == "ok" and t.printed_parity.status == "ok"


def test_issue_example_torch_to_keras(capsys):
    code = main(["translate", "nn.Conv2d(3, 64, 7, stride=2, padding=3)", "--input", "3x224x224"])
    out = capsys.readouterr().out
    assert code == 0
    # padding=3 is not 'same' on 224 (TF would pad (2, 3)): explicit zero padding.
    assert "keras.layers.ZeroPadding2D(padding=3)" in out
    assert "keras.layers.Conv2D(64, 7, strides=2)" in out
    assert 'np.transpose(w["weight"], (2, 3, 1, 0))' in out
    assert "kernel_layout" in out and "parity after porting: ok" in out
    assert "parity of the printed code against the PyTorch layer: ok" in out


def test_issue_example_keras_to_torch_json(capsys):
    call = "keras.layers.Conv2D(64, 7, strides=2, padding='same')"
    code = main(["translate", call, "--input", "224x224x3", "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0
    assert doc["source"]["framework"] == "keras" and doc["target"]["framework"] == "torch"
    assert "nn.ZeroPad2d((2, 3, 2, 3))" in doc["target"]["code"]
    assert "nn.Conv2d(3, 64, 7, stride=2)" in doc["target"]["code"]
    assert 'np.transpose(w["kernel"], (3, 2, 0, 1))' in doc["target"]["weights"]
    assert [c["class"] for c in doc["target"]["calls"]] == ["nn.ZeroPad2d", "nn.Conv2d"]
    assert doc["layers"][0]["output_shape"]["torch"] == [None, 64, 112, 112]
    whats = {d["what"] for d in doc["differences"]}
    assert {"kernel_layout", "padding", "activation_layout"} <= whats
    assert doc["status"] == "ok" and doc["printed_parity"]["status"] == "ok"


def test_a_layer_the_other_framework_refuses_is_unsupported(capsys):
    code = main(["translate", "nn.Conv2d(3, 4, 3, stride=2, dilation=2)", "--input", "3x16x16"])
    out = capsys.readouterr().out
    assert code == 1
    assert "Keras equivalent: none" in out and "dilation" in out


def test_gru_reset_before_has_no_pytorch_equivalent():
    t = translate("keras.layers.GRU(4, reset_after=False)", "5x3")
    assert t.status == "unsupported" and t.code is None
    assert t.reason is not None and "reset_after" in t.reason


def test_padding_same_choice_follows_the_input_size():
    odd = translate("nn.Conv2d(3, 8, 3, stride=2, padding=1)", "3x15x15")
    even = translate("nn.Conv2d(3, 8, 3, stride=2, padding=1)", "3x16x16")
    assert odd.code is not None and "padding='same'" in odd.code
    assert even.code is not None and "ZeroPadding2D" in even.code


def test_helper_classes_are_imported_from_where_they_live():
    t = translate("keras.layers.LSTM(8)", "10x16")
    assert t.code is not None
    assert "nn.LSTM(16, 8, batch_first=True)" in t.code
    for call in t.calls:
        if not call.path.startswith("nn."):
            module = call.cls.__module__
            assert f"from {module} import {call.cls.__name__}" in t.code


@pytest.mark.parametrize(
    ("framework", "name", "first", "required"),
    [
        ("torch", "Conv2d", ("in_channels", "out_channels", "kernel_size", "stride"), 3),
        ("torch", "LSTM", ("input_size", "hidden_size", "num_layers", "bias"), 2),
        ("keras", "Conv2D", ("filters", "kernel_size", "strides", "padding"), 2),
        ("keras", "GRU", ("units", "activation", "recurrent_activation", "use_bias"), 1),
    ],
)
def test_signature_is_the_real_class_signature(framework, name, first, required):
    params, count = signature(framework, name)
    assert params[: len(first)] == first and count == required


def test_to_model_is_what_the_importer_reads():
    model, notes = to_model("nn.LSTM(16, 8, batch_first=True)", "16x10")
    assert [layer.kind for layer in model.layers] == ["lstm"]
    assert model.layers[0].return_sequences and "tuple" in notes[0]


def test_input_layouts():
    assert parse_input("3x224x224", "torch").dims == (3, 224, 224)
    assert parse_input("224x224x3", "keras").dims == (224, 224, 3)
    assert parse_input("int:12", "keras").ids


@pytest.mark.parametrize(
    ("call", "shape", "match"),
    [
        pytest.param("eval('1')", "3", r"with its module", id="bare-name"),
        pytest.param("__import__('os').system('ls')", "3", r"must be a class name", id="import"),
        pytest.param(
            "nn.Conv2d(3, 64, k)", "3x8x8", r"nn.Conv2d: argument 3=k is not a literal", id="name"
        ),
        pytest.param("nn.Conv2d(3, 64, 3, padding=p)", "3x8x8", r"padding=p is not", id="kw"),
        pytest.param("nn.Conv2d(*a)", "3x8x8", r"\*a is not allowed", id="star"),
        pytest.param("nn.Conv2d(3, 4, **kw)", "3x8x8", r"\*\*kw is not allowed", id="starstar"),
        pytest.param(
            "nn.Conv2d(3, 64, 3, foo=1)",
            "3x8x8",
            r"unexpected keyword argument 'foo'; signature: Conv2d\(in_channels, out_channels, "
            r"kernel_size, stride=1",
            id="unknown-kwarg",
        ),
        pytest.param(
            "keras.layers.Dense(4, foo=1)",
            "8",
            r"Keras refuses .*foo.*signature: Dense\(units, activation=None",
            id="keras-unknown-kwarg",
        ),
        pytest.param(
            "nn.Conv2d(3, 64)",
            "3x8x8",
            r"missing a required argument: 'kernel_size'; signature: Conv2d\(",
            id="missing",
        ),
        pytest.param(
            "nn.Conv2d(3, 64, 3, 1, stride=2)",
            "3x8x8",
            r"multiple values for argument 'stride'",
            id="twice",
        ),
        pytest.param(
            "nn.Conv2d(3, 64, 3, 1, 0, 1, 1, True, 'zeros', None, None, 9)",
            "3x8x8",
            r"too many positional arguments",
            id="too-many",
        ),
        pytest.param("nn.Conv2D(3, 64, 3)", "3x8x8", r"did you mean nn.Conv2d", id="spelling"),
        pytest.param("nn.functional(1)", "3", r"not a torch.nn layer class", id="module"),
        pytest.param("keras.layers.Input(3)", "3", r"not a keras.layers layer", id="function"),
        pytest.param(
            "keras.layers.TFSMLayer('/tmp/x', 'serve')", "3", r"not a keras.layers", id="files"
        ),
        pytest.param(
            "keras.layers.StringLookup(vocabulary='/etc/passwd')", "3", r"not a keras", id="vocab"
        ),
        pytest.param("np.Conv2d(3, 4, 3)", "3x8x8", r"unknown module 'np'", id="module-np"),
        pytest.param("x + 1", "3", r"not a constructor call", id="expression"),
        pytest.param("nn.Conv2d(3, 4, 3", "3x8x8", r"not valid Python", id="syntax"),
        pytest.param(
            "nn.Conv2d(3, 64, 7)",
            "4x32x32",
            r"refuses an input of shape \(N, 4, 32, 32\)",
            id="channels",
        ),
        pytest.param("nn.Conv2d(3, 64, 7)", "3by32", r"1 to 4 positive integers", id="input"),
        pytest.param("nn.Conv2d(3, 64, 7)", "0x8x8", r"1 to 4 positive integers", id="zero"),
        pytest.param("keras.layers.Dense(4)", None, r"needs --input", id="no-input"),
        pytest.param("nn.Linear(4, 2)", "8x4x4", r"acts on the last axis", id="linear-on-map"),
        pytest.param(
            "nn.Conv2d(3, 8, 3, stride=2, padding='same')",
            "3x8x8",
            r"PyTorch refuses",
            id="torch-refuses",
        ),
        pytest.param(
            "nn.Conv2d(3, 8, 3, padding_mode='reflect')",
            "3x8x8",
            r"padding_mode='reflect'",
            id="reflect",
        ),
        pytest.param("nn.Flatten(start_dim=2)", "3x4x4", r"flattens dims 2", id="start-dim"),
        pytest.param(
            "keras.layers.Conv2D(4, 3, strides=2, dilation_rate=2)",
            "8x8x3",
            r"Keras refuses",
            id="keras-refuses",
        ),
        pytest.param("nn.LSTM(4, 8)", "4x5", r"batch_first=True", id="lstm-not-batch-first"),
        pytest.param("nn.Embedding(50, 8)", "12", r"token ids: --input int:STEPS", id="ids"),
        pytest.param("nn.Hardtanh()", "4", r"no importer maps this class", id="unmapped"),
    ],
)
def test_errors_are_clear_spec_errors(call, shape, match):
    with pytest.raises(SpecError, match=match):
        translate(call, shape)


# -- hostile input (issue 16, item 7): bounded, and a SpecError, never a traceback --------
@pytest.mark.parametrize(
    ("call", "shape", "match"),
    [
        pytest.param("nn.Linear(" + "-" * 100_000 + "1, 2)", "1", r"at most 1,000", id="minus"),
        pytest.param("nn.Linear(" + "not " * 30_000 + "1)", "1", r"at most 1,000", id="not"),
        pytest.param("nn.Linear(" + "-" * 900 + "1, 2)", "1", r"nests deeper", id="minus-900"),
        pytest.param("nn.Linear(--1, 2)", "1", r"a sign is accepted only on a number", id="--"),
        pytest.param("nn.Linear(1, -x)", "1", r"a sign is accepted only on a number", id="-x"),
        pytest.param(
            "nn.Linear(" + "(" * 250 + "1" + ")" * 250 + ")",
            "1",
            r"not valid Python: too many",
            id="parens",
        ),
        pytest.param(
            "nn.Linear(" + "[" * 30 + "]" * 30 + ")", "1", r"nests deeper than 16", id="lists"
        ),
        pytest.param(
            "nn.Linear(" + "[1, 1], " * 120 + "1)",
            "1",
            r"more than 400 parts",
            id="many-parts",
        ),
        pytest.param("nn.Linear(1, " + "9" * 900 + ")", "1", r"beyond int64", id="huge-int"),
        pytest.param("nn.Linear(1, 2**63)", "1", r"not a literal", id="power"),
        pytest.param(
            "keras.layers.Rescaling(1 / 0)", "4x4x3", r"argument 1=1 / 0 divides by zero", id="div0"
        ),
        pytest.param(
            "keras.layers.Rescaling('a' * 2)",
            "4x4x3",
            r"arithmetic is accepted only between numbers, not on 'a'",
            id="str-times",
        ),
        pytest.param(
            "nn.Linear(1, 9223372036854775807 + 1)", "1", r"\+ 1 is beyond int64", id="sum-int64"
        ),
        pytest.param("nn.Dropout(1e308 * 10)", "4", r"is not a finite number", id="product-inf"),
        pytest.param("nn.Linear(1, 9223372036854775808)", "1", r"beyond int64", id="int64+1"),
        pytest.param("nn.Dropout(1e999)", "4", r"not a finite number", id="inf"),
        pytest.param("nn.Linear(3, 2, bias=b'x')", "3", r"not a literal", id="bytes"),
        pytest.param("nn.Linear(100000, 100000)", "100000", r"at most 33,554,432", id="weights"),
        pytest.param("keras.layers.Dense(2**40)", "8", r"not a literal", id="keras-power"),
        pytest.param(
            "keras.layers.Dense(1099511627776)",
            "8",
            r"holds 9,895,604,649,984 weights; translate builds at most 33,554,432",
            id="keras-weights",
        ),
        pytest.param(
            "keras.layers.UpSampling2D(size=1000)",
            "8x8x3",
            r"192,000,000 output elements",
            id="keras-output",
        ),
        pytest.param(
            "nn.ConvTranspose2d(1, 1, 1, stride=1000)",
            "1x100x100",
            r"output elements",
            id="output",
        ),
        pytest.param(
            "nn.Conv2d(3, 8, 3)",
            "3x100000x100000",
            r"30,000,000,000 elements; .*at most "
            f"{MAX_INPUT_ELEMENTS:,}",
            id="input-elements",
        ),
        pytest.param("nn.Conv2d(3, 8, 3)", "3x" + "9" * 30, r"1 to 4 positive", id="input-digits"),
        pytest.param("nn.Conv2d(3, 8, 3)", "3x" * 100, r"longer than 100", id="input-long"),
    ],
)
def test_hostile_input_is_a_bounded_spec_error(call, shape, match):
    with pytest.raises(SpecError, match=match):
        translate(call, shape)


@pytest.mark.parametrize(
    ("call", "shape"),
    [
        pytest.param("nn.Linear(" + "-" * 100_000 + "1, 2)", "1", id="minus"),
        pytest.param("nn.Linear(" + "not " * 30_000 + "1)", "1", id="not"),
        pytest.param("nn.Conv2d(3, 8, 3)", "3x100000x100000", id="input"),
        pytest.param("nn.Conv2d(3, 64, 3, foo=1)", "3x8x8", id="unknown-argument"),
    ],
)
def test_cli_error_is_one_line_and_exit_2(capsys, call, shape):
    code = main(["translate", call, "--input", shape])
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert code == 2 and not captured.out
    assert err.startswith("error: ") and "\n" not in err and "Traceback" not in err


def test_parse_never_evaluates():
    # A call whose arguments would have side effects if evaluated is refused at parse time.
    with pytest.raises(SpecError, match="not a literal"):
        parse_call("nn.Conv2d(3, 4, open('/etc/passwd').read())")


def test_parsing_imports_no_framework():
    code = (
        "import sys; from compare.translate import parse_call, parse_input; "
        "parse_call('nn.Conv2d(3, 4, 3)'); parse_input('3x8x8', 'torch'); "
        "print(sorted(m for m in ('torch', 'keras', 'tensorflow') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_a_layer_that_cannot_be_written_as_a_call_is_named_in_a_short_message():
    # Keras' Bidirectional holds its backward layer as a config dict: read back, the
    # arguments do not rebuild it, and the message names it without dumping the config
    result = translate("nn.LSTM(4, 8, batch_first=True, bidirectional=True)", "4x10")
    assert result.code is None and result.status == "unsupported"
    assert result.reason is not None
    assert "cannot write Bidirectional as a call: Bidirectional(" in result.reason
    assert "builds a different layer" in result.reason
    assert len(result.reason) < 700  # was a 4,000-character dump of both layers' configs
