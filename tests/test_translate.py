"""``compare translate``: parse safely, map to the spec, and print code that really ports.

The strongest check runs what translate prints: the source layer is built from the
call, the printed equivalent and the printed weight-porting statements are executed,
and both layers must compute the same function on the same (re-laid-out) input.
"""

from __future__ import annotations

import inspect
import json

import numpy as np
import pytest

from compare.cli import main
from compare.errors import SpecError
from compare.layouts import activation_to_keras
from compare.translate import (
    KERAS_CLASSES,
    KERAS_LAYER_KWARGS,
    TORCH_CLASSES,
    parse_call,
    parse_input,
    signature,
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
        "np": np,
        "tf": tf,
    }


# (call, --input): every family, both directions, and the padding realisations.
TORCH_CASES = [
    ("nn.Conv2d(3, 8, 7, stride=2, padding=3)", "3x32x32"),  # not 'same': ZeroPadding2D
    ("nn.Conv2d(3, 8, 3, stride=2, padding=1)", "3x15x15"),  # exactly 'same' on odd sizes
    ("torch.nn.Conv1d(4, 6, 3, dilation=2, padding='same')", "4x20"),
    ("nn.Conv3d(2, 4, 3, groups=2, bias=False)", "2x6x6x6"),
    ("nn.Conv2d(4, 8, 3, groups=4, padding=1)", "4x8x8"),  # depthwise
    ("nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1, output_padding=1)", "3x5x5"),
    ("nn.ConvTranspose1d(4, 2, 2, stride=3)", "4x5"),  # k < s: explicit output_padding
    ("nn.ConvTranspose3d(2, 2, 3, padding=(1, 0, 1))", "2x4x4x4"),
    ("nn.Linear(16, 4)", None),
    ("nn.Flatten()", "3x4x4"),
]
KERAS_CASES = [
    ("keras.layers.Conv2D(8, 7, strides=2, padding='same')", "32x32x3"),  # ZeroPad2d
    ("layers.Conv2D(4, 2, padding='same')", "6x6x3"),  # torch padding='same'
    ("keras.layers.Conv1D(4, 3, padding='same', dilation_rate=2)", "10x2"),
    ("keras.layers.Conv3D(4, 3, groups=2)", "5x5x5x2"),
    ("tf.keras.layers.Conv2DTranspose(2, 3, strides=2, padding='same')", "5x5x3"),
    ("keras.layers.Conv1DTranspose(2, 2, strides=3)", "5x4"),  # None -> output_padding=1
    ("keras.layers.DepthwiseConv2D(3, depth_multiplier=2, strides=2)", "9x9x3"),
    ("keras.layers.DepthwiseConv1D(3, padding='same')", "8x2"),
    ("keras.layers.SeparableConv1D(6, 3, padding='same')", "12x3"),
    (
        "keras.layers.SeparableConv2D(8, 3, depth_multiplier=2, padding='same', strides=2)",
        "16x16x3",
    ),
    ("keras.layers.Dense(4)", "5x5x3"),  # Dense on a map
    ("keras.layers.Dense(4, use_bias=False)", "16"),
    ("keras.layers.Flatten()", "4x4x3"),
]


def _source_layer(ns, call, translation):
    layer = eval(call, dict(ns))  # the test's own constant strings, never user input
    if translation.call.framework == "keras":
        layer.build(translation.formula.input.keras())
        rng = np.random.default_rng(1)
        layer.set_weights([rng.standard_normal(w.shape).astype("float32") for w in layer.weights])
    return layer


def _run_torch(ns, layer, x, translation):
    tensor = ns["torch"].from_numpy(x)
    with ns["torch"].no_grad():
        if translation.model.layers[0].kind == "dense" and translation.formula.input.rank:
            # the printed note: nn.Linear acts on the last axis
            return layer(tensor.movedim(1, -1)).movedim(-1, 1).numpy()
        return layer(tensor).numpy()


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
@pytest.mark.parametrize(("call", "shape"), TORCH_CASES + KERAS_CASES)
def test_printed_code_and_weight_port_compute_the_same(frameworks, call, shape):
    t = translate(call, shape)
    assert t.status == "ok", t.result.parity.detail
    assert t.code is not None and t.weights is not None
    ns = dict(frameworks)
    source_var = "torch_layer" if t.call.framework == "torch" else "keras_layer"
    ns[source_var] = _source_layer(ns, call, t)
    exec(t.code, ns)  # code compare printed
    exec(t.weights, ns)
    x_torch = np.random.default_rng(2).standard_normal((2, *t.formula.input.torch()[1:]))
    x_torch = x_torch.astype("float32")
    x_keras = activation_to_keras(x_torch, t.formula.input)
    y_torch = _run_torch(ns, ns["torch_layer"], x_torch, t)
    y_keras = np.asarray(ns["keras_layer"](x_keras))
    assert y_keras.shape[1:] == tuple(t.formula.output.keras()[1:])
    np.testing.assert_allclose(
        activation_to_keras(y_torch, t.formula.output), y_keras, rtol=1e-5, atol=1e-5
    )


