"""Issue 16, class 4: tiny input never buys unbounded work.

A message quotes at most a few dozen characters of a value, a spec's activations and
weights are bounded before anything is allocated (``COMPARE_MAX_ELEMENTS``), and a spec
file is bounded in bytes (``COMPARE_MAX_SPEC_BYTES``); each limit is named with how to
lift it.
"""

import pytest

from compare import batch
from compare.cli import main
from compare.comparison import compare_model
from compare.errors import SpecError, SpecFileError
from compare.limits import ELEMENTS_ENV, SPEC_BYTES_ENV
from compare.parity import build
from compare.spec import model_from_dict
from compare.specfile import parse_text

# Nine levels of nine aliases: 9**9 (387 million) leaves from 400 bytes of YAML.
BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{n}: &{n} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
    for p, n in zip("abcdefgh", "bcdefghi")
)


def test_yaml_alias_bomb_is_refused_with_a_short_message():
    with pytest.raises(SpecFileError) as info:
        parse_text(BOMB + "layers: *i\n", "yaml", "bomb.yaml")
    assert "more than 1,000,000 values" in str(info.value)
    assert len(str(info.value)) < 300


@pytest.mark.parametrize("field", ["input", "layers", "name"])
def test_alias_bomb_in_one_field_stops_at_the_value_bound(field, tmp_path, capsys):
    doc = {"name": "m", "input": "{channels: 1, size: [4]}", "layers": "[{kind: flatten}]"}
    doc[field] = "*i"
    path = tmp_path / "bomb.yaml"
    path.write_text(BOMB + "".join(f"{k}: {v}\n" for k, v in doc.items()))
    assert main(["report", str(path), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "bomb.yaml: " in err and len(err) < 500
    assert not (tmp_path / "out").exists()


def test_a_huge_activation_is_refused_before_anything_is_allocated():
    spec = {"name": "big", "input": {"channels": 1, "size": [1073741824]}, "layers": []}
    spec["layers"] = [{"kind": "flatten"}]
    model = model_from_dict(spec)
    with pytest.raises(SpecError, match=rf"input holds 2,147,483,648 elements.*{ELEMENTS_ENV}"):
        build(model)
    result = compare_model(model)
    assert result.status == "error" and ELEMENTS_ENV in result.error
    assert "--no-parity" in result.error
    assert compare_model(model, parity=False).status == "skipped"  # no allocation there


def test_huge_weights_are_refused_and_the_limit_can_be_lifted(monkeypatch):
    spec = {
        "name": "wide",
        "input": {"channels": 4096, "size": []},
        "layers": [{"kind": "dense", "units": 20000}],
    }
    model = model_from_dict(spec)
    result = compare_model(model)
    assert "layer 0 (dense): its weights hold 81,940,000 elements" in result.error
    monkeypatch.setenv(ELEMENTS_ENV, "100")
    small = model_from_dict({**spec, "layers": [{"kind": "dense", "units": 30}]})
    assert "limit is 100 elements" in compare_model(small).error
    monkeypatch.setenv(ELEMENTS_ENV, "lots")
    assert f"{ELEMENTS_ENV}='lots' must be a positive integer" in compare_model(small).error


def test_a_spec_file_over_the_byte_limit_is_refused_unread(monkeypatch, tmp_path):
    path = tmp_path / "big.json"
    path.write_text('{"layers": [' + ", ".join(['{"kind": "flatten"}'] * 100) + "]}")
    monkeypatch.setenv(SPEC_BYTES_ENV, "1000")
    with pytest.raises(SpecFileError, match=rf"larger than 1,000 bytes.*{SPEC_BYTES_ENV}"):
        batch.load_all(batch.sources([path]))
    monkeypatch.setenv(SPEC_BYTES_ENV, "100000")
    assert len(batch.load_all(batch.sources([path]))) == 1


def test_a_long_string_value_is_quoted_abbreviated():
    spec = {"name": "m", "input": {"channels": 1, "size": [4]}}
    with pytest.raises(SpecError) as info:
        model_from_dict({**spec, "layers": [{"kind": "x" * 4000}]})
    assert "(4,000 characters)" in str(info.value) and len(str(info.value)) < 800
    with pytest.raises(SpecError, match="longer than 4,096 characters"):
        model_from_dict({**spec, "layers": [{"kind": "x" * 5000}]})
