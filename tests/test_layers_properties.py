"""Random valid pooling and normalisation specs: both frameworks agree with the formulas
and with each other after porting; random invalid ones raise SpecError only."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compare import SpecError
from compare.comparison import compare_model
from compare.formulas import infer
from compare.spec import Input, Model, layer_from_dict

SETTINGS = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def pool_models(draw):
    rank = draw(st.integers(1, 2))
    size = tuple(draw(st.lists(st.integers(3, 9), min_size=rank, max_size=rank)))
    pool = draw(st.integers(1, 3))
    stride = draw(st.integers(1, 3))
    kind = draw(st.sampled_from(["max_pool", "avg_pool"]))
    padding = draw(st.sampled_from(["valid", "same", pool // 2]))
    raw = {"kind": kind, "pool_size": pool, "strides": stride, "padding": padding}
    if kind == "avg_pool":
        raw["count_include_pad"] = draw(st.booleans())
    if padding != "same":
        raw["ceil_mode"] = draw(st.booleans())
    channels = draw(st.integers(1, 3))
    return Model("pool", Input(channels, size), (layer_from_dict(raw),))


@st.composite
def norm_models(draw):
    rank = draw(st.integers(0, 2))
    size = tuple(draw(st.lists(st.integers(1, 5), min_size=rank, max_size=rank)))
    groups = draw(st.integers(1, 3))
    channels = groups * draw(st.integers(1, 3))
    kind = draw(st.sampled_from(["batch_norm", "layer_norm", "group_norm"]))
    raw: dict = {"kind": kind, "epsilon": draw(st.sampled_from([1e-5, 1e-3, 0.1]))}
    if kind == "group_norm":
        raw["groups"] = groups
    if kind == "layer_norm":
        raw["axes"] = draw(st.sampled_from(["channels", "all"]))
    if kind == "batch_norm":
        raw["momentum"] = draw(st.floats(0.0, 1.0))
    return Model("norm", Input(channels, size), (layer_from_dict(raw),))


def _check(model, *, keras_may_refuse=False):
    formula = infer(model)[0]
    result = compare_model(model)
    layer = result.layers[0]
    if keras_may_refuse and not layer.frameworks["keras"].supported:
        # PyTorch realises every pool; Keras refusing one is a record with a reason
        assert layer.frameworks["torch"].supported
        assert layer.frameworks["torch"].output_shape == formula.output.torch()
        assert layer.frameworks["keras"].reason
        assert result.parity.status == "unsupported"
        return
    for name, expected in (("torch", formula.output.torch()), ("keras", formula.output.keras())):
        fw = layer.frameworks[name]
        assert fw.supported, fw.reason
        assert fw.output_shape == expected
        assert fw.trainable_params == formula.params
    assert layer.frameworks["keras"].non_trainable_params == formula.state
    assert result.parity.status == "ok", result.parity


@SETTINGS
@given(pool_models())
def test_random_pools_agree(model):
    _check(model, keras_may_refuse=True)


@SETTINGS
@given(norm_models())
def test_random_norms_agree(model):
    _check(model)


@settings(max_examples=40, deadline=None)
@given(
    st.sampled_from(["batch_norm", "layer_norm", "group_norm", "max_pool", "avg_pool", "dropout"]),
    st.sampled_from(["momentum", "epsilon", "groups", "pool_size", "rate", "padding", "center"]),
    st.one_of(st.integers(-3, 0), st.floats(allow_nan=True), st.text(max_size=3), st.none()),
)
def test_random_invalid_fields_raise_spec_error_only(kind, field, value):
    try:
        layer_from_dict({"kind": kind, field: value})
    except SpecError:
        pass
    except Exception as exc:  # pragma: no cover - the failure this test looks for
        pytest.fail(f"{kind}.{field}={value!r} raised {type(exc).__name__}: {exc}")


@st.composite
def activation_models(draw):
    from compare.spec_layers import ACTIVATIONS

    rank = draw(st.integers(0, 2))
    size = tuple(draw(st.lists(st.integers(1, 4), min_size=rank, max_size=rank)))
    raw = {
        "kind": "activation",
        "activation": draw(st.sampled_from(ACTIVATIONS)),
        "negative_slope": draw(st.floats(0.0, 1.0)),
        "alpha": draw(st.floats(0.1, 2.0)),
    }
    return Model("act", Input(draw(st.integers(2, 4)), size), (layer_from_dict(raw),))


@SETTINGS
@given(activation_models())
def test_random_activations_agree(model):
    _check(model)
