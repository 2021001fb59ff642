"""Property-based tests: random valid stacks agree with the formulas in both frameworks
and stay in parity; random (mostly invalid) specs raise SpecError and nothing else."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compare import SpecError
from compare.comparison import compare_model
from compare.formulas import infer
from compare.spec import model_from_dict

KINDS = ("conv", "conv_transpose", "depthwise_conv", "separable_conv", "dense", "flatten")


@st.composite
def layer_dicts(draw, kind=None):
    kind = kind or draw(st.sampled_from(KINDS))
    spec = {"kind": kind}
    if kind in ("conv", "conv_transpose", "depthwise_conv", "separable_conv"):
        spec["kernel_size"] = draw(st.integers(1, 3))
        spec["strides"] = draw(st.integers(1, 2))
        spec["padding"] = draw(st.sampled_from(["valid", "same", 0, 1]))
        spec["use_bias"] = draw(st.booleans())
        if spec["strides"] == 1:
            spec["dilation"] = draw(st.integers(1, 2))
    if kind in ("conv", "conv_transpose", "separable_conv"):
        spec["filters"] = draw(st.integers(1, 4)) * 2
    if kind in ("conv", "conv_transpose"):
        spec["groups"] = draw(st.sampled_from([1, 2]))
    if kind in ("depthwise_conv", "separable_conv"):
        spec["depth_multiplier"] = draw(st.integers(1, 2))
    if kind == "dense":
        spec["units"] = draw(st.integers(1, 5))
    return spec


@st.composite
def valid_models(draw):
    rank = draw(st.integers(1, 3))
    size = [draw(st.integers(5, 9)) for _ in range(rank)]
    channels = draw(st.sampled_from([2, 4]))
    layers = draw(st.lists(layer_dicts(), min_size=1, max_size=3))
    raw = {"name": "h", "input": {"channels": channels, "size": size}, "layers": layers}
    try:
        return model_from_dict(raw)
    except SpecError:
        from hypothesis import reject

        reject()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(valid_models())
def test_random_valid_stacks_agree_with_formulas_and_port(model):
    result = compare_model(model)
    assert result.error is None
    for layer, formula in zip(result.layers, infer(model), strict=True):
        for name in ("torch", "keras"):
            fw = layer.frameworks[name]
            if not fw.supported:
                assert name == "keras"
                assert "Keras refuses it" in fw.reason or "refuses dilation_rate > 1" in fw.reason
                continue
            assert fw.params == formula.params
            expected = formula.output.torch() if name == "torch" else formula.output.keras()
            assert fw.output_shape == expected
        assert layer.parity.status in ("ok", "unsupported"), layer.parity


junk = st.one_of(
    st.integers(-3, 12),
    st.booleans(),
    st.floats(allow_nan=True),
    st.text(max_size=4),
    st.lists(st.integers(-1, 4), max_size=4),
    st.none(),
)


@settings(max_examples=300, deadline=None)
@given(
    kind=st.sampled_from([*KINDS, "conv2d", "pool", 3]),
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
def test_random_specs_raise_spec_error_and_nothing_else(kind, fields, channels, size):
    raw = {
        "name": "r",
        "input": {"channels": channels, "size": size},
        "layers": [{"kind": kind, **fields}],
    }
    try:
        model_from_dict(raw)
    except SpecError as exc:
        assert str(exc)
