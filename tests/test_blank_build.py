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
