"""An import's layers are built blank (zeros, no initialiser draws), since its weights
overwrite them; the layers' own initialiser objects and the results are unchanged."""

import pytest

from compare.adapters import get_adapter
from compare.formulas import infer
from compare.spec import BatchNorm, Conv, Dense, Flatten, Input, Model


def _model():
    return Model(
        "m",
        Input(3, (8, 8)),
        (Conv(filters=4, kernel_size=3), BatchNorm(), Flatten(), Dense(units=5)),
    )


@pytest.mark.parametrize("framework", ["torch", "keras"])
def test_blank_layers_hold_zeros_with_their_own_initialisers(framework):
    model = _model()
    adapter = get_adapter(framework)
    for layer, formula in zip(model.layers, infer(model)):
        fresh = adapter.build(layer, formula, 0, "float32")
        blank = adapter.build(layer, formula, 0, "float32", blank=True)
        got = adapter.get_weights(blank)
        assert adapter.weight_shapes(blank) == adapter.weight_shapes(fresh)
        assert all(not a.any() for a in got.values()), layer.kind
        # the initialiser facts are read from the layer: the same as a fresh layer's
        assert adapter.initialisers(blank) == adapter.initialisers(fresh)


def test_keras_layer_keeps_its_initializer_objects():
    import keras

    model = _model()
    built = get_adapter("keras").build(model.layers[0], infer(model)[0], 0, "float32", blank=True)
    conv = built.obj[0]
    assert isinstance(conv.kernel_initializer, keras.initializers.GlorotUniform)
    assert isinstance(conv.bias_initializer, keras.initializers.Zeros)


def test_an_import_compares_as_before():
    """A torch import with non-default batch-norm statistics: every weight and buffer of
    both blank sides is written by the port, so parity holds end to end (a zero left
    behind in running_var would give an error of order 1e2 here)."""
    import torch

    from compare import compare, from_torch

    torch.manual_seed(1)
    module = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4)).eval()
    with torch.no_grad():
        module[1].running_mean.uniform_(-1, 1)
        module[1].running_var.uniform_(0.5, 2)
    result = compare(from_torch(module, "3x8x8"))[0]
    assert result.status == "ok"
    assert result.parity.max_abs_err is not None and result.parity.max_abs_err < 1e-4


def test_torch_blank_storage_behaves_as_torch_own():
    """The blank torch tensors live in numpy's calloc'd zeros (pages the port writes
    once): each has its own storage, its dtype, and trains like any parameter."""
    import torch

    model = _model()
    adapter = get_adapter("torch")
    formulas = infer(model)
    bn = adapter.build(model.layers[1], formulas[1], 0, "float32", blank=True).obj
    assert bn.num_batches_tracked.dtype == torch.int64
    assert bn.running_var.dtype == torch.float32 and bn.weight.requires_grad
    tensors = [*bn.parameters(), *bn.buffers()]
    assert len({t.untyped_storage().data_ptr() for t in tensors}) == len(tensors)
    conv = adapter.build(model.layers[0], formulas[0], 0, "float32", blank=True).obj
    with torch.no_grad():
        conv.weight.fill_(0.5)
    optimiser = torch.optim.SGD(conv.parameters(), lr=0.1)
    conv(torch.ones(1, 3, 8, 8)).sum().backward()
    optimiser.step()
    assert torch.allclose(conv.bias, torch.full((4,), -3.6)), conv.bias  # 36 outputs each
    bn.train()(torch.ones(2, 4, 6, 6))
    assert int(bn.num_batches_tracked) == 1


def test_the_port_gives_torch_its_copies_and_keeps_the_users_arrays_apart():
    """A Keras import's torch side keeps the port's fresh copies as its storage
    (``set_weights(take=...)``) but never the user's arrays: a torch weight written in
    place leaves the Keras model as it was."""
    import keras
    import numpy as np
    import torch

    from compare import from_keras
    from compare.parity import build

    inputs = keras.Input((6, 6, 3))
    x = keras.layers.Conv2D(4, 3, name="c")(inputs)
    x = keras.layers.BatchNormalization(name="bn")(x)
    km = keras.Model(inputs, keras.layers.Dense(2, name="d")(x))
    for v in km.weights:  # non-trivial values everywhere, the statistics included
        v.assign(np.random.default_rng(0).uniform(0.5, 1.5, v.shape).astype("float32"))
    before = [w.copy() for w in km.get_weights()]
    imported = from_keras(km)
    pair = build(imported.model)
    pair.load(imported)
    user = [v.value.numpy() for v in km.weights] + [
        a for arrays in imported.weights for a in arrays.values()
    ]
    params = [
        t
        for built in pair.sides["torch"].layers
        for t in (*built.obj.parameters(), *built.obj.buffers())
        if t.dtype == torch.float32
    ]
    assert len(params) == 8  # kernel, bias; gamma, beta, two statistics; kernel, bias
    assert not any(np.may_share_memory(p.detach().numpy(), a) for p in params for a in user)
    x = np.random.default_rng(1).standard_normal((2, 6, 6, 3)).astype("float32")
    y_keras = np.asarray(km(x))
    with torch.no_grad():
        for p in params:
            p.mul_(3.0)
    assert all(np.array_equal(a, b) for a, b in zip(km.get_weights(), before, strict=True))
    assert np.allclose(np.asarray(km(x)), y_keras)
    # arrays a caller hands in writeable are the caller's still: only the port's own
    # copies are taken (the bias and the statistics pass through the port unchanged)
    mine = [{r: a.copy() for r, a in arrays.items()} for arrays in imported.weights]
    kept = [{r: a.copy() for r, a in arrays.items()} for arrays in mine]
    for index, arrays in enumerate(mine):
        if arrays:
            pair.port_layer(index, src="keras", dst="torch", weights=arrays)
    with torch.no_grad():
        for p in params:
            p.mul_(3.0)
    assert all(np.array_equal(m[r], k[r]) for m, k in zip(mine, kept) for r in m)
