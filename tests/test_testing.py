"""assert_equivalent on hand-written pairs, the pytest plugin, and show --torch/--keras."""

from __future__ import annotations

import sys
import textwrap

import keras
import numpy as np
import pytest
import torch

from compare.cli import main
from compare.errors import SpecError
from compare.testing import assert_equivalent, check_equivalent

nn = torch.nn
L = keras.layers

pytest_plugins = ["pytester"]

NETS = """
import keras
import torch
from torch import nn

L = keras.layers


def torch_net(kernel=3, bias=True):
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(1, 6, 3, padding=1),
        nn.Conv2d(6, 4, kernel, stride=2, bias=bias),
        nn.Flatten(),
        nn.Linear(4 * 5 * 5, 10),
    )


def keras_net(kernel=3, bias=True, padding="same"):
    return keras.Sequential([
        keras.Input((12, 12, 1)),
        L.Conv2D(6, 3, padding=padding, name="first"),
        L.ZeroPadding2D(((0, 0), (0, 0)), name="pad"),
        L.Conv2D(4, kernel, strides=2, use_bias=bias, name="second"),
        L.Flatten(name="flat"),
        L.Dense(10, name="out"),
    ])
"""


@pytest.fixture(scope="module")
def nets(tmp_path_factory):
    """The hand-written pair, as a module the tests and the CLI import."""
    root = tmp_path_factory.mktemp("user")
    (root / "user_nets.py").write_text(NETS)
    sys.path.insert(0, str(root))
    import user_nets

    yield user_nets
    sys.path.remove(str(root))


def test_a_hand_written_pair_is_equivalent_and_left_unchanged(nets):
    t, k = nets.torch_net(), nets.keras_net()
    before = [w.copy() for w in k.get_weights()]
    result = check_equivalent(t, k, input="1x12x12")
    assert result.ok, result.message
    assert len(result.errors) == 4 and max(result.errors) < 1e-4
    for a, b in zip(before, k.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    ("torch_kwargs", "keras_kwargs", "expected"),
    [
        ({}, {"kernel": 4}, r"layer 1 \(conv\): kernel_size: torch \(3, 3\), keras \(4, 4\)"),
        ({"bias": False}, {}, r"layer 1 \(conv\): use_bias: torch False, keras True"),
        ({}, {"padding": "valid"}, r"layer 0 \(conv\): padding: torch \(\(1, 1\), \(1, 1\)\), "),
    ],
    ids=["kernel_size", "missing_bias", "padding"],
)
def test_different_networks_fail_naming_the_layer(nets, torch_kwargs, keras_kwargs, expected):
    with pytest.raises(AssertionError, match=expected) as info:
        assert_equivalent(
            nets.torch_net(**torch_kwargs), nets.keras_net(**keras_kwargs), input="1x12x12"
        )
    assert "torch: " in str(info.value) and "keras: " in str(info.value)


def _naive_own_weights(t, k, permute_dense):
    """Copy torch weights into the keras model by hand, optionally forgetting the
    Flatten->Dense row permutation."""
    convs = [m for m in t if isinstance(m, nn.Conv2d)]
    for conv, name in zip(convs, ["first", "second"]):
        w = conv.weight.detach().numpy().transpose(2, 3, 1, 0)
        k.get_layer(name).set_weights([w, conv.bias.detach().numpy()])
    fc = t[3].weight.detach().numpy()  # (10, C*H*W)
    if permute_dense:
        fc = fc.reshape(10, 4, 5, 5).transpose(0, 2, 3, 1).reshape(10, -1)
    k.get_layer("out").set_weights([fc.T, t[3].bias.detach().numpy()])


@pytest.mark.parametrize("permute", [True, False], ids=["permuted", "not_permuted"])
def test_own_weights_catch_a_flatten_dense_port_that_forgot_the_permutation(nets, permute):
    t, k = nets.torch_net(), nets.keras_net()
    _naive_own_weights(t, k, permute_dense=permute)
    result = check_equivalent(t, k, input="1x12x12", weights="own")
    assert result.ok is permute
    if not permute:
        assert result.divergence is not None and result.divergence.index == 3
        with pytest.raises(
            AssertionError,
            match=r"diverge first after layer 3 \(dense; "
            r"torch: 3 \(Linear\), keras: out \(Dense\)\)",
        ):
            assert_equivalent(t, k, input="1x12x12", weights="own")


def test_an_unmappable_model_fails_as_an_assertion_naming_it(nets):
    t = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Hardtanh())
    with pytest.raises(AssertionError, match=r"1 \(torch.nn.Hardtanh\): no importer"):
        assert_equivalent(t, nets.keras_net(), input="1x12x12")


