"""The built-in catalogue: every model loads, compares, and the whole covers the design space.

Coverage is computed from the loaded, resolved specs (and their formulas), so removing
or weakening a catalogue model fails a test here instead of silently shrinking the zoo.
"""

from __future__ import annotations

import pytest

from compare.catalog import CATALOG, EXPECTED_UNSUPPORTED, catalog_files
from compare.comparison import compare_model
from compare.formulas import infer
from compare.spec import Conv, ConvTranspose, Dense, DepthwiseConv, Flatten, Model, SeparableConv
from compare.specfile import load

CONV_FAMILIES = (Conv, ConvTranspose, DepthwiseConv, SeparableConv)
PADDING_FORMS = ("valid", "same", "int", "per_axis")


@pytest.fixture(scope="module")
def models() -> list[Model]:
    return [model for path in catalog_files() for model in load(path)]


@pytest.fixture(scope="module")
def results(models):
    return {model.name: compare_model(model) for model in models}


@pytest.fixture(scope="module")
def proven(models, results) -> list[Model]:
    """The models whose parity was measured ok: coverage counts only these."""
    return [m for m in models if results[m.name].status == "ok"]


def _padding_form(padding: object) -> str:
    if isinstance(padding, str):
        return padding
    assert isinstance(padding, tuple)
    return "int" if len(set(padding)) == 1 else "per_axis"


def test_catalogue_files_exist_and_every_model_has_a_description():
    import tomllib

    assert [p.name for p in catalog_files()] == list(CATALOG)
    for path in catalog_files():
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        for entry in raw["models"]:
            assert entry.get("description", "").strip(), f"{path.name}: {entry['name']}"


def test_model_names_are_unique(models):
    names = [m.name for m in models]
    assert len(names) == len(set(names))
    assert set(EXPECTED_UNSUPPORTED) <= set(names)


def test_every_model_compares_ok_or_is_an_expected_refusal(models, results):
    bad = {}
    for model in models:
        result = results[model.name]
        want = "unsupported" if model.name in EXPECTED_UNSUPPORTED else "ok"
        if result.status != want:
            bad[model.name] = (result.status, result.error or result.parity.detail)
    assert not bad


@pytest.mark.parametrize("name", sorted(EXPECTED_UNSUPPORTED))
def test_expected_refusals_come_from_the_named_framework(results, name):
    framework = EXPECTED_UNSUPPORTED[name]
    other = "torch" if framework == "keras" else "keras"
    layers = results[name].layers
    refused = [layer for layer in layers if not layer.frameworks[framework].supported]
    assert refused, f"{name}: {framework} built every layer"
    assert all(layer.frameworks[other].supported for layer in layers)
    assert all(layer.frameworks[framework].reason for layer in refused)


def test_framework_params_match_the_formulas(models, results):
    """Each framework's own count is the formula's: PyTorch's extra RNN biases are in
    ``params_in``; Keras counts running statistics as non-trainable weights, PyTorch
    keeps them as buffers."""
    mismatched = []
    for model in models:
        result = results[model.name]
        if result.error is not None:
            continue
        for layer, formula in zip(result.layers, infer(model), strict=True):
            for fw in layer.frameworks.values():
                if not fw.supported:
                    continue
                want = formula.params_in(fw.framework)
                if fw.framework == "keras":
                    want += formula.state
                elif fw.buffers is None or fw.buffers < formula.state:
                    mismatched.append((model.name, layer.index, "torch buffers", fw.buffers))
                if fw.params != want:
                    mismatched.append((model.name, layer.index, fw.framework, fw.params, want))
    assert not mismatched


def test_every_kind_at_every_rank_is_proven(proven):
    covered = {
        (layer.kind, formula.input.rank)
        for model in proven
        for layer, formula in zip(model.layers, infer(model))
    }
    wanted = {(cls.kind, rank) for cls in CONV_FAMILIES for rank in (1, 2, 3)}
    wanted |= {(Flatten.kind, rank) for rank in (1, 2, 3)}
    wanted |= {(Dense.kind, 0), (Dense.kind, 2)}  # on a vector and on an unflattened map
    assert wanted - covered == set()


@pytest.mark.parametrize("family", CONV_FAMILIES, ids=lambda cls: cls.kind)
def test_every_conv_family_covers_strides_dilation_and_padding_forms(
    proven, models, results, family
):
    layers = [layer for m in proven for layer in m.layers if type(layer) is family]
    assert any(max(layer.strides) > 1 for layer in layers), "strides > 1"
    if family is ConvTranspose:  # TensorFlow's CPU kernel refuses dilation: shown refused
        refused = [
            layer
            for m in models
            if EXPECTED_UNSUPPORTED.get(m.name) == "keras" and results[m.name].status != "ok"
            for layer in m.layers
            if type(layer) is family
        ]
        assert any(max(layer.dilation) > 1 for layer in refused), "dilation > 1, refused"
    else:
        assert any(max(layer.dilation) > 1 for layer in layers), "dilation > 1"
    forms = {_padding_form(layer.padding) for layer in layers}
    assert set(PADDING_FORMS) - forms == set()


def test_groups_output_padding_and_asymmetric_same_are_proven(proven):
    layers = [(layer, f) for m in proven for layer, f in zip(m.layers, infer(m))]
    assert any(isinstance(layer, Conv) and layer.groups > 1 for layer, _ in layers)
    assert any(
        isinstance(layer, ConvTranspose) and max(layer.output_padding) > 0 for layer, _ in layers
    )
    assert any(
        not isinstance(layer, ConvTranspose)
        and layer.padding == "same"
        and any(a != b for a, b in f.pads or ())
        for layer, f in layers
        if isinstance(layer, CONV_FAMILIES)
    ), "TF 'same' with an asymmetric split"
    assert any(
        isinstance(layer, Dense) and f.input.flattened_from is not None for layer, f in layers
    ), "Flatten -> Dense"


def test_no_naive_port_check_crashes(results):
    """A naive-port check may find that the naive port cannot run (a result), but the
    check itself must never fail with an exception."""
    crashed = [
        (name, index, d.what, d.naive_detail)
        for name, result in results.items()
        for index, d in result.differences
        if d.measured and (d.naive_detail or "").startswith("the naive port failed")
    ]
    assert not crashed


def test_no_diagnostics_computes_the_same_function_on_every_model(models, results):
    """``diagnostics=False`` builds a plain spec's Keras side without drawing its
    initialisers (torch's weights overwrite them): every model's parity must be
    exactly the full run's, layer by layer, which it is only if the port writes every
    Keras weight the run reads."""
    for model in models:
        full = results[model.name]
        lean = compare_model(model, diagnostics=False)
        assert lean.status == full.status, model.name
        assert lean.parity == full.parity, model.name
        assert [layer.parity for layer in lean.layers] == [layer.parity for layer in full.layers], (
            model.name
        )
