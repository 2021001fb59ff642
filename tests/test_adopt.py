"""A Keras import compared with the user's own layers as the Keras side (``adopt``).

``compare_model`` takes a user's layer instead of building it again when it is exactly
what compare would build (same class, same configuration but its name, weights still
the buffers the import read). These tests hold that against the user's model itself:
its layers are the ones run, its names are the ones reported, nothing of it changes,
and every layer that is not taken is built as before.
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras
import numpy as np
import pytest
from keras import layers as L

import compare
from compare.comparison import compare_model
from compare.importers.keras import from_keras
from compare.parity import build


def small_cnn() -> keras.Model:
    inputs = keras.Input((12, 12, 3), name="image")
    x = L.Conv2D(6, 3, padding="same", name="stem_conv")(inputs)
    x = L.BatchNormalization(axis=3, name="stem_bn")(x)  # compare builds axis=-1
    x = L.Activation("relu", name="stem_relu")(x)  # compare builds ReLU: not taken
    y = L.Conv2D(6, 3, padding="same", name="branch_conv")(x)
    x = L.Add(name="join")([x, y])
    x = L.GlobalAveragePooling2D(name="pool")(x)
    outputs = L.Dense(4, name="head")(x)
    model = keras.Model(inputs, outputs, name="small_cnn")
    rng = np.random.default_rng(0)
    for var in model.weights:  # trained-looking weights, statistics included
        var.assign(rng.uniform(0.5, 1.5, tuple(var.shape)).astype("float32"))
    return model


def values(model: keras.Model) -> list[np.ndarray]:
    return [np.array(v.numpy(), copy=True) for v in model.weights]


def node_counts(model: keras.Model) -> list[tuple[int, int]]:
    return [(len(layer._inbound_nodes), len(layer._outbound_nodes)) for layer in model.layers]


def keras_side(imported: compare.Imported) -> list:
    return build(imported, adopt=True).sides["keras"].layers


def test_the_users_layers_are_the_keras_side_where_they_are_what_compare_builds():
    model = small_cnn()
    imported = from_keras(model)
    side = keras_side(imported)
    taken = {b.obj[0].name for b in side if b.adopted}
    # the user's own objects, not copies
    by_name = {layer.name: layer for layer in model.layers}
    assert all(b.obj[0] is by_name[b.obj[0].name] for b in side if b.adopted)
    assert {"stem_conv", "stem_bn", "branch_conv", "join", "pool", "head"} <= taken
    # Activation("relu") is not the ReLU layer compare builds: built as before
    relu = next(b for layer, b in zip(imported.model.layers, side) if layer.kind == "activation")
    assert not relu.adopted and type(relu.obj[0]).__name__ == "ReLU"


def test_a_comparison_reports_the_users_weight_names_and_ports_exactly():
    model = small_cnn()
    result = compare_model(from_keras(model))
    assert result.parity.status == "ok", result.parity.detail
    names = {w.name for r in result.layers for w in r.frameworks["keras"].weights}
    assert {"stem_conv/kernel", "stem_bn/moving_variance", "head/bias"} <= names
    # the same figures as a comparison that builds every layer afresh
    fresh = compare_model(compare.Imported(*_fields(from_keras(model))))
    assert result.parity.max_abs_err == fresh.parity.max_abs_err
    measured = 0
    for mine, theirs in zip(result.layers, fresh.layers, strict=True):
        assert mine.frameworks["keras"].classes == theirs.frameworks["keras"].classes
        pairs = [(d.what, d.naive_max_abs_err) for d in mine.differences]
        assert pairs == [(d.what, d.naive_max_abs_err) for d in theirs.differences]
        measured += sum(d.naive_max_abs_err is not None for d in mine.differences)
    assert measured >= 3  # kernel layouts, the batch norm's training-mode statistics


def _fields(imported: compare.Imported) -> tuple:
    """An import without its views: nothing can be adopted."""
    return (imported.model, imported.weights, imported.source, imported.paths, imported.classes)


def test_the_users_model_is_left_as_found_even_when_counted():
    model = small_cnn()
    before, nodes = values(model), node_counts(model)
    x = np.random.default_rng(1).standard_normal((2, 12, 12, 3)).astype("float32")
    y = np.asarray(model(x))
    result = compare_model(from_keras(model), count=True)
    assert result.parity.status == "ok"
    assert result.totals()["keras"]["flops"] > 0  # counted on a model of the user's layers
    for a, b in zip(before, values(model), strict=True):
        np.testing.assert_array_equal(a, b)  # batch-norm checks ran training batches
    assert node_counts(model) == nodes  # each layer still called once
    np.testing.assert_array_equal(np.asarray(model(x)), y)
    assert compare_model(from_keras(model)).parity.status == "ok"  # and reads again


def test_a_layer_written_after_the_import_is_built_afresh_with_the_imported_weights():
    model = small_cnn()
    imported = from_keras(model)
    head = model.get_layer("head")
    head.kernel.assign(np.zeros(tuple(head.kernel.shape), "float32"))
    side = keras_side(imported)
    index = imported.model.layers.index(
        next(layer for layer in imported.model.layers if layer.kind == "dense")
    )
    assert not side[index].adopted
    result = compare_model(imported)
    assert result.parity.status == "ok"  # both sides hold the weights the import read
    kernel = next(w for w in result.layers[index].frameworks["keras"].weights if w.role == "kernel")
    assert kernel.name != "head/kernel"


def test_a_user_layer_named_like_a_layer_compare_builds_is_built_afresh():
    # compare names a layer it builds <kind>_<index>: the ReLU at index 1 is
    # "activation_1", the name the user gave the Dense before it
    inputs = keras.Input((5,))
    x = L.Dense(3, name="activation_1")(inputs)
    model = keras.Model(inputs, L.ReLU(name="act")(L.Dense(3, name="d")(L.ReLU()(x))))
    imported = from_keras(model)
    side = keras_side(imported)
    names = [part.name for b in side for part in b.obj]
    assert len(names) == len(set(names))
    assert not side[0].adopted
    assert compare_model(imported, count=True).parity.status == "ok"


@pytest.mark.parametrize("dtype", ["float64"])
def test_another_dtype_than_the_users_builds_afresh(dtype):
    model = small_cnn()
    side = build(from_keras(model), dtype=dtype, adopt=True).sides["keras"].layers
    assert not any(b.adopted for b in side)
    assert compare_model(from_keras(model), dtype=dtype).parity.status == "ok"


def test_public_build_keeps_layers_of_its_own():
    model = small_cnn()
    pair = compare.build(from_keras(model))
    user = {id(layer) for layer in model.layers}
    assert not any(id(part) in user for b in pair.sides["keras"].layers for part in b.obj)


def test_shape_only_reads_the_users_layers_too_and_leaves_them_usable():
    model = small_cnn()
    x = np.random.default_rng(2).standard_normal((1, 12, 12, 3)).astype("float32")
    y = np.asarray(model(x))
    side = build(from_keras(model), shape_only=True, adopt=True).sides["keras"].layers
    assert sum(b.adopted for b in side) >= 6
    result = compare_model(from_keras(model), parity=False, count=True)  # clears the session
    names = {w.name for r in result.layers for w in r.frameworks["keras"].weights}
    assert "stem_conv/kernel" in names and result.totals()["keras"]["flops"] > 0
    np.testing.assert_array_equal(np.asarray(model(x)), y)


def test_a_torch_import_keeps_no_views_of_its_modules():
    import torch

    imported = compare.from_torch(torch.nn.Sequential(torch.nn.Linear(3, 2)), input="3")
    assert imported.views == ()
    assert from_keras(small_cnn()).views  # a Keras import keeps them, to be adopted
