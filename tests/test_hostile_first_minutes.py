"""Issue 16, class 8: a new user's first mistakes get short, complete, actionable answers."""

from __future__ import annotations

import pytest

from compare.cli import main
from compare.errors import SpecError
from compare.importers import UnmappableError, from_keras, from_torch
from compare.testing import assert_equivalent, check_equivalent

torch = pytest.importorskip("torch")
keras = pytest.importorskip("keras")
nn = torch.nn
L = keras.layers


def _torch_net(dropout: bool) -> nn.Module:
    torch.manual_seed(0)
    parts = [nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten()]
    parts += [nn.Dropout(0.5)] if dropout else []
    return nn.Sequential(*parts, nn.Linear(4 * 6 * 6, 3))


def _keras_net(dropout: bool) -> keras.Model:
    parts = [keras.Input((8, 8, 1)), L.Conv2D(4, 3, activation="relu"), L.Flatten()]
    parts += [L.Dropout(0.5)] if dropout else []
    return keras.Sequential([*parts, L.Dense(3)])


def test_mapped_names_are_listed_once_not_per_unmapped_part():
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Hardswish(), nn.Conv2d(2, 2, 1), nn.Mish())
    with pytest.raises(UnmappableError) as info:
        from_torch(net, input="1x8x8")
    text = str(info.value)
    assert "1 (torch.nn.Hardswish): no importer maps this class\n" in text
    assert text.count("mapped classes: ") == 1 and text.count("Conv2d") == 1
    assert "MoveAxis" not in text and "RnnOutput" not in text  # compare's own helpers
    assert len(text) < 1500


def test_keras_refusal_lists_the_mapped_layers_once():
    model = keras.Sequential([keras.Input((8, 8, 1)), L.Conv2D(2, 3), L.Permute((2, 1, 3))])
    with pytest.raises(UnmappableError) as info:
        from_keras(model)
    assert str(info.value).count("mapped classes: ") == 1


@pytest.mark.parametrize(
    ("shape", "hint"),
    [("28x28x1", "28x28x1 looks channels-last: try 1x28x28"), ("1x1x28x28", "try 1x28x28")],
)
def test_a_misread_input_shape_gets_a_hint(shape, hint):
    net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.Flatten())
    with pytest.raises(SpecError, match=hint):
        from_torch(net, input=shape)


def test_assert_equivalent_reports_the_problems_of_both_sides():
    t = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Hardswish())
    k = keras.Sequential([keras.Input((8, 8, 1)), L.Conv2D(2, 3), L.Permute((2, 1, 3))])
    with pytest.raises(AssertionError) as info:
        assert_equivalent(t, k, input="1x8x8")
    text = str(info.value)
    assert "torch: cannot read the torch model" in text and "Hardswish" in text
    assert "keras: cannot read the keras model" in text and "Permute" in text


@pytest.mark.parametrize("side", ["torch", "keras"])
def test_dropout_on_one_side_only_is_an_inference_no_op(side):
    t, k = _torch_net(side == "torch"), _keras_net(side == "keras")
    result = check_equivalent(t, k, input="1x8x8")
    assert result.ok, result.message
    assert "dropout, the identity at inference" in result.message


def test_a_real_difference_beside_a_dropout_is_still_found():
    t = _torch_net(True)
    k = keras.Sequential(
        [keras.Input((8, 8, 1)), L.Conv2D(4, 3, activation="relu"), L.Flatten(), L.Dense(5)]
    )
    result = check_equivalent(t, k, input="1x8x8")
    assert not result.ok and "units: torch 3, keras 5" in result.message
    assert "keras: dense" in result.message


def test_a_torch_reference_that_is_not_a_module_is_a_usage_error(tmp_path, monkeypatch, capsys):
    (tmp_path / "user_not_net.py").write_text("def make():\n    return [1, 2, 3]\n")
    monkeypatch.chdir(tmp_path)
    code = main(["show", "--torch", "user_not_net:make", "--input", "1x8x8"])
    err = capsys.readouterr().err
    assert code == 2
    assert err == (
        "error: --torch='user_not_net:make' gives a list, not a torch.nn.Module "
        "(an object, a class or a factory returning one)\n"
    )
