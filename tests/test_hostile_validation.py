"""Issue 16, class 3: hostile values end as a SpecError naming field, value and rule.

Each case once escaped validation as another exception (OverflowError, TypeError,
ValueError from a parser, RecursionError) or passed it and failed inside a framework.
"""

import pytest

from compare.cli import main
from compare.errors import SpecError, SpecFileError
from compare.kinds.dropout.spec import Dropout
from compare.spec import Conv, Dense, model_from_dict
from compare.specfile import parse_text

BASE = {"name": "m", "input": {"channels": 2, "size": [4]}}


def _model(*layers: dict, **top) -> dict:
    return {**BASE, "layers": list(layers), **top}


@pytest.mark.parametrize(
    ("layer", "match"),
    [
        (
            {"kind": "dropout", "rate": 10**400},
            r"layers\[0\]\.rate=<an integer of 1329 bits>",
        ),
        ({"kind": "batch_norm", "momentum": -(10**400)}, r"momentum=<an integer of 1329 bits>"),
        (
            {"kind": "conv", "filters": 2**63, "kernel_size": 1},
            r"filters=9223372036854775808 is beyond",
        ),
        ({"kind": "dense", "units": 2**64}, r"layers\[0\]\.units=18446744073709551616 is beyond"),
        (
            {"kind": "conv", "filters": 2, "kernel_size": [1, 2**70]},
            r"kernel_size\[1\]=\d+ is beyond",
        ),
        ({"kind": "dense", 5: 1}, r"layers\[0\]: field name 5 must be a string"),
    ],
    ids=[
        "float-huge-int",
        "float-huge-negative",
        "int-past-int64",
        "units-past-int64",
        "tuple-item-past-int64",
        "non-string-key",
    ],
)
def test_hostile_field_values_are_spec_errors(layer, match):
    with pytest.raises(SpecError, match=match):
        model_from_dict(_model(layer))


def test_python_api_refuses_ints_past_int64_and_huge_floats():
    with pytest.raises(SpecError, match=r"filters=9223372036854775808 must be at most"):
        Conv(filters=2**63, kernel_size=1)
    with pytest.raises(SpecError, match=r"units=1208925819614629174706176 must be at most"):
        Dense(units=2**80)
    with pytest.raises(SpecError, match=r"rate=<an integer of 1329 bits> must lie in \[0.0, 1.0\)"):
        Dropout(rate=10**400)


def test_deep_nesting_from_python_is_a_spec_error():
    deep: list = [1]
    for _ in range(10_000):
        deep = [deep]
    with pytest.raises(SpecError, match=r"layers\[0\]\.kernel_size.*nest deeper than 32"):
        model_from_dict(_model({"kind": "conv", "filters": 2, "kernel_size": deep}))


HUGE_INT = "9" * 5000
FILES = {
    "toml-huge-int": ("toml", f"name = 'm'\nlayers = [{{kind = 'dense', units = {HUGE_INT}}}]\n"),
    "json-huge-int": ("json", f'{{"layers": [{{"kind": "dense", "units": {HUGE_INT}}}]}}'),
    "yaml-huge-int": ("yaml", f"layers:\n  - {{kind: dense, units: {HUGE_INT}}}\n"),
    "toml-deep": ("toml", "a = " + "[" * 5000 + "]" * 5000 + "\n"),
    "json-deep": ("json", "[" * 100_000 + "]" * 100_000),
    "yaml-deep": ("yaml", "[" * 100_000 + "]" * 100_000),
    "yaml-int-key": (
        "yaml",
        "name: m\ninput: {channels: 1, size: [4]}\nlayers:\n  - {kind: dense, 5: 1}\n",
    ),
    "yaml-bad-date": ("yaml", "name: 2026-02-30\nlayers: []\n"),
}


@pytest.mark.parametrize("case", sorted(FILES))
def test_hostile_files_are_spec_file_errors(case):
    fmt, text = FILES[case]
    with pytest.raises(SpecFileError, match=rf"^f\.{fmt}(:\d+)?: "):
        parse_text(text, fmt, f"f.{fmt}")


@pytest.mark.parametrize("case", sorted(FILES))
def test_hostile_files_exit_2_without_traceback(case, tmp_path, capsys):
    fmt, text = FILES[case]
    path = tmp_path / f"f.{fmt}"
    path.write_text(text)
    assert main(["show", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err
    assert len(err) < 1000