def test_the_pytest_plugin_fixture_in_a_users_suite(pytester, nets):
    pytester.makeini("[pytest]\ncompare_atol = 1e-5\n")
    pytester.makepyfile(
        textwrap.dedent(
            """
            from user_nets import keras_net, torch_net

            def test_pair(compare_equivalent):
                compare_equivalent(torch_net(), keras_net(), input="1x12x12")

            def test_broken_pair(compare_equivalent):
                compare_equivalent(torch_net(), keras_net(kernel=4), input="1x12x12")
            """
        )
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*kernel_size: torch (3, 3), keras (4, 4)*"])


def test_show_compares_the_users_own_objects(nets, capsys):
    code = main(
        [
            "show",
            "--torch",
            "user_nets:torch_net",
            "--keras",
            "user_nets:keras_net",
            "--input",
            "1x12x12",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "torch vs keras: equivalent" in out
    assert "3 dense <- 3 (Linear)" in out


def test_show_fails_on_a_bad_reference(capsys):
    assert main(["show", "--torch", "no_such_module_here:net", "--input", "1x4x4"]) == 2
    assert "cannot import 'no_such_module_here'" in capsys.readouterr().err


def test_show_keras_alone_as_json(nets, capsys):
    import json

    code = main(["show", "--keras", "user_nets:keras_net", "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0
    assert doc["source"]["framework"] == "keras"
    assert [layer["kind"] for layer in doc["models"][0]["layers"]] == [
        "conv",
        "conv",
        "flatten",
        "dense",
    ]
    assert doc["models"][0]["parity"]["status"] == "ok"


def test_show_exits_1_when_the_pair_differs(nets, capsys, tmp_path, monkeypatch):
    (tmp_path / "user_pair_bad.py").write_text(
        "from user_nets import keras_net\n\ndef wide():\n    return keras_net(kernel=4)\n"
    )
    monkeypatch.chdir(tmp_path)
    code = main(
        [
            "show",
            "--torch",
            "user_nets:torch_net",
            "--keras",
            "user_pair_bad:wide",
            "--input",
            "1x12x12",
        ]
    )
    out = capsys.readouterr().out
    assert code == 1
    assert "torch vs keras: the torch and keras models describe different networks" in out


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
def test_torch_same_padding_with_an_even_kernel_matches_keras_same():
    torch.manual_seed(2)
    t = nn.Sequential(nn.Conv2d(2, 3, 4, padding="same", dilation=1))
    k = keras.Sequential([keras.Input((7, 7, 2)), L.Conv2D(3, 4, padding="same")])
    result = check_equivalent(t, k, input="2x7x7")
    assert result.ok, result.message
    shifted = keras.Sequential(
        [
            keras.Input((7, 7, 2)),
            L.ZeroPadding2D(((2, 1), (2, 1)), name="pad"),
            L.Conv2D(3, 4, name="conv"),
        ]
    )
    with pytest.raises(
        AssertionError,
        match=r"pad \+ conv \(keras.layers."
        r"ZeroPadding2D, keras.layers.Conv2D\): pads \(\(2, 1\), \(2, 1\)\)",
    ):
        assert_equivalent(t, shifted, input="2x7x7")


def test_the_plugin_module_imports_no_framework():
    import subprocess

    code = (
        "import sys, compare.testing, compare.importers\n"
        "print(sorted(m for m in ('torch', 'keras', 'tensorflow') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("caller", ["check_equivalent", "diff"])
def test_when_neither_model_can_be_read_both_sides_problems_are_named(caller):
    from compare.diff import diff

    nn = torch.nn
    torch_model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Bilinear(2, 2, 2))
    keras_model = keras.Sequential(
        [keras.Input((5, 5, 1)), keras.layers.Conv2D(2, 3), keras.layers.Permute((2, 1, 3))]
    )
    call = {"check_equivalent": check_equivalent, "diff": diff}[caller]
    with pytest.raises(SpecError) as caught:
        call(torch_model, keras_model, input="1x5x5")
    text = str(caught.value)
    assert text.startswith("neither model can be read:\ntorch: ")
    assert "torch.nn.Bilinear" in text
    assert "\nkeras: " in text and "keras.layers.Permute" in text


def test_when_one_model_cannot_be_read_its_own_error_is_raised():
    keras_model = keras.Sequential([keras.Input((5, 5, 1)), keras.layers.Conv2D(2, 3)])
    torch_model = torch.nn.Sequential(torch.nn.Bilinear(2, 2, 2))
    with pytest.raises(SpecError) as caught:
        check_equivalent(torch_model, keras_model, input="1x5x5")
    assert "neither" not in str(caught.value)
    assert "torch.nn.Bilinear" in str(caught.value)
