"""Property tests of the conv, dense and flatten kinds, held to an oracle written here.

* Valid stacks are valid by construction: every layer's fields are drawn to fit the
  shape the layer before it leaves, tracked with the textbook formulas below (PyTorch's
  documented output sizes, TensorFlow's 'same'). Validation must accept each stack,
  ``compare.formulas`` must give the same shapes and parameter counts, and both real
  frameworks must build every layer with those counts and shapes (or refuse it for the
  one documented reason) and agree after the port.
* Invalid specs break exactly one rule of a valid stack. Each rule says which field
  (or part of the model) its SpecError must name, and the stack it broke must load
  untouched, so a validation that accepted everything, or rejected everything, fails.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from compare import SpecError
from compare.comparison import compare_model
from compare.formulas import infer
from compare.spec import model_from_dict

CONV_KINDS = ("conv", "conv_transpose", "depthwise_conv", "separable_conv")


# -- the oracle: shapes and parameter counts by hand -------------------------------------


def conv_out(n: int, k: int, s: int, d: int, padding: Any) -> int:
    """Output length of a convolution on one axis (TF's 'same': ceil(n / s))."""
    if padding == "same":
        return -(-n // s)
    p = 0 if padding == "valid" else padding
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


def conv_t_out(n: int, k: int, s: int, d: int, padding: Any, op: int) -> int:
    """Output length of a transposed convolution (TF's 'same': n * s)."""
    if padding == "same":
        return n * s
    p = 0 if padding == "valid" else padding
    return (n - 1) * s - 2 * p + d * (k - 1) + op + 1


@dataclass
class Step:
    """One drawn layer: its spec and what the oracle says it must do."""

    raw: dict[str, Any]
    channels: int  # input
    size: tuple[int, ...]  # input
    out_channels: int
    out_size: tuple[int, ...]
    params: int
    keras_refuses: str | None = None  # a regex of Keras' reason, when it must refuse

    @property
    def kind(self) -> str:
        return self.raw["kind"]


def _window(draw: Any, size: tuple[int, ...], *, transpose: bool) -> dict[str, Any]:
    """Kernel, strides, padding and dilation that fit an input of ``size``."""
    strides = draw(st.integers(1, 2))
    # Keras refuses strides > 1 with dilation > 1 (the case table covers that refusal).
    # Transposed convolutions keep dilation 1: TensorFlow's CPU kernel refuses a dilated
    # one at run time (the case table's conv_transpose d2 cases show it).
    dilation = draw(st.integers(1, 2)) if strides == 1 and not transpose else 1
    paddings = ["valid", "same", 0, 1]
    if transpose:  # integer padding crops the output: keep at least one element
        paddings = [
            p
            for p in paddings
            if p == "same" or min(conv_t_out(n, 1, strides, 1, p, 0) for n in size) >= 1
        ]
    padding = draw(st.sampled_from(paddings))
    room = min(size) + (2 * padding if isinstance(padding, int) else 0)
    kernels = [
        k for k in (1, 2, 3) if transpose or padding == "same" or dilation * (k - 1) + 1 <= room
    ]
    return {
        "kernel_size": draw(st.sampled_from(kernels)),
        "strides": strides,
        "padding": padding,
        "dilation": dilation,
        "use_bias": draw(st.booleans()),
    }


@st.composite
def conv_steps(draw, kind: str, c: int, size: tuple[int, ...]) -> Step:
    transpose = kind == "conv_transpose"
    raw: dict[str, Any] = {"kind": kind, **_window(draw, size, transpose=transpose)}
    k, s, d, padding = raw["kernel_size"], raw["strides"], raw["dilation"], raw["padding"]
    bias = raw["use_bias"]
    window = k ** len(size)
    refuses = None
    if kind in ("conv", "conv_transpose"):
        filters = 2 * draw(st.integers(1, 3))
        groups = draw(st.sampled_from([g for g in (1, 2) if c % g == 0]))
        raw.update(filters=filters, groups=groups)
        params = filters * window * c // groups + (filters if bias else 0)
        out_c = filters
        if transpose and groups > 1:
            refuses = "groups"  # keras.layers.ConvNDTranspose has no groups argument
    elif kind == "depthwise_conv":
        m = draw(st.integers(1, 2))
        raw["depth_multiplier"] = m
        params = c * m * window + (c * m if bias else 0)
        out_c = c * m
    else:
        m, filters = draw(st.integers(1, 2)), draw(st.integers(1, 4))
        raw.update(depth_multiplier=m, filters=filters)
        params = c * m * window + c * m * filters + (filters if bias else 0)
        out_c = filters
    if transpose:
        op = draw(st.integers(0, max(s, d) - 1)) if padding != "same" else 0
        raw["output_padding"] = op
        out = tuple(conv_t_out(n, k, s, d, padding, op) for n in size)
    else:
        out = tuple(conv_out(n, k, s, d, padding) for n in size)
    return Step(raw, c, size, out_c, out, params, refuses)


@st.composite
def dense_steps(draw, c: int, size: tuple[int, ...]) -> Step:
    units, bias = draw(st.integers(1, 5)), draw(st.booleans())
    raw = {"kind": "dense", "units": units, "use_bias": bias}
    return Step(raw, c, size, units, size, units * c + (units if bias else 0))


def flatten_step(c: int, size: tuple[int, ...]) -> Step:
    return Step({"kind": "flatten"}, c, size, c * math.prod(size), (), 0)


@st.composite
def stacks(draw, first: tuple[str, ...] | None = None, max_layers: int = 3):
    """(raw model dict, steps): a valid stack; layer 0's kind is drawn from ``first``."""
    rank = draw(st.integers(1, 3))
    size = tuple(draw(st.integers(3, 8 if rank < 3 else 5)) for _ in range(rank))
    channels = draw(st.sampled_from([2, 3, 4]))
    c, n = channels, size
    steps: list[Step] = []
    for index in range(draw(st.integers(1, max_layers))):
        kinds = (*CONV_KINDS, "dense", "flatten") if n else ("dense", "flatten")
        kind = draw(st.sampled_from(first if index == 0 and first else kinds))
        if kind in CONV_KINDS:
            step = draw(conv_steps(kind, c, n))
        elif kind == "dense":
            step = draw(dense_steps(c, n))
        else:
            step = flatten_step(c, n)
        steps.append(step)
        c, n = step.out_channels, step.out_size
    raw = {
        "name": "h",
        "input": {"channels": channels, "size": list(size)},
        "layers": [s.raw for s in steps],
    }
    return raw, steps


# -- valid stacks: formulas and both frameworks agree with the oracle ---------------------


@pytest.mark.parametrize("first", [*CONV_KINDS, "dense", "flatten"])
@settings(max_examples=4)
@given(data=st.data())
def test_random_valid_stacks_agree_with_the_oracle_in_both_frameworks(first, data):
    raw, steps = data.draw(stacks(first=(first,)), label="valid stack")
    event(" ".join(step.kind + ("!" if step.keras_refuses else "") for step in steps))
    model = model_from_dict(raw)  # must be accepted: it was drawn valid
    formulas = infer(model)
    for step, formula in zip(steps, formulas, strict=True):
        assert (formula.output.channels, formula.output.size) == (step.out_channels, step.out_size)
        assert formula.params == step.params
    result = compare_model(model)
    assert result.error is None
    for step, layer in zip(steps, result.layers, strict=True):
        shapes = {
            "torch": (None, step.out_channels, *step.out_size),
            "keras": (None, *step.out_size, step.out_channels),
        }
        for name, shape in shapes.items():
            fw = layer.frameworks[name]
            if name == "keras" and step.keras_refuses:
                assert not fw.supported
                assert re.search(step.keras_refuses, fw.reason), fw.reason
                continue
            assert fw.supported, fw.reason
            assert fw.params == step.params
            assert fw.output_shape == shape
        want = "unsupported" if step.keras_refuses else "ok"
        assert layer.parity.status == want, layer.parity


# -- invalid specs: each rule broken on purpose is rejected, naming its field ------------


@dataclass(frozen=True)
class Rule:
    """A validation rule and how to break it.

    ``kinds``: the layer kinds it applies to (None: the model or its input). ``breaks``
    takes (draw, raw model dict, steps, layer index) and returns the broken dict and the
    regex the SpecError must match after the ``model 'h', layer i (kind): `` prefix.
    """

    name: str
    kinds: tuple[str, ...] | None
    breaks: Callable[..., tuple[dict[str, Any], str]]
    prefix: bool = True  # the message opens with the layer's index and kind
    first_only: bool = False  # it breaks layer 0


COUNT_FIELDS = {  # integer fields >= 1
    "filters": ("conv", "conv_transpose", "separable_conv"),
    "groups": ("conv", "conv_transpose"),
    "depth_multiplier": ("depthwise_conv", "separable_conv"),
    "units": ("dense",),
}
BAD_COUNTS = st.sampled_from([0, -1, True, False, 2.0, "3", None, [2]])
BAD_WINDOWS = st.sampled_from([0, -2, True, 1.5, "3", None, [], [1, 0]])
BAD_PADDINGS = st.sampled_from(["full", "causal", -1, True, 1.5, None, [0, -1], []])
BAD_BOOLS = st.sampled_from([1, 0, "yes", "true", None, 1.0])


def _set(field: str, value: Any, pattern: str) -> Callable[..., tuple[dict[str, Any], str]]:
    def breaks(draw, raw, steps, i):
        raw["layers"][i][field] = draw(value) if isinstance(value, st.SearchStrategy) else value
        return raw, pattern

    return breaks


def _count(field: str) -> Rule:
    return Rule(
        f"{field}_not_a_count",
        COUNT_FIELDS[field],
        _set(field, BAD_COUNTS, rf"{field}=.* must be an integer >= 1"),
    )


def _missing(field: str) -> Rule:
    def breaks(draw, raw, steps, i):
        del raw["layers"][i][field]
        return raw, rf"{field}=0 must be an integer >= 1"

    return Rule(f"{field}_missing", COUNT_FIELDS[field], breaks)


def _window_field(field: str) -> Rule:
    return Rule(
        f"{field}_not_a_window",
        CONV_KINDS,
        _set(field, BAD_WINDOWS, rf"{field}=.* must (be|hold) (an )?integers? "),
    )


def _wrong_length(draw, raw, steps, i):
    field = draw(st.sampled_from(["kernel_size", "strides", "dilation", "padding"]))
    rank = len(steps[i].size)
    raw["layers"][i][field] = [1] * (rank + 1)
    return raw, rf"{field}=\[[1, ]+\] has {rank + 1} values but the input has {rank} spatial axes"


def _groups_not_dividing_filters(draw, raw, steps, i):
    layer = raw["layers"][i]
    layer["groups"] = layer["filters"] + 1
    return raw, rf"groups={layer['groups']} must divide filters={layer['filters']}$"


def _groups_not_dividing_channels(draw, raw, steps, i):
    layer, c = raw["layers"][i], steps[i].channels
    layer["groups"] = c + 1
    layer["filters"] = layer["groups"] * draw(st.integers(1, 2))
    return raw, rf"groups={c + 1} must divide filters={layer['filters']} and channels={c}$"


def _not_same(layer: dict[str, Any]) -> int:
    """Make ``layer``'s padding explicit (not 'same') and return it per side."""
    if layer["padding"] == "same":
        layer["padding"] = "valid"
        layer.pop("output_padding", None)
    return 0 if layer["padding"] == "valid" else layer["padding"]


def _kernel_too_large(draw, raw, steps, i):
    layer = raw["layers"][i]
    p = _not_same(layer)
    k = max(steps[i].size) + 2 * p + draw(st.integers(1, 2))
    layer["kernel_size"] = k
    return raw, rf"kernel_size={k}( \(dilated to \d+\))? on spatial axis 0 is larger than the "


def _dilation_too_large(draw, raw, steps, i):
    layer = raw["layers"][i]
    p = _not_same(layer)
    layer.update(kernel_size=2, strides=1)
    layer["dilation"] = max(steps[i].size) + 2 * p + draw(st.integers(0, 1))
    dilated = layer["dilation"] + 1
    return raw, rf"kernel_size=2 \(dilated to {dilated}\) on spatial axis 0 is larger than the "


def _output_padding_too_large(draw, raw, steps, i):
    layer = raw["layers"][i]
    _not_same(layer)
    s, d = layer["strides"], layer["dilation"]
    layer["output_padding"] = op = max(s, d) + draw(st.integers(0, 1))
    return raw, rf"output_padding={op} on spatial axis 0 must be smaller than strides={s} or "


def _output_padding_with_same(draw, raw, steps, i):
    layer = raw["layers"][i]
    layer.update(padding="same", strides=2, output_padding=1)
    return raw, r"output_padding=1 needs integer or 'valid' padding"


def _transpose_crops_everything(draw, raw, steps, i):
    layer = raw["layers"][i]
    _not_same(layer)
    k, s, d = layer["kernel_size"], layer["strides"], layer["dilation"]
    op = layer.get("output_padding", 0)
    full = max((n - 1) * s + d * (k - 1) + 1 + op for n in steps[i].size)
    layer["padding"] = p = -(-full // 2) + draw(st.integers(0, 1))
    return raw, rf"padding={p} on spatial axis 0 crops the whole output"


def _ranked_kind_of_another_rank(draw, raw, steps, i):
    layer, rank = raw["layers"][i], len(steps[i].size)
    other = draw(st.sampled_from([r for r in (1, 2, 3) if r != rank]))
    kind = layer["kind"]
    layer["kind"] = f"{kind}{other}d"
    return raw, rf"kind='{kind}{other}d' needs a {other}-d input, but the input is {rank}-d"


def _after_a_flatten(draw, raw, steps, i):
    raw["layers"].insert(i, {"kind": "flatten"})
    kind = raw["layers"][i + 1]["kind"]
    pattern = rf"layer {i + 1} \({kind}\): kind='{kind}' needs spatial axes, but its input is "
    return raw, "^model 'h', " + pattern


def _on_a_vector_input(draw, raw, steps, i):
    raw["input"]["size"] = []
    del raw["layers"][1:]  # layer 0 fails; the rest would be checked against the vector
    kind = raw["layers"][0]["kind"]
    return raw, rf"kind='{kind}' needs an input with at least 1 spatial axes"


def _unknown_field(draw, raw, steps, i):
    kind = raw["layers"][i]["kind"]
    field = draw(st.sampled_from(["colour", "padding_mode", "bias_initializer", "size"]))
    if kind == "flatten":
        field = draw(st.sampled_from([field, "units", "filters"]))
    raw["layers"][i][field] = 1
    return raw, rf"unknown field '{field}'; fields of {kind}: "


ALIASES = {
    "filters": "out_channels",
    "strides": "stride",
    "use_bias": "bias",
    "units": "out_features",
}


def _alias_given_twice(draw, raw, steps, i):
    layer = raw["layers"][i]
    canonical = draw(st.sampled_from(sorted(f for f in ALIASES if f in layer)))
    layer[ALIASES[canonical]] = layer[canonical]
    return raw, rf"field '{canonical}' given twice"


def _unknown_kind(draw, raw, steps, i):
    kind = draw(st.sampled_from(["pool", "conv4d", "Dense2", "", "maxpool", "lstm2d"]))
    raw["layers"][i]["kind"] = kind
    return raw, rf"^model 'h', layer {i}: unknown kind={re.escape(repr(kind))}; known kinds: "


def _kind_not_a_string(draw, raw, steps, i):
    raw["layers"][i]["kind"] = draw(st.sampled_from([3, None, ["conv"], True]))
    return raw, rf"^model 'h', layer {i}: kind=.* must be a string$"


def _kind_missing(draw, raw, steps, i):
    del raw["layers"][i]["kind"]
    return raw, rf"^model 'h', layer {i}: field 'kind' is missing$"


def _layer_not_a_table(draw, raw, steps, i):
    raw["layers"][i] = draw(st.sampled_from(["conv", 3, None, ["conv", 3]]))
    return raw, rf"^model 'h', layer {i}: must be a table/object with a 'kind'"


def _input(change: Callable[[Any, dict[str, Any]], str]) -> Callable[..., Any]:
    def breaks(draw, raw, steps, i):
        return raw, change(draw, raw)

    return breaks


def _bad_channels(draw, raw):
    raw["input"]["channels"] = draw(st.sampled_from([0, -2, True, 2.5, "4", None, [4]]))
    return r"^model 'h': input\.channels=.* must be an integer >= 1"


def _no_channels(draw, raw):
    del raw["input"]["channels"]
    return r"^model 'h': input\.channels is missing$"


def _bad_size(draw, raw):
    raw["input"]["size"] = draw(
        st.sampled_from([5, "8", None, [4, 0], [3, -1], [True, 4], [2.0], [2, 2, 2, 2]])
    )
    return r"^model 'h': input\.size=.* must (be a list|hold positive|have at most 3 axes)"


def _bad_dtype(draw, raw):
    raw["input"]["dtype"] = draw(st.sampled_from(["float32", "int8", 1, None]))
    return r"^model 'h': input\.dtype=.* must be one of 'float', 'int'"


def _unknown_input_field(draw, raw):
    field = draw(st.sampled_from(["layout", "shape", "batch"]))
    raw["input"][field] = 1
    return rf"^model 'h': unknown input field\(s\) {field}$"


def _input_not_a_table(draw, raw):
    raw["input"] = draw(st.sampled_from([[1, 28, 28], "1x28x28", None, 3]))
    return r"^model 'h': input=.* must be a table like"


def _unknown_model_field(draw, raw):
    field = draw(st.sampled_from(["inputs", "layer", "seed"]))
    raw[field] = 1
    return rf"^model 'h': unknown field\(s\) {field}; a model has name, input, layers"


def _no_layers(draw, raw):
    raw["layers"] = draw(st.sampled_from([[], (), "conv", {"kind": "flatten"}, None]))
    return r"^model 'h': layers must (hold at least one layer|be a list of layer tables)$"


def _blank_name(draw, raw):
    raw["name"] = draw(st.sampled_from(["", " ", "   "]))
    return r"^model name='\s*' must be a non-empty string$"


RULES = [
    *(_count(field) for field in COUNT_FIELDS),
    _missing("filters"),
    _missing("units"),
    *(_window_field(field) for field in ("kernel_size", "strides", "dilation")),
    Rule("padding_not_a_padding", CONV_KINDS, _set("padding", BAD_PADDINGS, r"padding=.* must ")),
    Rule(
        "output_padding_negative",
        ("conv_transpose",),
        _set("output_padding", st.sampled_from([-1, [-1], True]), r"output_padding=.* must "),
    ),
    Rule(
        "use_bias_not_a_bool",
        (*CONV_KINDS, "dense"),
        _set("use_bias", BAD_BOOLS, r"use_bias=.* must be true or false$"),
    ),
    Rule(
        "activation_unknown",
        (*CONV_KINDS, "dense"),
        _set(
            "activation",
            st.sampled_from(["softsign", "", "hard_tanh", 3, None]),
            r"activation=.* (is not a known activation|must be a string)",
        ),
    ),
    Rule("per_axis_list_of_the_wrong_length", CONV_KINDS, _wrong_length),
    Rule("groups_not_dividing_filters", ("conv", "conv_transpose"), _groups_not_dividing_filters),
    Rule("groups_not_dividing_channels", ("conv", "conv_transpose"), _groups_not_dividing_channels),
    Rule(
        "kernel_larger_than_the_input",
        ("conv", "depthwise_conv", "separable_conv"),
        _kernel_too_large,
    ),
    Rule(
        "dilated_kernel_larger_than_the_input",
        ("conv", "depthwise_conv", "separable_conv"),
        _dilation_too_large,
    ),
    Rule("output_padding_not_below_strides", ("conv_transpose",), _output_padding_too_large),
    Rule("output_padding_with_same", ("conv_transpose",), _output_padding_with_same),
    Rule("transpose_padding_crops_everything", ("conv_transpose",), _transpose_crops_everything),
    Rule("ranked_kind_of_another_rank", CONV_KINDS, _ranked_kind_of_another_rank),
    Rule("spatial_kind_after_a_flatten", CONV_KINDS, _after_a_flatten, prefix=False),
    Rule("spatial_kind_on_a_vector_input", CONV_KINDS, _on_a_vector_input, first_only=True),
    Rule("unknown_field", (*CONV_KINDS, "dense", "flatten"), _unknown_field),
    Rule("alias_given_twice", (*CONV_KINDS, "dense"), _alias_given_twice),
    Rule("unknown_kind", (*CONV_KINDS, "dense", "flatten"), _unknown_kind, prefix=False),
    Rule("kind_not_a_string", (*CONV_KINDS, "dense", "flatten"), _kind_not_a_string, prefix=False),
    Rule("kind_missing", (*CONV_KINDS, "dense", "flatten"), _kind_missing, prefix=False),
    Rule("layer_not_a_table", (*CONV_KINDS, "dense", "flatten"), _layer_not_a_table, prefix=False),
    Rule("input_channels_not_a_count", None, _input(_bad_channels), prefix=False),
    Rule("input_channels_missing", None, _input(_no_channels), prefix=False),
    Rule("input_size_not_a_size", None, _input(_bad_size), prefix=False),
    Rule("input_dtype_unknown", None, _input(_bad_dtype), prefix=False),
    Rule("input_unknown_field", None, _input(_unknown_input_field), prefix=False),
    Rule("input_not_a_table", None, _input(_input_not_a_table), prefix=False),
    Rule("model_unknown_field", None, _input(_unknown_model_field), prefix=False),
    Rule("model_without_layers", None, _input(_no_layers), prefix=False),
    Rule("model_name_blank", None, _input(_blank_name), prefix=False),
]


def test_the_rules_have_distinct_names():
    assert len({rule.name for rule in RULES}) == len(RULES)


@pytest.mark.parametrize("rule", RULES, ids=[rule.name for rule in RULES])
@settings(max_examples=8)
@given(data=st.data())
def test_a_broken_rule_is_rejected_naming_its_field(rule, data):
    raw, steps = data.draw(stacks(first=rule.kinds), label="valid stack")
    model_from_dict(copy.deepcopy(raw))  # the stack as drawn is valid
    index = 0
    if rule.kinds is not None and not rule.first_only:
        fits = [i for i, step in enumerate(steps) if step.kind in rule.kinds]
        index = data.draw(st.sampled_from(fits), label="layer")
    bad, pattern = rule.breaks(data.draw, copy.deepcopy(raw), steps, index)
    if rule.prefix:
        kind = re.escape(steps[index].kind)
        pattern = rf"^model 'h', layer {index} \({kind}\): {pattern}"
    with pytest.raises(SpecError, match=pattern):
        model_from_dict(bad)


# -- anything at all: SpecError or a model that round-trips, never another exception -----

junk = st.one_of(
    st.integers(-3, 12),
    st.booleans(),
    st.floats(allow_nan=True),
    st.text(max_size=4),
    st.lists(st.integers(-1, 4), max_size=4),
    st.none(),
)
WINDOW = {"kernel_size", "strides", "dilation", "padding", "use_bias", "activation"}
FIELDS = {  # each kind's fields, by hand from the spec's documentation
    "conv": {"filters", "groups", *WINDOW},
    "conv2d": {"filters", "groups", *WINDOW},
    "conv_transpose": {"filters", "groups", "output_padding", *WINDOW},
    "depthwise_conv": {"depth_multiplier", *WINDOW},
    "separable_conv": {"filters", "depth_multiplier", *WINDOW},
    "dense": {"units", "use_bias", "activation"},
    "flatten": set(),
}
REQUIRED = {"conv": "filters", "conv2d": "filters", "conv_transpose": "filters"}
REQUIRED |= {"separable_conv": "filters", "dense": "units"}
ALIAS_OF = {"stride": "strides", "bias": "use_bias"}


def _not_an_int(value: Any, minimum: int, *, lists: bool) -> bool:
    """Whether ``value`` breaks "an integer >= minimum (or a non-empty list of them)"."""

    def bad(v: Any) -> bool:
        return isinstance(v, bool) or not isinstance(v, int) or v < minimum

    if lists and isinstance(value, list):
        return not value or any(bad(v) for v in value)
    return bad(value)


def _must_fail(kind: Any, fields: dict[str, Any], channels: Any, size: Any) -> bool:
    """Whether the oracle sees a broken rule that needs no shape arithmetic."""
    if _not_an_int(channels, 1, lists=False):
        return True
    if (
        not isinstance(size, list)
        or len(size) > 3
        or any(_not_an_int(n, 1, lists=False) for n in size)
    ):
        return True
    if kind not in FIELDS:
        return True
    names = [ALIAS_OF.get(f, f) for f in fields]
    if len(set(names)) < len(names) or not set(names) <= FIELDS[kind]:
        return True  # a field given twice, or one the kind does not have
    if kind in REQUIRED and REQUIRED[kind] not in names:
        return True
    for field, value in fields.items():
        field = ALIAS_OF.get(field, field)
        if field in ("filters", "groups", "depth_multiplier", "units"):
            broken = _not_an_int(value, 1, lists=False)
        elif field in ("kernel_size", "strides", "dilation"):
            broken = _not_an_int(value, 1, lists=True)
        elif field == "output_padding":
            broken = _not_an_int(value, 0, lists=True)
        elif field == "padding":
            broken = (
                value.lower() not in ("valid", "same")
                if isinstance(value, str)
                else _not_an_int(value, 0, lists=True)
            )
        elif field == "use_bias":
            broken = not isinstance(value, bool)
        else:
            broken = False
        if broken:
            return True
    return False


@settings(max_examples=300)
@given(
    kind=st.sampled_from([*CONV_KINDS, "dense", "flatten", "conv2d", "pool", 3]),
    fields=st.dictionaries(
        st.sampled_from(
            [
                "filters",
                "kernel_size",
                "strides",
                "padding",
                "dilation",
                "groups",
                "use_bias",
                "output_padding",
                "depth_multiplier",
                "units",
                "stride",
                "bias",
                "colour",
            ]
        ),
        junk,
        max_size=5,
    ),
    channels=junk,
    size=junk,
)
def test_junk_is_a_spec_error_or_a_model_that_round_trips(kind, fields, channels, size):
    """Random values: a SpecError naming the model, or, only where no rule the oracle
    knows is broken, a model that loads back from its own ``to_dict``."""
    raw = {
        "name": "r",
        "input": {"channels": channels, "size": size},
        "layers": [{"kind": kind, **fields}],
    }
    try:
        model = model_from_dict(raw)
    except SpecError as exc:
        assert str(exc).startswith("model 'r'"), str(exc)
        return
    assert not _must_fail(kind, fields, channels, size), f"accepted {raw}"
    again = model_from_dict(
        {
            "name": "r",
            "input": model.input.to_dict(),
            "layers": [layer.to_dict() for layer in model.layers],
        }
    )
    assert again == model
