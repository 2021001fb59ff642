"""Property tests of the pooling, normalisation, dropout and activation kinds, held to an
oracle written here.

Valid single-layer models are drawn with what this file expects of them by hand: the
output size (PyTorch's documented pooling formulas, with and without ``ceil_mode``, and
TensorFlow's 'same'), the trainable parameters and running statistics, and which
framework must refuse the layer for which documented reason (``nn.BatchNorm`` /
``nn.GroupNorm`` switch gamma and beta together). Both frameworks must then report exactly that, and
agree after the port. Invalid specs break one rule of a valid model at a time and must
raise SpecError naming the field.
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

POOLS = ("max_pool", "avg_pool")
NORMS = ("batch_norm", "layer_norm", "group_norm")
GLOBAL_POOLS = ("global_avg_pool", "global_max_pool")
ACTIVATIONS = (  # by hand, from the spec's documentation
    "linear",
    "relu",
    "relu6",
    "sigmoid",
    "tanh",
    "gelu",
    "gelu_tanh",
    "softmax",
    "elu",
    "selu",
    "leaky_relu",
    "silu",
    "softplus",
)


@dataclass
class Case:
    """A drawn single-layer model and what the oracle says both frameworks must do."""

    raw: dict[str, Any]
    channels: int
    size: tuple[int, ...]
    out_size: tuple[int, ...]  # channels are kept by every kind here
    params: int = 0
    state: int = 0  # running statistics: Keras' non-trainable weights
    refused_by: str | None = None  # "torch" or "keras"
    reason: str | None = None  # a regex of the refusal

    @property
    def layer(self) -> dict[str, Any]:
        return self.raw["layers"][0]

    @property
    def kind(self) -> str:
        return self.layer["kind"]


def _model(layer: dict[str, Any], channels: int, size: tuple[int, ...]) -> dict[str, Any]:
    return {"name": "h", "input": {"channels": channels, "size": list(size)}, "layers": [layer]}


def pool_out(n: int, k: int, s: int, p: int, ceil: bool) -> int:
    """PyTorch's pooling output size (the last window must start inside the input)."""
    if not ceil:
        return (n + 2 * p - k) // s + 1
    out = -(-(n + 2 * p - k) // s) + 1
    return out - 1 if (out - 1) * s >= n + p else out


@st.composite
def pool_cases(draw, kind: str | None = None) -> Case:
    rank = draw(st.integers(1, 2))
    size = tuple(draw(st.integers(3, 9)) for _ in range(rank))
    channels = draw(st.integers(1, 3))
    k, s = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    kind = kind or draw(st.sampled_from(POOLS))
    padding = draw(st.sampled_from(["valid", "same", k // 2]))
    layer: dict[str, Any] = {"kind": kind, "pool_size": k, "strides": s, "padding": padding}
    counts = kind == "avg_pool" and draw(st.booleans())
    if kind == "avg_pool":
        layer["count_include_pad"] = counts
    ceil = padding != "same" and draw(st.booleans())
    if padding != "same":
        layer["ceil_mode"] = ceil
    if padding == "same":
        out = tuple(-(-n // s) for n in size)
    else:
        p = 0 if padding == "valid" else padding
        out = tuple(pool_out(n, k, s, p, ceil) for n in size)
    case = Case(_model(layer, channels, size), channels, size, out)
    # Keras realises a max pool's -inf padding and ceil_mode (-inf padding, 'valid') and
    # an average's divisor (ceil_mode, padding left out) as a masked mean: nothing refuses
    return case


@st.composite
def norm_cases(draw, kind: str | None = None) -> Case:
    rank = draw(st.integers(0, 2))
    size = tuple(draw(st.integers(1, 5)) for _ in range(rank))
    groups = draw(st.integers(1, 3))
    channels = groups * draw(st.integers(1, 3))
    kind = kind or draw(st.sampled_from(NORMS))
    center, scale = draw(st.booleans()), draw(st.booleans())
    layer: dict[str, Any] = {
        "kind": kind,
        "epsilon": draw(st.sampled_from([1e-5, 1e-3, 0.1])),
        "center": center,
        "scale": scale,
    }
    n = channels
    if kind == "group_norm":
        layer["groups"] = groups
    if kind == "layer_norm":
        layer["axes"] = draw(st.sampled_from(["channels", "all"]))
        n = channels * math.prod(size) if layer["axes"] == "all" else channels
    if kind == "batch_norm":
        layer["momentum"] = draw(st.floats(0.0, 1.0))
    case = Case(_model(layer, channels, size), channels, size, size, n * (center + scale))
    if kind == "batch_norm":
        case.state = 2 * channels  # moving mean and variance
    if kind == "group_norm" and center != scale:
        # (a batch norm with one of the two is built from BatchNormNd(affine=False))
        case.refused_by, case.reason = "torch", "affine switches gamma and beta together"
    if kind == "layer_norm" and center and not scale:
        case.refused_by, case.reason = "torch", "a bias only together with elementwise_affine"
    return case


@st.composite
def other_cases(draw, kind: str | None = None) -> Case:
    """Activations, dropout and global pools: no parameters, known output sizes."""
    kind = kind or draw(st.sampled_from(["activation", "dropout", *GLOBAL_POOLS]))
    rank = draw(st.integers(1 if kind in GLOBAL_POOLS else 0, 2))
    size = tuple(draw(st.integers(1, 4)) for _ in range(rank))
    channels = draw(st.integers(2, 4))
    layer: dict[str, Any] = {"kind": kind}
    out = size
    if kind == "activation":
        layer["activation"] = draw(st.sampled_from(ACTIVATIONS))
        layer["negative_slope"] = draw(st.floats(0.0, 1.0))
        layer["alpha"] = draw(st.floats(0.1, 2.0))
    elif kind == "dropout":
        layer["rate"] = draw(st.floats(0.0, 0.9))
    else:
        layer["keepdims"] = draw(st.booleans())
        out = (1,) * rank if layer["keepdims"] else ()
    return Case(_model(layer, channels, size), channels, size, out)


FAMILIES = {"pools": pool_cases, "norms": norm_cases, "others": other_cases}


@pytest.mark.parametrize("family", sorted(FAMILIES))
@settings(max_examples=12)
@given(data=st.data())
def test_random_layers_agree_with_the_oracle_in_both_frameworks(family, data):
    case = data.draw(FAMILIES[family](), label="case")
    event(f"{case.kind} refused by {case.refused_by}")
    model = model_from_dict(case.raw)  # must be accepted: it was drawn valid
    formula = infer(model)[0]
    assert (formula.output.channels, formula.output.size) == (case.channels, case.out_size)
    assert (formula.params, formula.state) == (case.params, case.state)
    result = compare_model(model)
    layer = result.layers[0]
    shapes = {
        "torch": (None, case.channels, *case.out_size),
        "keras": (None, *case.out_size, case.channels),
    }
    for name, shape in shapes.items():
        fw = layer.frameworks[name]
        if name == case.refused_by:
            assert not fw.supported
            assert re.search(case.reason, fw.reason), fw.reason
            continue
        assert fw.supported, fw.reason
        assert fw.output_shape == shape
        assert fw.trainable_params == case.params
        if name == "keras":
            assert fw.non_trainable_params == case.state
        else:  # running statistics are buffers, plus num_batches_tracked
            assert fw.buffers == case.state + (1 if case.kind == "batch_norm" else 0)
    want = "unsupported" if case.refused_by else "ok"
    assert result.parity.status == want, result.parity


# -- invalid specs: each rule broken on purpose is rejected, naming its field ------------


@dataclass(frozen=True)
class Rule:
    """A validation rule, the kinds it applies to and how to break it: ``breaks`` takes
    (draw, the case's raw model dict, the case) and returns the broken dict and the regex
    the SpecError must match after ``model 'h', layer 0 (kind): ``."""

    name: str
    kinds: tuple[str, ...]
    breaks: Callable[..., tuple[dict[str, Any], str]]


def _set(field: str, values: list[Any], pattern: str) -> Callable[..., Any]:
    def breaks(draw, raw, case):
        raw["layers"][0][field] = draw(st.sampled_from(values))
        return raw, pattern

    return breaks


def _float(field: str, values: list[Any]) -> Callable[..., Any]:
    return _set(field, values, rf"{field}=.* must (be a number|lie in \[|be > 0)")


NOT_BOOLS = [1, 0, "yes", None, 1.0]
NOT_WINDOWS = [0, -1, True, 1.5, "2", None, [], [2, 0]]


def _pad_more_than_half(draw, raw, case):
    layer = raw["layers"][0]
    k = layer["pool_size"] = draw(st.integers(1, 3))
    layer["padding"] = p = k // 2 + draw(st.integers(1, 2))
    layer.pop("ceil_mode", None)
    return raw, rf"padding={p} on spatial axis 0 must be at most half of pool_size={k}"


def _pool_larger_than_the_input(draw, raw, case):
    layer = raw["layers"][0]
    layer.update(padding="valid", pool_size=max(case.size) + draw(st.integers(1, 2)))
    return raw, rf"pool_size={layer['pool_size']} on spatial axis 0 is larger than the padded"


def _ceil_mode_with_same(draw, raw, case):
    raw["layers"][0].update(padding="same", ceil_mode=True)
    return raw, r"ceil_mode=true needs integer or 'valid' padding, not 'same'$"


def _groups_not_dividing_channels(draw, raw, case):
    c = case.channels
    raw["layers"][0]["groups"] = g = c + draw(st.integers(1, 3))
    return raw, rf"groups={g} must divide channels={c}$"


def _groups_missing(draw, raw, case):
    del raw["layers"][0]["groups"]
    return raw, r"groups=0 must be an integer >= 1"


def _on_a_vector(draw, raw, case):
    raw["input"]["size"] = []
    kind = raw["layers"][0]["kind"]
    return raw, rf"kind='{kind}' needs an input with at least 1 spatial axes"


def _unknown_field(draw, raw, case):
    field = draw(st.sampled_from(["colour", "dilation", "units", "affine", "inplace"]))
    raw["layers"][0][field] = 1
    return raw, rf"unknown field '{field}'; fields of {case.kind}: "


TWICE = {  # canonical field -> the PyTorch spelling also accepted for it
    "pool_size": "kernel_size",
    "strides": "stride",
    "epsilon": "eps",
    "groups": "num_groups",
    "rate": "p",
}


def _alias_given_twice(draw, raw, case):
    layer = raw["layers"][0]
    canonical = draw(st.sampled_from(sorted(f for f in TWICE if f in layer)))
    layer[TWICE[canonical]] = layer[canonical]
    return raw, rf"field '{canonical}' given twice"


ALL = (*POOLS, *NORMS, *GLOBAL_POOLS, "dropout", "activation")
RULES = [
    Rule("pool_size_not_a_window", POOLS, _set("pool_size", NOT_WINDOWS, r"pool_size=.* must ")),
    # strides=None is the default: the pool's own size
    Rule(
        "strides_not_a_window",
        POOLS,
        _set("strides", [v for v in NOT_WINDOWS if v is not None], r"strides=.* must "),
    ),
    Rule(
        "padding_not_a_padding",
        POOLS,
        _set("padding", ["full", -1, True, None, [0, -1]], r"padding=.* must "),
    ),
    Rule("padding_more_than_half_the_pool", POOLS, _pad_more_than_half),
    Rule("pool_larger_than_the_input", POOLS, _pool_larger_than_the_input),
    Rule("ceil_mode_with_same", POOLS, _ceil_mode_with_same),
    Rule(
        "ceil_mode_not_a_bool",
        POOLS,
        _set("ceil_mode", NOT_BOOLS, r"ceil_mode=.* must be true or false$"),
    ),
    Rule(
        "count_include_pad_not_a_bool",
        ("avg_pool",),
        _set("count_include_pad", NOT_BOOLS, r"count_include_pad=.* must be true or false$"),
    ),
    Rule("pool_on_a_vector", (*POOLS, *GLOBAL_POOLS), _on_a_vector),
    Rule(
        "keepdims_not_a_bool",
        GLOBAL_POOLS,
        _set("keepdims", NOT_BOOLS, r"keepdims=.* must be true or false$"),
    ),
    Rule("epsilon_out_of_range", NORMS, _float("epsilon", [0, 0.0, -1e-5, 1.0, 3, float("nan")])),
    Rule("epsilon_not_a_number", NORMS, _float("epsilon", [True, "1e-5", None, [1e-5]])),
    Rule(
        "momentum_out_of_range",
        ("batch_norm",),
        _float("momentum", [-0.1, 1.5, float("nan"), float("inf"), True, "0.1", None]),
    ),
    Rule(
        "center_not_a_bool", NORMS, _set("center", NOT_BOOLS, r"center=.* must be true or false$")
    ),
    Rule("scale_not_a_bool", NORMS, _set("scale", NOT_BOOLS, r"scale=.* must be true or false$")),
    Rule(
        "axes_unknown",
        ("layer_norm",),
        _set("axes", ["spatial", "", 1, None, "ALL"], r"axes=.* must be 'channels' or 'all'$"),
    ),
    Rule(
        "groups_not_a_count",
        ("group_norm",),
        _set("groups", [0, -2, True, 1.0, "2", None], r"groups=.* must be an integer >= 1"),
    ),
    Rule("groups_missing", ("group_norm",), _groups_missing),
    Rule("groups_not_dividing_channels", ("group_norm",), _groups_not_dividing_channels),
    Rule("rate_out_of_range", ("dropout",), _float("rate", [-0.1, 1.0, 2, float("nan")])),
    Rule("rate_not_a_number", ("dropout",), _float("rate", [True, "0.5", None])),
    Rule(
        "activation_unknown",
        ("activation",),
        _set(
            "activation",
            ["softsign", "", "hard_tanh", 3, None],
            r"activation=.* (is not a known activation|must be a string)",
        ),
    ),
    Rule(
        "negative_slope_out_of_range",
        ("activation",),
        _float("negative_slope", [-0.01, -1, float("nan"), 1e7, True, "0.2"]),
    ),
    Rule("alpha_out_of_range", ("activation",), _float("alpha", [-1.0, float("nan"), None])),
    Rule("unknown_field", ALL, _unknown_field),
    Rule("alias_given_twice", (*POOLS, *NORMS, "dropout"), _alias_given_twice),
]
CASES_OF = {
    **{kind: pool_cases for kind in POOLS},
    **{kind: norm_cases for kind in NORMS},
    **{kind: other_cases for kind in (*GLOBAL_POOLS, "dropout", "activation")},
}


def test_the_rules_have_distinct_names():
    assert len({rule.name for rule in RULES}) == len(RULES)


@pytest.mark.parametrize("rule", RULES, ids=[rule.name for rule in RULES])
@settings(max_examples=8)
@given(data=st.data())
def test_a_broken_rule_is_rejected_naming_its_field(rule, data):
    kind = data.draw(st.sampled_from(rule.kinds), label="kind")
    case = data.draw(CASES_OF[kind](kind), label="valid case")
    model_from_dict(copy.deepcopy(case.raw))  # the case as drawn is valid
    bad, pattern = rule.breaks(data.draw, copy.deepcopy(case.raw), case)
    with pytest.raises(SpecError, match=rf"^model 'h', layer 0 \({kind}\): {pattern}"):
        model_from_dict(bad)
