"""What the cost cuts must keep: the import's weights are the user's values (held as
read-only views, not copies), the Keras chain import proves its chain from the graph
or by running it, and the tiled permuted copy gives what a transpose gives."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import compare
from compare.adapters.keras_modules import read_variable, write_variable
from compare.core import layouts
from compare.importers import UnmappableError
from compare.importers import keras as keras_importer

L = keras.layers


def _chain() -> keras.Model:
    return keras.Sequential(
        [keras.Input((6, 6, 2)), L.Conv2D(3, 3, name="c"), L.Flatten(), L.Dense(4, name="d")]
    )


# -- the import holds views of the user's variables -----------------------------------


def test_imported_keras_weights_are_the_users_values_and_read_only():
    model = _chain()
    imported = compare.from_keras(model)
    kernel = imported.weights[0]["kernel"]
    np.testing.assert_array_equal(kernel, model.get_layer("c").kernel.numpy())
    assert not kernel.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        kernel[...] = 0.0


def test_imported_weights_keep_their_values_when_the_user_writes_the_model():
    model = _chain()
    imported = compare.from_keras(model)
    before = model.get_layer("d").kernel.numpy().copy()
    model.get_layer("d").kernel.assign(np.full(before.shape, 7.0, "float32"))
    # TensorFlow copies the variable's buffer on write: the view keeps the old values
    np.testing.assert_array_equal(imported.weights[2]["kernel"], before)
    # and the comparison runs with the weights the import read
    result = compare.compare(imported)[0]
    assert result.status == "ok"


def test_read_variable_view_survives_writes():
    v = keras.Variable(np.arange(6, dtype="float32").reshape(2, 3))
    view = read_variable(v)
    write_variable(v, np.zeros((2, 3), "float32"))
    np.testing.assert_array_equal(view, np.arange(6, dtype="float32").reshape(2, 3))
    np.testing.assert_array_equal(read_variable(v), np.zeros((2, 3)))


# -- the chain is proved from the graph, or by running the model ---------------------


def test_one_sample_probe_unless_the_model_fixes_its_batch():
    assert keras_importer.PROBE_SAMPLES == 1
    assert keras_importer._batch(_chain()) == 1
    fixed = keras.Sequential([keras.Input((5, 3), batch_size=3), L.GRU(2, stateful=True)])
    assert keras_importer._batch(fixed) == 3


def test_a_sequential_and_a_functional_chain_are_proved_by_their_graph():
    found = keras_importer.tables()
    seq = _chain()
    inputs = keras.Input((5,))
    functional = keras.Model(inputs, L.Dense(2)(L.Dense(3)(inputs)))
    for model in (seq, functional):
        leaves = keras_importer._leaves(model, "", found)
        assert keras_importer._is_chain_graph(model, leaves, found)


def test_a_call_argument_is_not_proved_by_the_graph_and_running_finds_it():
    inputs = keras.Input((64,))
    # Dropout called with training=True: its functional node carries the argument, so
    # the layers applied one after another (inference) are not the model
    model = keras.Model(inputs, L.Dense(2)(L.Dropout(0.5)(inputs, training=True)))
    found = keras_importer.tables()
    leaves = keras_importer._leaves(model, "", found)
    assert not keras_importer._is_chain_graph(model, leaves, found)
    with pytest.raises(UnmappableError, match="its graph is not a chain"):
        compare.from_keras(model)


def test_a_masked_chain_is_not_proved_by_the_graph():
    inputs = keras.Input((5,), dtype="int32")
    x = L.Embedding(10, 3, mask_zero=True)(inputs)
    model = keras.Model(inputs, L.GlobalAveragePooling1D()(x))
    found = keras_importer.tables()
    leaves = keras_importer._leaves(model, "", found)
    assert not keras_importer._is_chain_graph(model, leaves, found)


def test_a_shared_layer_is_not_proved_by_the_graph():
    inputs = keras.Input((4, 4, 2))
    conv = L.Conv2D(2, 1)
    model = keras.Model(inputs, conv(conv(inputs)))
    found = keras_importer.tables()
    leaves = keras_importer._leaves(model, "", found)
    assert not keras_importer._is_chain_graph(model, leaves, found)


# -- the tiled permuted copy ----------------------------------------------------------


@pytest.mark.parametrize(
    "shape, perm",
    [
        ((3, 5, 70, 90), (3, 2, 0, 1)),  # Keras (H, W, C, O) -> torch (O, C, H, W)
        ((90, 70, 3, 5), (2, 3, 1, 0)),  # and back: the last axis lands inside
        ((130, 17), (1, 0)),
        ((7, 100, 3), (1, 0, 2)),  # the last axis stays last: whole rows
        ((7, 9, 11), (0, 2, 1)),  # an output axis before the moved one
        ((5, 6, 7, 8), (1, 3, 0, 2)),
        ((4, 200), (0, 1)),
    ],
)
@pytest.mark.parametrize("tile, slab", [(4, 50), (256, 1 << 22)])
def test_permuted_copy_in_slabs_and_tiles_is_the_transpose(monkeypatch, shape, perm, tile, slab):
    # small tiles and slabs: every array here takes the two-pass path, with slabs and
    # tiles that do not divide the axes
    monkeypatch.setattr(layouts, "BLOCKED_ABOVE", 10)
    monkeypatch.setattr(layouts, "MIN_TILED_AXIS", 2)
    monkeypatch.setattr(layouts, "TILE", tile)
    monkeypatch.setattr(layouts, "SLAB", slab)
    a = np.random.default_rng(0).standard_normal(shape).astype("float32")
    out = layouts.permuted_copy(a, perm)
    assert out.flags.c_contiguous
    np.testing.assert_array_equal(out, a.transpose(perm))


def test_permuted_copy_of_a_strided_view_is_its_transpose(monkeypatch):
    monkeypatch.setattr(layouts, "BLOCKED_ABOVE", 10)
    monkeypatch.setattr(layouts, "MIN_TILED_AXIS", 2)
    monkeypatch.setattr(layouts, "TILE", 3)
    a = np.random.default_rng(1).standard_normal((6, 8, 10)).astype("float32")[:, ::2, 1:]
    np.testing.assert_array_equal(layouts.permuted_copy(a, (2, 0, 1)), a.transpose(2, 0, 1))


@pytest.mark.parametrize(
    "shape, perm",
    [
        ((3, 3, 20, 30), (3, 2, 0, 1)),  # Keras (H, W, I, O) -> torch (O, I, H, W)
        ((2, 5, 7), (2, 1, 0)),
        ((2, 3, 4, 5, 6), (4, 3, 0, 1, 2)),  # a 3-D kernel
        ((1, 1, 20, 30), (3, 2, 0, 1)),  # 1x1: slices of ROW_RUN input channels
        ((130, 17), (1, 0)),  # a dense kernel, with a last slice shorter than the rest
        ((7, 100, 3), (1, 0, 2)),  # the last axis stays last: not this path
    ],
)
def test_permuted_copy_one_slice_at_a_time_is_the_transpose(monkeypatch, shape, perm):
    monkeypatch.setattr(layouts, "PER_SLICE_FROM", 10)
    a = np.random.default_rng(2).standard_normal(shape).astype("float32")
    for source in (a, a[..., ::-1]):  # a reversed view too: negative strides
        out = layouts.permuted_copy(source, perm)
        assert out.flags.c_contiguous and out.dtype == source.dtype
        np.testing.assert_array_equal(out, source.transpose(perm))


def test_permuted_copy_takes_the_slices_only_from_the_bound(monkeypatch):
    a = np.zeros((3, 3, 8, 8), "float32")
    taken = []
    real = np.empty

    def empty(*args, **kwargs):
        taken.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(layouts.np, "empty", empty)
    layouts.permuted_copy(a, (3, 2, 0, 1))  # 576 elements, under the bound: one copy
    assert not taken
    monkeypatch.setattr(layouts, "PER_SLICE_FROM", 100)
    layouts.permuted_copy(a, (3, 2, 0, 1))
    assert taken == [(8, 8, 3, 3)]


# -- a blank torch build imports nothing more -----------------------------------------


def test_a_blank_torch_build_does_not_import_sympy():
    # Module.to_empty on meta tensors runs torch's Python reference of empty_like, which
    # imports torch.fx.experimental.symbolic_shapes and sympy (1-1.7 s, once per process)
    import os
    import subprocess
    import sys
    import textwrap

    code = textwrap.dedent(
        """
        import sys
        import keras
        import compare
        km = keras.Sequential([keras.Input((6, 6, 2)), keras.layers.Conv2D(3, 3),
                               keras.layers.BatchNormalization()])
        result = compare.compare(compare.from_keras(km))[0]
        print(result.status, "sympy" in sys.modules)
        """
    )
    env = {**os.environ, "KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "3"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.split()[-2:] == ["ok", "False"]


# -- a graph import reads its shapes from the graph -----------------------------------


def test_graph_shapes_are_keras_own_and_agree_with_running_it():
    inputs = keras.Input((8, 8, 3))
    a = L.Conv2D(4, 3, padding="same")(inputs)
    b = L.Conv2D(4, 1)(inputs)
    x = L.Add()([a, b])
    x = L.MaxPooling2D(2)(x)
    model = keras.Model(inputs, L.Dense(5)(L.Flatten()(x)))
    found = keras_importer.tables()
    steps = keras_importer._flat(model, "", found)
    shapes = keras_importer._graph_shapes(steps, model.inputs[0])
    assert shapes is not None
    # held against a real run of every node on a probe (channels last in Keras)
    values = {id(model.inputs[0]): np.zeros((1, 8, 8, 3), "float32")}
    for kind, node, _ in steps:
        if kind == "node":
            out = keras_importer._run_node(node, values)[0]
            got = shapes[id(node.outputs[0])]
            assert got.keras()[1:] == tuple(np.shape(out))[1:]
    assert shapes[id(model.outputs[0])].channels == 5


def test_an_unfixed_axis_falls_back_to_running_the_graph():
    inputs = keras.Input((None, 3))
    assert keras_importer._tensor_shape(inputs) is None


# -- naive twins serve again only where every weight is rewritten ---------------------


def _naive_of(model, monkeypatch, reuse):
    from compare import naive

    if not reuse:
        monkeypatch.setattr(naive, "_all_written", lambda *a: False)
    result = compare.compare(model)[0]
    return [
        (layer.index, d.what, d.naive_max_abs_err)
        for layer in result.layers
        for d in layer.differences
        if d.naive_max_abs_err is not None
    ]


def test_reused_twins_measure_what_fresh_twins_measure(monkeypatch):
    from compare.spec import BatchNorm, Conv, Input, Model

    # the same naive spec on the same input shape three times: one twin serves all,
    # and each layer's figure is its own (its weights differ from the others')
    layers = (BatchNorm(epsilon=1e-3), Conv(filters=2, kernel_size=1), BatchNorm(epsilon=1e-3))
    model = Model("bns", Input(2, (5, 5)), (*layers, Conv(filters=2, kernel_size=1), layers[2]))
    reused = _naive_of(model, monkeypatch, reuse=True)
    fresh = _naive_of(model, monkeypatch, reuse=False)
    assert reused == fresh
    bn = [err for index, what, err in reused if index in (0, 2, 4) and "epsilon" in what]
    assert len(bn) == 3 and len(set(bn)) == 3


def test_a_twin_with_buffers_is_not_kept():
    from compare.naive import _all_written, context_of
    from compare.spec import BatchNorm, Input, Model

    ctx = context_of(Model("m", Input(2, (3, 3)), (BatchNorm(),)))
    torch_bn, keras_bn = ctx.built("torch"), ctx.built("keras")
    from compare.adapters import get_adapter

    # torch's running statistics and counter are buffers; Keras holds all as weights
    assert not _all_written(get_adapter("torch"), torch_bn, ctx.layer, ctx.formula)
    assert _all_written(get_adapter("keras"), keras_bn, ctx.layer, ctx.formula)
