"""Reading real torch transformers: attention, dense and layer norm on (N, steps,
features) sequences in a hand-written forward, ``nn.TransformerEncoderLayer`` and
``nn.TransformerEncoder`` read as the graph of their children, a tiny BERT with a
learned positional parameter, and ``F.prelu`` with a parameter of the model.

The oracles: the expected graphs are stated from the PyTorch source of each forward
(``torch/nn/modules/transformer.py``'s plain path) and from the models written here;
parameter counts are each framework's own counters and hand formulas written below;
values are the user's own torch module run on the same input.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import compare
from compare import UnmappableError
from compare.importers.torch import read_torch


def torch_count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def mha_params(e: int) -> int:
    """q, k, v and output projections (E*E each) and their biases (3E + E)."""
    return 4 * e * e + 4 * e


def encoder_layer_params(e: int, ff: int) -> int:
    """attention, linear1 (E->ff), linear2 (ff->E), two layer norms (2E each)."""
    return mha_params(e) + (e * ff + ff) + (ff * e + e) + 2 * (2 * e)


def _nontrivial(module: nn.Module) -> nn.Module:
    """Biases, gammas and betas away from their 0/1 starts, so that a mix-up shows."""
    torch.manual_seed(0)
    with torch.no_grad():
        for p in module.parameters():
            if p.dim() == 1:
                p.uniform_(0.5, 1.5)
    return module.eval()


def _outputs(imported, module: nn.Module, x: np.ndarray) -> tuple[np.ndarray, ...]:
    """The user's module on (N, steps, features) ``x``, and both built sides on it (the
    torch side channels-first, moved back)."""
    pair = compare.build(imported)
    t = torch.from_numpy(x)
    with torch.no_grad():
        want = module(t).numpy()
        ours = pair.torch(t.movedim(-1, 1)).movedim(1, -1).numpy()
    theirs = keras.ops.convert_to_numpy(pair.keras(x))
    return want, ours, theirs, pair


class Block(nn.Module):
    """A pre-norm block written by hand on (N, steps, features)."""

    def __init__(self, e: int = 32, heads: int = 4) -> None:
        super().__init__()
        self.ln = nn.LayerNorm(e)
        self.attn = nn.MultiheadAttention(e, heads, batch_first=True)
        self.fc = nn.Linear(e, e)

    def forward(self, x):
        h = self.ln(x)
        x = x + self.attn(h, h, h, need_weights=False)[0]
        return x + F.gelu(self.fc(x))


def test_a_hand_written_block_on_sequences_reads_as_its_graph_with_parity():
    module = _nontrivial(Block())
    imported = compare.from_torch(module, input="32x10")  # 32 features, 10 steps
    assert [layer.kind for layer in imported.model.layers] == [
        "layer_norm",
        "multi_head_attention",
        "add",
        "dense",  # self.fc with F.gelu joined as its activation
        "add",
    ]
    wiring = dict(imported.model.wiring)
    assert wiring["attn"] == ("ln",)  # attn(h, h, h): self-attention
    assert wiring["add"] == ("input", "attn") and wiring["fc"] == ("add",)
    result = compare.compare(imported).models[0]
    assert result.status == "ok" and all(la.parity.status == "ok" for la in result.layers)
    # LayerNorm(32) + attention + Linear(32, 32)
    want_params = 2 * 32 + mha_params(32) + (32 * 32 + 32)
    assert torch_count(module) == want_params
    assert result.totals()["torch"]["params"] == want_params
    assert result.totals()["keras"]["params"] == want_params
    x = np.random.default_rng(0).standard_normal((3, 10, 32)).astype("float32")
    want, ours, theirs, pair = _outputs(imported, module, x)
    assert pair.keras.count_params() == want_params
    np.testing.assert_allclose(ours, want, atol=2e-5)
    np.testing.assert_allclose(theirs, want, atol=5e-5)


def test_cross_attention_reads_query_and_key_value_from_the_call():
    class Cross(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.q, self.kv = nn.Linear(16, 16), nn.Linear(16, 16)
            self.attn = nn.MultiheadAttention(16, 2, batch_first=True)

        def forward(self, x):
            kv = self.kv(x)
            return self.attn(self.q(x), kv, kv)[0]

    module = _nontrivial(Cross())
    imported = compare.from_torch(module, input="16x6")
    assert dict(imported.model.wiring)["attn"] == ("q", "kv")  # query, key = value
    result = compare.compare(imported).models[0]
    assert result.status == "ok"
    x = np.random.default_rng(1).standard_normal((2, 6, 16)).astype("float32")
    want, ours, theirs, _ = _outputs(imported, module, x)
    np.testing.assert_allclose(ours, want, atol=2e-5)
    np.testing.assert_allclose(theirs, want, atol=5e-5)


def test_a_mask_passed_to_the_attention_is_named_not_dropped():
    class Masked(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.attn = nn.MultiheadAttention(8, 2, batch_first=True)
            self.register_buffer("mask", torch.triu(torch.ones(5, 5, dtype=torch.bool), 1))

        def forward(self, x):
            return self.attn(x, x, x, attn_mask=self.mask)[0]

    with pytest.raises(UnmappableError, match=r"attn_mask=\.\.\.; the spec's attention"):
        compare.from_torch(Masked(), input="8x5")


#: The plain path of TransformerEncoderLayer.forward (torch/nn/modules/transformer.py),
#: node by node: norm_first -> the kinds in order.
ENCODER_KINDS = {
    True: [  # x = x + sa(norm1(x)); x = x + ff(norm2(x))
        "layer_norm",
        "multi_head_attention",
        "dropout",
        "add",
        "layer_norm",
        "dense",  # linear1 with the activation joined
        "dropout",
        "dense",
        "dropout",
        "add",
    ],
    False: [  # x = norm1(x + sa(x)); x = norm2(x + ff(x))
        "multi_head_attention",
        "dropout",
        "add",
        "layer_norm",
        "dense",
        "dropout",
        "dense",
        "dropout",
        "add",
        "layer_norm",
    ],
}


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_transformer_encoder_layer_is_read_as_its_graph_and_built_in_keras(norm_first, activation):
    layer = nn.TransformerEncoderLayer(
        32, 4, 64, batch_first=True, norm_first=norm_first, activation=activation
    )
    module = _nontrivial(layer)
    imported = compare.from_torch(module, input="32x16")
    layers = imported.model.layers
    assert [la.kind for la in layers] == ENCODER_KINDS[norm_first]
    dense = [la for la in layers if la.kind == "dense"]
    assert [d.activation for d in dense] == [activation, "linear"]
    assert all(la.epsilon == 1e-5 for la in layers if la.kind == "layer_norm")
    assert "self_attn" in dict(imported.model.wiring)  # named after the layer's children
    result = compare.compare(imported).models[0]
    assert result.status == "ok" and all(la.parity.status == "ok" for la in result.layers)
    want_params = encoder_layer_params(32, 64)
    assert torch_count(module) == want_params == 8_544  # 4224 + 2112 + 2080 + 128
    assert result.totals()["torch"]["params"] == want_params
    x = np.random.default_rng(2).standard_normal((3, 16, 32)).astype("float32")
    want, ours, theirs, pair = _outputs(imported, module, x)
    assert pair.keras.count_params() == want_params
    np.testing.assert_allclose(ours, want, atol=2e-5)
    np.testing.assert_allclose(theirs, want, atol=5e-5)


def test_layer_norm_epsilon_default_is_named_and_measured_on_the_read_layer():
    module = _nontrivial(nn.TransformerEncoderLayer(32, 4, 64, batch_first=True))
    result = compare.compare(compare.from_torch(module, input="32x16")).models[0]
    eps = [d for la in result.layers for d in la.differences if d.what == "default_epsilon"]
    assert len(eps) == 2  # norm1 and norm2
    for d in eps:
        assert d.torch == "1e-05" and d.keras == "0.001"
        assert d.measured and d.naive_max_abs_err > 1e-4


def test_transformer_encoder_stack_with_a_final_norm():
    layer = nn.TransformerEncoderLayer(16, 2, 32, batch_first=True, norm_first=True)
    encoder = nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(16), enable_nested_tensor=False)
    module = _nontrivial(encoder)
    imported = compare.from_torch(module, input="16x7")
    kinds = [la.kind for la in imported.model.layers]
    assert kinds == ENCODER_KINDS[True] * 2 + ["layer_norm"]
    names = [node for node, _ in imported.model.wiring]
    assert "layers.0.self_attn" in names and "layers.1.self_attn" in names and "norm" in names
    result = compare.compare(imported).models[0]
    assert result.status == "ok"
    want_params = 2 * encoder_layer_params(16, 32) + 2 * 16
    assert torch_count(module) == want_params
    assert result.totals()["keras"]["params"] == want_params
    x = np.random.default_rng(3).standard_normal((2, 7, 16)).astype("float32")
    want, ours, theirs, _ = _outputs(imported, module, x)
    np.testing.assert_allclose(ours, want, atol=2e-5)
    np.testing.assert_allclose(theirs, want, atol=5e-5)


def test_the_reading_runs_the_users_module_and_gives_channels_first_values():
    module = _nontrivial(nn.TransformerEncoderLayer(8, 2, 16, batch_first=True))
    reading = read_torch(module, "8x5")
    x = np.random.default_rng(4).standard_normal((2, 8, 5)).astype("float32")  # (N, E, L)
    with torch.no_grad():
        values = reading.values(torch.from_numpy(x))
        want = module(torch.from_numpy(x).movedim(1, -1)).movedim(-1, 1)
    np.testing.assert_allclose(values[-1].numpy(), want.numpy(), atol=1e-5)


def test_batch_first_false_is_refused_with_the_reason():
    layer = nn.TransformerEncoderLayer(8, 2, 16)  # batch_first=False: (steps, N, features)
    with pytest.raises(UnmappableError, match=r"batch_first=False\) takes \(steps, N, features\)"):
        compare.from_torch(layer, input="8x5")


def test_a_layer_whose_forward_is_not_its_childrens_graph_is_refused():
    class Scaled(nn.TransformerEncoderLayer):
        def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
            return 2 * super().forward(src, src_mask, src_key_padding_mask, is_causal)

    layer = Scaled(8, 2, 16, batch_first=True).eval()
    with pytest.raises(UnmappableError, match=r"compute other values than its forward"):
        compare.from_torch(layer, input="8x5")


def test_a_mask_given_to_the_encoder_layer_is_refused():
    class Causal(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layer = nn.TransformerEncoderLayer(8, 2, 16, batch_first=True)

        def forward(self, x):
            return self.layer(x, is_causal=True, src_mask=torch.ones(5, 5).triu(1).bool())

    with pytest.raises(UnmappableError, match=r"src_mask=\.\.\."):
        compare.from_torch(Causal(), input="8x5")


class TinyBert(nn.Module):
    """Token embedding plus a learned position table, LayerNorm, two encoder layers,
    a dense head on every step."""

    def __init__(self, vocab=100, steps=12, e=32, heads=4, ff=64, classes=5) -> None:
        super().__init__()
        self.tok = nn.Embedding(vocab, e)
        self.pos = nn.Parameter(torch.randn(1, steps, e) * 0.02)
        self.norm = nn.LayerNorm(e)
        layer = nn.TransformerEncoderLayer(e, heads, ff, batch_first=True, activation="gelu")
        self.encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.head = nn.Linear(e, classes)

    def forward(self, ids):
        x = self.norm(self.tok(ids) + self.pos)
        return self.head(self.encoder(x))


def test_a_tiny_bert_is_read_compared_and_counted_alike():
    module = _nontrivial(TinyBert())
    imported = compare.from_torch(module, input="int:12")
    kinds = [la.kind for la in imported.model.layers]
    assert kinds == [
        "embedding",
        "position_embedding",
        "layer_norm",
        *ENCODER_KINDS[False] * 2,
        "dense",
    ]
    result = compare.compare(imported).models[0]
    assert result.status == "ok" and all(la.parity.status == "ok" for la in result.layers)
    # tokens 100*32, positions 12*32, LayerNorm 2*32, two layers, head 32*5+5
    want_params = 100 * 32 + 12 * 32 + 2 * 32 + 2 * encoder_layer_params(32, 64) + 32 * 5 + 5
    assert want_params == 20_901
    assert torch_count(module) == want_params
    pair = compare.build(imported)
    assert pair.keras.count_params() == want_params
    assert result.totals()["torch"]["params"] == result.totals()["keras"]["params"] == want_params
    ids = np.random.default_rng(5).integers(0, 100, (3, 12))
    with torch.no_grad():
        want = module(torch.from_numpy(ids)).numpy()
        ours = pair.torch(torch.from_numpy(ids)).movedim(1, -1).numpy()
    theirs = keras.ops.convert_to_numpy(pair.keras(ids))
    np.testing.assert_allclose(ours, want, atol=5e-5)
    np.testing.assert_allclose(theirs, want, atol=1e-4)
    position = result.layers[1]
    assert {"position_table", "no_layer"} <= {d.what for d in position.differences}


def test_a_position_parameter_that_is_not_one_vector_per_step_is_refused():
    class Odd(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.tok = nn.Embedding(10, 4)
            self.pos = nn.Parameter(torch.zeros(4))  # one vector for every step

        def forward(self, ids):
            return self.tok(ids) + self.pos

    with pytest.raises(UnmappableError, match=r"a position table is \(1, 6, 4\) or \(6, 4\)"):
        compare.from_torch(Odd(), input="int:6")


@pytest.mark.parametrize("slopes", [1, 4])
def test_functional_prelu_with_the_models_parameter_is_the_prelu_kind(slopes):
    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3)
            self.alpha = nn.Parameter(torch.linspace(-0.5, 0.5, slopes))

        def forward(self, x):
            return F.prelu(self.conv(x), self.alpha)

    module = Net().eval()
    imported = compare.from_torch(module, input="3x8x8")
    prelu = imported.model.layers[-1]
    assert prelu.kind == "prelu" and prelu.slopes == ("one" if slopes == 1 else "channel")
    np.testing.assert_array_equal(imported.weights[-1]["alpha"], module.alpha.detach().numpy())
    result = compare.compare(imported).models[0]
    assert result.status == "ok"
    x = np.random.default_rng(6).standard_normal((2, 3, 8, 8)).astype("float32")
    pair = compare.build(imported)
    with torch.no_grad():
        want = module(torch.from_numpy(x)).numpy()
        ours = pair.torch(torch.from_numpy(x)).numpy()
    theirs = keras.ops.convert_to_numpy(pair.keras(x.transpose(0, 2, 3, 1))).transpose(0, 3, 1, 2)
    np.testing.assert_allclose(ours, want, atol=1e-6)
    np.testing.assert_allclose(theirs, want, atol=1e-5)


def _keras_post_norm_block(epsilon: float | None) -> keras.Model:
    """TransformerEncoderLayer(32, 4, 64)'s post-norm plain path written in Keras."""
    L = keras.layers
    eps = {} if epsilon is None else {"epsilon": epsilon}
    inputs = keras.Input((16, 32))
    h = L.MultiHeadAttention(4, 8)(inputs, inputs)
    x = L.LayerNormalization(epsilon=1e-5)(L.Add()([inputs, h]))
    h = L.Dense(32)(L.Dense(64, activation="relu")(x))
    return keras.Model(inputs, L.LayerNormalization(**eps)(L.Add()([x, h])))


