"""Lazy imports, shape-only mode and worker processes: functional checks (no timings)."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

import compare
from compare.comparison import SHAPE_ONLY, compare_model
from compare.errors import SpecError
from compare.jobs import compare_parallel
from compare.spec import model_from_dict

FRAMEWORK_MODULES = ("torch", "tensorflow", "keras")

BAD_SPEC = """
[[models]]
name = "bad"
input = {channels = 1, size = [8, 8]}
layers = [{kind = "conv", filters = 0, kernel_size = 3}]
"""


def _loaded_after(code: str) -> list[str]:
    """Framework modules present in sys.modules after ``code`` runs in a fresh interpreter."""
    probe = textwrap.dedent(code) + textwrap.dedent(
        f"""
        import sys
        print(" ".join(m for m in {FRAMEWORK_MODULES!r} if m in sys.modules))
        """
    )
    env = {**os.environ, "KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "3"}
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True
    )
    return out.stdout.split()


def test_import_compare_loads_no_framework():
    assert _loaded_after("import compare; compare.Conv; compare.SpecError") == []


def test_help_loads_no_framework():
    code = """
        import contextlib, io
        from compare.cli import main
        with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
            main(["report", "--help"])
    """
    assert _loaded_after(code) == []


def test_bad_spec_file_loads_no_framework(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(BAD_SPEC)
    code = f"""
        import contextlib, io
        from compare.cli import main
        with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
            assert main(["show", {str(path)!r}]) == 1
    """
    assert _loaded_after(code) == []


def test_the_probe_sees_frameworks_when_they_load():
    assert "torch" in _loaded_after("import compare.adapters.torch")


# -- shape-only mode ---------------------------------------------------------------

SHAPE_CASES = {
    "seed": None,
    "conv3d_same_strided": {
        "input": {"channels": 3, "size": [9, 8, 7]},
        "layers": [
            {"kind": "conv", "filters": 4, "kernel_size": 3, "strides": 2, "padding": "same"}
        ],
    },
    "transpose_int_padding": {
        "input": {"channels": 2, "size": [6, 6]},
        "layers": [
            {"kind": "conv_transpose", "filters": 3, "kernel_size": 3, "strides": 2, "padding": 1}
        ],
    },
    "separable_then_dense": {
        "input": {"channels": 4, "size": [10]},
        "layers": [
            {"kind": "separable_conv", "filters": 6, "kernel_size": 3, "depth_multiplier": 2},
            {"kind": "flatten"},
            {"kind": "dense", "units": 5},
        ],
    },
}


def _model(name, cases=SHAPE_CASES):
    raw = cases[name]
    return compare.seed_model() if raw is None else model_from_dict({"name": name, **raw})


def _facts(result):
    out = []
    for layer in result.layers:
        for name, fw in layer.frameworks.items():
            weights = [(w.name, w.shape, w.axes, w.trainable) for w in fw.weights]
            out.append(
                (
                    layer.index,
                    name,
                    fw.classes,
                    weights,
                    fw.trainable_params,
                    fw.non_trainable_params,
                    fw.buffers,
                    fw.output_shape,
                )
            )
    return out


@pytest.fixture(scope="module", params=sorted(SHAPE_CASES))
def full_and_shapes(request):
    model = _model(request.param)
    return compare_model(model), compare_model(model, parity=False)


def test_shape_only_reports_the_same_facts_as_a_full_build(full_and_shapes):
    full, shapes = full_and_shapes
    assert full.status == "ok"
    assert _facts(shapes) == _facts(full)
    assert shapes.totals() == full.totals()


def test_shape_only_skips_parity_and_naive_measurements(full_and_shapes):
    full, shapes = full_and_shapes
    assert shapes.status == "skipped" and shapes.parity.detail == SHAPE_ONLY
    assert {layer.parity.status for layer in shapes.layers} == {"skipped"}
    assert not any(d.measured for _, d in shapes.differences)
    assert [(i, d.what) for i, d in shapes.differences] == [
        (i, d.what) for i, d in full.differences
    ]


@pytest.mark.parametrize("kind", ["lstm", "gru", "simple_rnn"])
def test_shape_only_builds_a_recurrent_layer(kind):
    model = model_from_dict(
        {
            "name": "r",
            "input": {"channels": 4, "size": [6]},
            "layers": [{"kind": kind, "units": 5}],
        }
    )
    result = compare_model(model, parity=False)
    assert result.status == "skipped"
    assert result.totals()["torch"]["params"] == compare_model(model).totals()["torch"]["params"]


# -- --no-diagnostics: the same facts and parity, without the extra measurements --------

LEAN_CASES = {
    **SHAPE_CASES,
    "norm_act_pool": {
        "input": {"channels": 3, "size": [8, 8]},
        "layers": [
            {"kind": "conv", "filters": 4, "kernel_size": 3, "padding": "same"},
            {"kind": "batch_norm"},
            {"kind": "activation", "activation": "relu"},
            {"kind": "max_pool", "pool_size": 2},
        ],
    },
}


@pytest.fixture(scope="module", params=sorted(LEAN_CASES))
def full_and_lean(request):
    model = _model(request.param, LEAN_CASES)
    return compare_model(model), compare_model(model, diagnostics=False)


def test_no_diagnostics_keeps_facts_parity_and_differences(full_and_lean):
    full, lean = full_and_lean
    assert full.status == lean.status == "ok"
    assert _facts(lean) == _facts(full)
    assert lean.totals() == full.totals()
    # the same weights and inputs: the measurements skipped do not disturb the run
    assert [layer.parity for layer in lean.layers] == [layer.parity for layer in full.layers]
    assert lean.parity == full.parity
    assert [layer.defaults for layer in lean.layers] == [layer.defaults for layer in full.layers]
    assert [(i, d.what) for i, d in lean.differences] == [(i, d.what) for i, d in full.differences]
    # a naive port that cannot run adds its reason to the full report's detail
    for (_, short), (_, long) in zip(lean.differences, full.differences):
        assert long.detail.startswith(short.detail)


def test_no_diagnostics_skips_naive_ports_and_initialisers(full_and_lean):
    full, lean = full_and_lean
    assert any(layer.initialisers for layer in full.layers)
    assert not any(layer.initialisers for layer in lean.layers)
    if any(layer.kind in ("conv", "dense", "conv_transpose") for layer in full.layers):
        assert any(d.measured for _, d in full.differences)
    assert not any(d.measured for _, d in lean.differences)


def test_unread_keras_weights_are_not_drawn():
    """``keep_fresh=False`` (what ``diagnostics=False`` builds with): the Keras side of a
    plain spec holds zeros until the port, its initialiser objects stay the layer's
    own, and torch's side is drawn as usual (it is the port's source)."""
    import numpy as np

    from compare.adapters import get_adapter
    from compare.parity import build

    model = _model("conv3d_same_strided")
    drawn, lean = build(model), build(model, keep_fresh=False)

    def weights(pair, name):
        return get_adapter(name).get_weights(pair.sides[name].layers[0])

    assert np.abs(weights(drawn, "keras")["kernel"]).max() > 0
    assert not any(a.any() for a in weights(lean, "keras").values())
    (conv,) = [p for p in lean.sides["keras"].layers[0].obj if hasattr(p, "kernel")]
    assert type(conv.kernel_initializer).__name__ == "GlorotUniform"
    torch_lean = weights(lean, "torch")
    assert all(np.array_equal(a, weights(drawn, "torch")[r]) for r, a in torch_lean.items())
    lean.port(src="torch")
    ported = weights(lean, "keras")["kernel"]
    assert np.array_equal(ported, np.transpose(torch_lean["kernel"], (2, 3, 4, 1, 0)))


def test_show_no_diagnostics_json():
    out = _cli("show", "--no-diagnostics", "--format", "json")
    assert out.returncode == 0, out.stderr
    model = json.loads(out.stdout)["models"][0]
    assert model["status"] == "ok"
    assert model["totals"]["keras"]["params"] == 49378
    assert all(layer["initialisers"] == [] for layer in model["layers"])
    differences = [d for layer in model["layers"] for d in layer["differences"]]
    assert differences and not any("naive_max_abs_err" in d for d in differences)


def test_shape_only_allocates_no_weights_on_either_side():
    import torch

    from compare.adapters import get_adapter
    from compare.formulas import infer
    from compare.spec import Conv, Input, Model

    model = Model("big", Input(1024, (8, 8, 8)), (Conv(filters=1024, kernel_size=5),))
    formula = infer(model)[0]
    built_t = get_adapter("torch").build(model.layers[0], formula, 0, "float32", shape_only=True)
    assert all(p.device == torch.device("meta") for p in built_t.obj.parameters())
    keras_adapter = get_adapter("keras")
    built_k = keras_adapter.build(model.layers[0], formula, 0, "float32", shape_only=True)
    try:
        kernel = built_k.obj[0].kernel
        assert tuple(kernel.shape) == (5, 5, 5, 1024, 1024)
        assert kernel._value is None  # Keras' deferred initialisation: no tensor behind it
    finally:
        keras_adapter.clear()


def test_shape_only_131m_parameter_conv3d():
    model = model_from_dict(
        {
            "name": "big",
            "input": {"channels": 1024, "size": [8, 8, 8]},
            "layers": [{"kind": "conv", "filters": 1024, "kernel_size": 5}],
        }
    )
    result = compare_model(model, parity=False)
    assert result.status == "skipped"
    totals = result.totals()
    assert totals["torch"]["params"] == totals["keras"]["params"] == totals["formula_params"]
    assert totals["formula_params"] == 1024 * 5**3 * 1024 + 1024
    assert result.layers[0].frameworks["keras"].output_shape == (None, 4, 4, 4, 1024)


# -- worker processes --------------------------------------------------------------


def test_jobs_rejects_bad_counts():
    with pytest.raises(ValueError, match="jobs=0 must be an integer >= 1"):
        compare_parallel([], 0)


def test_spec_errors_stay_in_order_without_workers():
    err = SpecError("model 'x': broken")
    results = compare_parallel([err, err], 2)
    assert [r.status for r in results] == ["error", "error"]


JOBS_SPEC = """
[[models]]
name = "a"
input = {channels = 1, size = [8, 8]}
layers = [{kind = "conv", filters = 2, kernel_size = 3}, {kind = "flatten"},
          {kind = "dense", units = 3}]

