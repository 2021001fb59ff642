"""Issue 16: a fuzz test in the normal run, so hostile input stays handled.

Random dicts and files go through load, compare (with and without parity), report and
translate; the only outcomes allowed are results, ``SpecError`` with a message naming
where, and the CLI's exit codes 0 / 1 / 2 with one-line errors and no traceback.
Derandomised (the same examples every run) and bounded: a few dozen examples per test.
"""

from __future__ import annotations

import dataclasses
import json
import re

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from compare.batch import VERDICTS
from compare.cli import main
from compare.comparison import compare_model
from compare.errors import SpecError
from compare.limits import ELEMENTS_ENV
from compare.records import ModelResult
from compare.spec import KINDS, Model, model_from_dict

FUZZ = settings(
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
#: A message of a model error names where: the model, a layer, the input or a field path.
NAMED = re.compile(r"model |layer \d+|input|layers|name|field|kind")

LONG = "x" * 5000  # longer than a spec string may be
FIELDS = sorted({f.name for cls in KINDS.values() for f in dataclasses.fields(cls)} - {"rank"})
HOSTILE_INTS = st.sampled_from([0, -1, 1, 2, 3, 2**31, 2**63 - 1, 2**63, -(2**64), 10**400])
HOSTILE_FLOATS = st.sampled_from([0.0, 0.5, -0.1, 1.0, 1e308, float("inf"), float("nan")])
HOSTILE_TEXT = st.sampled_from(
    ["same", "valid", "relu", "channels", "all", "", "=1+1", "a\rb", "\x1b[2J", LONG]
)
SCALARS = st.one_of(
    st.integers(-3, 40), HOSTILE_INTS, HOSTILE_FLOATS, HOSTILE_TEXT, st.booleans(), st.none()
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(FIELDS), inner, max_size=3)
    ),
    max_leaves=8,
)


@st.composite
def layer_dicts(draw: st.DrawFn) -> dict:
    kind = draw(st.sampled_from([*sorted(KINDS), "conv2d", "nope", 5]))
    fields = draw(st.dictionaries(st.sampled_from(FIELDS), VALUES, max_size=4))
    if draw(st.booleans()):  # small, plausible values: most of these build
        for name in ("filters", "units", "output_dim", "input_dim"):
            fields[name] = draw(st.integers(1, 6))
        fields["kernel_size"] = draw(st.integers(1, 3))
    fields = (
        {k: v for k, v in fields.items() if k in _field_names(kind)}
        if draw(st.booleans())
        else fields
    )
    return {"kind": kind, **fields}


def _field_names(kind: object) -> set[str]:
    cls = KINDS.get(kind) if isinstance(kind, str) else None
    return {f.name for f in dataclasses.fields(cls)} if cls else set()


PLAUSIBLE = {
    "conv": lambda d: {
        "filters": d(st.integers(1, 4)),
        "kernel_size": d(st.integers(1, 3)),
        "padding": d(st.sampled_from(["same", "valid", 1])),
    },
    "dense": lambda d: {"units": d(st.integers(1, 5))},
    "flatten": lambda d: {},
    "batch_norm": lambda d: {},
    "layer_norm": lambda d: {},
    "group_norm": lambda d: {"groups": 1},
    "max_pool": lambda d: {"pool_size": 2, "padding": d(st.sampled_from(["same", "valid"]))},
    "avg_pool": lambda d: {"pool_size": 2, "padding": d(st.sampled_from(["same", "valid"]))},
    "activation": lambda d: {"activation": d(st.sampled_from(["relu", "tanh", "gelu"]))},
    "dropout": lambda d: {"rate": 0.5},
    "lstm": lambda d: {"units": d(st.integers(1, 4)), "return_sequences": d(st.booleans())},
    "gru": lambda d: {"units": d(st.integers(1, 4))},
}


@st.composite
def plausible_models(draw: st.DrawFn) -> dict:
    """A model that mostly builds, with at most one hostile value put in it."""
    size = draw(st.lists(st.integers(3, 8), min_size=1, max_size=2))
    kinds = draw(st.lists(st.sampled_from(sorted(PLAUSIBLE)), min_size=1, max_size=3))
    layers = [{"kind": kind, **PLAUSIBLE[kind](draw)} for kind in kinds]
    model = {"name": "m", "input": {"channels": draw(st.integers(1, 3)), "size": size}}
    model["layers"] = layers
    if draw(st.booleans()):
        target = draw(st.sampled_from([model, model["input"], *layers]))
        target[draw(st.sampled_from(sorted(target)) | st.sampled_from(FIELDS))] = draw(VALUES)
    return model


@st.composite
def model_dicts(draw: st.DrawFn) -> dict:
    if draw(st.booleans()):
        return draw(plausible_models())
    size = draw(st.lists(st.integers(1, 9) | HOSTILE_INTS, max_size=4))
    inp: object = {"channels": draw(st.integers(1, 4) | HOSTILE_INTS), "size": size}
    if draw(st.integers(0, 9)) == 0:
        inp = draw(VALUES)
    elif draw(st.integers(0, 5)) == 0:
        inp = {"dtype": "int", "size": [draw(st.integers(1, 6))]}
    model: dict = {
        "name": draw(HOSTILE_TEXT | st.just("m")),
        "input": inp,
        "layers": draw(st.lists(layer_dicts(), min_size=0, max_size=4)),
    }
    if draw(st.integers(0, 7)) == 0:
        model[draw(st.sampled_from(["extra", "description"]))] = draw(VALUES)
    return model