def test_a_torch_encoder_layer_and_its_keras_twin_are_equivalent_node_by_node():
    from compare.testing import check_equivalent

    layer = nn.TransformerEncoderLayer(32, 4, 64, dropout=0.0, batch_first=True).eval()
    same = check_equivalent(layer, _keras_post_norm_block(1e-5), input="32x16")
    assert same.ok, same.message
    assert max(same.errors) < 1e-4
    # Keras' own epsilon default left on the last norm: named, with both values
    other = check_equivalent(layer, _keras_post_norm_block(None), input="32x16")
    assert not other.ok
    assert "epsilon: torch 1e-05, keras 0.001" in other.message


def test_a_keras_attention_called_with_value_then_key_reads_in_the_specs_order():
    L = keras.layers
    inputs = keras.Input((10, 16))
    value = L.Dense(12, name="v")(inputs)
    key = L.Dense(12, name="k")(L.Dense(7, name="pre")(inputs))
    model = keras.Model(inputs, L.MultiHeadAttention(2, 8, name="attn")(inputs, value, key))
    imported = compare.from_keras(model)
    assert dict(imported.model.wiring)["attn"] == ("input", "k", "v")  # query, key, value
    x = np.random.default_rng(7).standard_normal((2, 10, 16)).astype("float32")
    built = compare.build(imported).keras
    np.testing.assert_allclose(np.asarray(built(x)), np.asarray(model(x)), atol=1e-5)