def test_issue_example_torch_to_keras(capsys):
    code = main(["translate", "nn.Conv2d(3, 64, 7, stride=2, padding=3)", "--input", "3x224x224"])
    out = capsys.readouterr().out
    assert code == 0
    # padding=3 is not 'same' on 224 (TF would pad (2, 3)): explicit zero padding.
    assert "keras.layers.ZeroPadding2D(padding=3)" in out
    assert "keras.layers.Conv2D(64, 7, strides=2)" in out
    assert 'np.transpose(w["weight"], (2, 3, 1, 0))' in out
    assert "(2, 3), (2, 3)" in out
    assert "kernel_layout" in out and "parity after porting: ok" in out


def test_issue_example_keras_to_torch_json(capsys):
    call = "keras.layers.Conv2D(64, 7, strides=2, padding='same')"
    code = main(["translate", call, "--input", "224x224x3", "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0
    assert doc["source"]["framework"] == "keras" and doc["target"]["framework"] == "torch"
    assert "nn.ZeroPad2d((2, 3, 2, 3))" in doc["target"]["code"]
    assert "nn.Conv2d(3, 64, 7, stride=2)" in doc["target"]["code"]
    assert "np.transpose(kernel, (3, 2, 0, 1))" in doc["target"]["weights"]
    assert doc["formula"]["output_shape"]["torch"] == [None, 64, 112, 112]
    whats = {d["what"] for d in doc["differences"]}
    assert {"kernel_layout", "padding", "activation_layout"} <= whats
    assert doc["status"] == "ok"


def test_a_layer_the_other_framework_refuses_is_unsupported(capsys):
    code = main(["translate", "nn.Conv2d(3, 4, 3, stride=2, dilation=2)", "--input", "3x16x16"])
    out = capsys.readouterr().out
    assert code == 1
    assert "Keras equivalent: none" in out and "dilation" in out


def test_padding_same_choice_follows_the_input_size():
    odd = translate("nn.Conv2d(3, 8, 3, stride=2, padding=1)", "3x15x15")
    even = translate("nn.Conv2d(3, 8, 3, stride=2, padding=1)", "3x16x16")
    assert odd.code is not None and "padding='same'" in odd.code
    assert even.code is not None and "ZeroPadding2D" in even.code


def test_input_layouts():
    assert parse_input("3x224x224", "torch").size == (224, 224)
    assert parse_input("224x224x3", "keras").channels == 3
    assert parse_input("16", "keras").size == ()


@pytest.mark.parametrize(
    ("call", "shape", "match"),
    [
        ("eval('1')", "3", r"unknown class 'eval'"),
        ("__import__('os').system('ls')", "3", r"must be a class name"),
        (
            "nn.Conv2d(3, 64, k)",
            "3x8x8",
            r"nn.Conv2d: argument 3 \(kernel_size\)=k is not a literal",
        ),
        ("nn.Conv2d(3, 64, 3, padding=p)", "3x8x8", r"nn.Conv2d: padding=p is not a literal"),
        ("nn.Conv2d(*a)", "3x8x8", r"\*a is not allowed"),
        ("nn.Conv2d(3, 4, **kw)", "3x8x8", r"\*\*kw is not allowed"),
        ("nn.Conv2d(3, 64, 3, foo=1)", "3x8x8", r"unknown argument 'foo'"),
        ("nn.Conv2D(3, 64, 3)", "3x8x8", r"unknown PyTorch class 'nn.Conv2D' \(Conv2D is Keras"),
        ("nn.BatchNorm2d(3)", "3x8x8", r"unknown PyTorch class 'nn.BatchNorm2d'"),
        ("keras.layers.LSTM(3)", "3x8", r"unknown Keras class"),
        ("np.Conv2d(3, 4, 3)", "3x8x8", r"unknown module 'np'"),
        ("Flatten()", "3x4x4", r"exists in both frameworks"),
        ("x + 1", "3", r"not a constructor call"),
        ("nn.Conv2d(3, 4, 3", "3x8x8", r"not valid Python"),
        ("nn.Conv2d(3, 64)", "3x8x8", r"missing required argument\(s\) 'kernel_size'"),
        ("nn.Conv2d(3, 64, 3, 1, 0, 1, 1, True, 'zeros', None, None, 9)", "3x8x8", "at most 11"),
        ("nn.Conv2d(3, 64, 3, 1, stride=2)", "3x8x8", r"'stride' given by position and by name"),
        ("nn.Conv2d(3, 64, 7)", "4x32x32", r"in_channels=3 but --input '4x32x32' has 4 channels"),
        ("nn.Conv2d(3, 64, 7)", "3x32", r"needs --input CxHxW"),
        ("keras.layers.Conv2D(8, 3)", "32x32", r"needs --input HxWxC"),
        ("nn.Conv2d(3, 64, 7)", "3by32", r"1 to 4 positive integers joined by 'x'"),
        ("nn.Conv2d(3, 64, 7)", "0x8x8", r"1 to 4 positive integers"),
        ("keras.layers.Dense(4)", None, r"needs --input"),
        ("nn.Linear(8, 4)", "8x4x4", r"nn.Linear acts on the last axis"),
        ("nn.Conv2d(3, 8, 3, stride=2, padding='same')", "3x8x8", r"PyTorch itself refuses"),
        ("nn.ConvTranspose2d(3, 8, 3, padding='same')", "3x8x8", r"only integer padding"),
        ("nn.Conv2d(3, 8, 3, padding_mode='reflect')", "3x8x8", r"padding_mode='reflect'"),
        ("nn.Flatten(start_dim=2)", "3x4x4", r"start_dim=2 is not translated"),
        ("keras.layers.Conv2D(8, 3, activation='relu')", "8x8x3", r"activation='relu' is not"),
        ("keras.layers.Conv1D(8, 3, padding='causal')", "8x3", r"padding='causal'"),
        ("keras.layers.Conv2D(8, 3, data_format='channels_first')", "8x8x3", r"channels-last"),
        ("keras.layers.Conv2D(8, 9)", "8x8x3", r"kernel_size=9 .* larger than"),
        ("keras.layers.Conv2D(0, 3)", "8x8x3", r"filters=0 must be an integer >= 1"),
        ("keras.layers.Conv2D(4, 3, strides=2, dilation_rate=2)", "8x8x3", r"Keras refuses"),
    ],
)
def test_errors_are_clear_spec_errors(call, shape, match):
    with pytest.raises(SpecError, match=match):
        translate(call, shape)


def test_cli_error_is_one_line_and_exit_2(capsys):
    code = main(["translate", "nn.Conv2d(3, 64, 3, foo=1)", "--input", "3x8x8"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.startswith("error: ") and "\n" not in err


def test_ignored_arguments_are_named():
    t = translate("keras.layers.Dense(4, name='head', kernel_initializer='zeros')", "8")
    assert any(n.startswith("name='head' ignored") for n in t.notes)
    assert any(n.startswith("kernel_initializer='zeros' ignored") for n in t.notes)


def test_parse_never_evaluates():
    # A call whose arguments would have side effects if evaluated is refused at parse time.
    with pytest.raises(SpecError, match="not a literal"):
        parse_call("nn.Conv2d(3, 4, open('/etc/passwd').read())")


@pytest.mark.parametrize("name", sorted(TORCH_CLASSES))
def test_torch_signature_table_matches_the_real_class(frameworks, name):
    cls = getattr(frameworks["nn"], name)
    params, required = signature("torch", name)
    real = list(inspect.signature(cls.__init__).parameters.values())[1:]
    assert tuple(p.name for p in real) == params
    assert sum(p.default is inspect.Parameter.empty for p in real) == required


@pytest.mark.parametrize("name", sorted(KERAS_CLASSES))
def test_keras_signature_table_matches_the_real_class(frameworks, name):
    cls = getattr(frameworks["layers"], name)
    params, required = signature("keras", name)
    real = [
        p
        for p in list(inspect.signature(cls.__init__).parameters.values())[1:]
        if p.kind is not inspect.Parameter.VAR_KEYWORD
    ]
    assert tuple(p.name for p in real) == params
    assert sum(p.default is inspect.Parameter.empty for p in real) == required


def test_keras_layer_keywords_are_accepted_by_keras(frameworks):
    values = {"name": "head", "dtype": "float32", "trainable": True}
    assert set(values) == set(KERAS_LAYER_KWARGS)
    layer = frameworks["layers"].Dense(2, **values)
    assert layer.units == 2