@pytest.fixture(autouse=True)
def _small_models(monkeypatch):
    """Keep every example cheap: the elements bound refuses anything large."""
    monkeypatch.setenv(ELEMENTS_ENV, str(2**14))


def _check_result(result: ModelResult) -> None:
    assert isinstance(result, ModelResult)
    assert result.status in VERDICTS
    if result.error is not None:
        assert NAMED.search(result.error), result.error


@settings(FUZZ, max_examples=60)
@given(model_dicts())
def test_random_dicts_load_and_compare_or_name_the_problem(raw):
    try:
        model = model_from_dict(raw)
    except SpecError as exc:
        event("spec error")
        assert NAMED.search(str(exc)), str(exc)
        assert len(str(exc)) < 2000
        return
    assert isinstance(model, Model)
    _check_result(compare_model(model, parity=False))
    result = compare_model(model, diagnostics=False)
    event(f"compared: {result.status}")
    _check_result(result)


HOSTILE_FILES = [
    "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c]\n"
    "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e]\n"
    "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\nlayers: *g\n",
    "[" * 50_000 + "]" * 50_000,
    '{"layers": [{"kind": "dense", "units": ' + "9" * 5000 + "}]}",
    "5: 1\nlayers: [{kind: flatten}]\n",
    "\x00\x01\x02",
    "\udcff",
]


@st.composite
def spec_files(draw: st.DrawFn) -> tuple[str, str]:
    fmt = draw(st.sampled_from(["json", "yaml", "toml"]))
    how = draw(st.integers(0, 3))
    if how == 0:
        return fmt, draw(st.sampled_from(HOSTILE_FILES))
    doc = draw(model_dicts())
    if fmt == "toml":
        text = draw(st.text(max_size=200)) if how == 1 else _toml(doc)
    else:
        text = json.dumps(doc) if fmt == "json" else yaml.safe_dump(doc, allow_unicode=True)
    if how == 3 and text:  # a corrupted file: a random slice of it replaced
        i = draw(st.integers(0, len(text) - 1))
        text = text[:i] + draw(st.text(max_size=5)) + text[i + draw(st.integers(0, 5)) :]
    return fmt, text


def _toml(doc: dict) -> str:
    """TOML for the JSON-like subset (JSON's literals are TOML's, mostly)."""
    lines = [f"{key} = {json.dumps(value)}" for key, value in doc.items() if key != "layers"]
    for layer in doc["layers"] if isinstance(doc.get("layers"), list) else []:
        lines.append("[[layers]]")
        if isinstance(layer, dict):
            lines += [f"{key} = {json.dumps(value)}" for key, value in layer.items()]
    return "\n".join(lines) + "\n"


def _run_cli(argv: list[str], capsys) -> tuple[int, str]:
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's usage errors
        code = int(exc.code or 0)
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


@settings(FUZZ, max_examples=40)
@given(spec_files(), st.booleans())
def test_random_files_report_or_exit_2_naming_the_file(tmp_path, capsys, case, parity):
    fmt, text = case
    path = tmp_path / f"fuzz.{fmt}"
    path.write_text(text, encoding="utf-8", errors="surrogateescape")
    out = tmp_path / "out"
    argv = ["report", str(path), "-o", str(out), "--format", "json,csv"]
    code, err = _run_cli([*argv, *([] if parity else ["--no-parity"])], capsys)
    event(f"exit {code}")
    assert code in (0, 1, 2)
    if code == 2:
        assert err.startswith(f"error: {path}") and len(err) < 3000, err
    else:
        assert json.loads((out / "report.json").read_text())["models"]
        assert not [p for p in out.iterdir() if p.name.startswith(".")]


CALLS = st.sampled_from(
    [
        "nn.Conv2d({a}, {b}, {c})",
        "nn.Conv2d({a}, {b}, {c}, stride={d}, padding={e})",
        "nn.Linear({a}, {b})",
        "nn.ConvTranspose1d({a}, {b}, {c}, stride={d})",
        "keras.layers.Conv2D({a}, {c}, strides={d}, padding={e})",
        "keras.layers.Dense({a})",
        "layers.SeparableConv1D({a}, {c})",
        "nn.Conv2d({a}, {b}, {c}",
        "nn.Flatten()",
        "print({a})",
        "__import__('os').system('x')",
    ]
)
ARGS = st.sampled_from(["1", "3", "0", "-2", "2.5", "'same'", "'valid'", "True", "None", "[1, 2]"])


@settings(FUZZ, max_examples=40)
@given(
    CALLS,
    st.fixed_dictionaries({k: ARGS for k in "abcde"}),
    st.sampled_from([None, "3x8x8", "8x8x3", "3", "x", "0x8x8", "3x8"]),
)
def test_random_translate_calls_exit_0_1_or_2(capsys, template, args, shape):
    argv = ["translate", template.format(**args)]
    code, err = _run_cli([*argv, *([] if shape is None else ["--input", shape])], capsys)
    event(f"exit {code}")
    assert code in (0, 1, 2)
    if code == 2:
        assert err.startswith(("error: ", "usage: ")), err