[[models]]
name = "bad"
input = {channels = 1, size = [8, 8]}
layers = [{kind = "conv", filters = 0, kernel_size = 3}]

[[models]]
name = "b"
input = {channels = 2, size = [7]}
layers = [{kind = "conv", filters = 3, kernel_size = 2, padding = "same", strides = 2}]

[[models]]
name = "c"
input = {channels = 3, size = [5, 5]}
layers = [{kind = "depthwise_conv", kernel_size = 3, depth_multiplier = 2}]
"""


def _cli(*args):
    env = {**os.environ, "KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run(
        [sys.executable, "-m", "compare", *args], capture_output=True, text=True, env=env
    )


def test_report_with_two_jobs_is_byte_identical_to_serial(tmp_path):
    spec = tmp_path / "specs.toml"
    spec.write_text(JOBS_SPEC)
    serial = _cli("report", str(spec), "-o", str(tmp_path / "serial"))
    parallel = _cli("report", str(spec), "-o", str(tmp_path / "parallel"), "--jobs", "2")
    assert serial.returncode == parallel.returncode == 1  # the bad model
    for name in ("report.md", "report.json"):
        one = (tmp_path / "serial" / name).read_bytes()
        two = (tmp_path / "parallel" / name).read_bytes()
        assert one == two, name
    doc = json.loads((tmp_path / "serial" / "report.json").read_text())
    assert [m["name"] for m in doc["models"]] == ["a", "bad", "b", "c"]
    assert [m["status"] for m in doc["models"]] == ["ok", "error", "ok", "ok"]


def test_show_no_parity_exits_zero(tmp_path):
    out = _cli("show", "--no-parity", "--format", "json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["models"][0]["status"] == "skipped"


def test_jobs_option_rejects_zero():
    out = _cli("report", "--jobs", "0")
    assert out.returncode == 2 and "--jobs='0': must be an integer >= 1" in out.stderr


# -- naive ports measured through torch -------------------------------------------


@pytest.mark.parametrize("index", [1, 3], ids=["conv", "dense_after_flatten"])
def test_naive_keras_port_through_torch_equals_running_keras(index):
    """The cheap route (torch with the naive weights moved back) computes what the naive
    Keras layer computes: checked against Keras itself running those weights."""
    import numpy as np

    from compare import layouts
    from compare.adapters import get_adapter
    from compare.naive import Context, keras_port_in_torch
    from compare.parity import build

    pair = build(compare.seed_model())
    pair.port(src="torch")
    torch_a, keras_a = get_adapter("torch"), get_adapter("keras")
    x_t = np.random.default_rng(1).standard_normal((2, 1, 28, 28)).astype("float32")
    for i in range(index):
        x_t = torch_a.run(pair.sides["torch"].layers[i], x_t)
    x_k = layouts.activation_to_keras(x_t, pair.formulas[index].input)
    built_t, built_k = pair.sides["torch"].layers[index], pair.sides["keras"].layers[index]
    y_t, y_k = torch_a.run(built_t, x_t), keras_a.run(built_k, x_k)
    ctx = Context(pair, index, x_t, x_k, y_t, y_k)
    keras_w = keras_a.get_weights(built_k)
    naive = dict(keras_w)
    naive["kernel"] = torch_a.get_weights(built_t)["kernel"].reshape(keras_w["kernel"].shape)
    by_keras = keras_a.run_with(built_k, naive, x_k)
    by_torch = layouts.activation_to_keras(
        keras_port_in_torch(ctx, naive), pair.formulas[index].output
    )
    assert np.abs(by_keras - y_k).max() > 0.1  # the naive port is really wrong
    np.testing.assert_allclose(by_torch, by_keras, rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(keras_a.run(built_k, x_k), y_k)  # weights untouched