def test_a_chain_on_sequences_without_an_rnn_is_read_in_their_layout():
    class Head(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.ln, self.fc = nn.LayerNorm(16), nn.Linear(16, 3)

        def forward(self, x):
            return self.fc(self.ln(x))

    stack = nn.Sequential(nn.TransformerEncoderLayer(16, 2, 32, batch_first=True), nn.Linear(16, 4))
    for module, kinds in (
        (Head(), ["layer_norm", "dense"]),
        (stack, [*ENCODER_KINDS[False], "dense"]),
    ):
        module = _nontrivial(module)
        imported = compare.from_torch(module, input="16x6")
        assert [la.kind for la in imported.model.layers] == kinds
        assert compare.compare(imported).models[0].status == "ok"
        x = np.random.default_rng(8).standard_normal((2, 6, 16)).astype("float32")
        want, ours, theirs, _ = _outputs(imported, module, x)
        np.testing.assert_allclose(ours, want, atol=2e-5)
        np.testing.assert_allclose(theirs, want, atol=5e-5)


def test_the_built_bert_reads_back_through_the_keras_importer():
    module = _nontrivial(TinyBert())
    imported = compare.from_torch(module, input="int:12")
    back = compare.from_keras(compare.build(imported).keras)
    assert [la.kind for la in back.model.layers] == [la.kind for la in imported.model.layers]
    np.testing.assert_array_equal(back.weights[1]["embeddings"], imported.weights[1]["embeddings"])
    assert compare.compare(back).models[0].status == "ok"
