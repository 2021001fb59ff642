"""compare.diff: two implementations of one network, aligned by structure, every
difference named with its places, the parameter gap reconciled from the frameworks'
own counts (each expected figure here is derived by hand or counted from the real
modules, never copied from the diff's output)."""

from __future__ import annotations

import json
import textwrap

import keras
import numpy as np
import pytest
import torch
from diff_pairs import keras_resnet_like, torch_resnet_like

import compare
from compare.cli import main
from compare.diff import Place, align, render_html, render_markdown, render_text
from compare.errors import SpecError
from compare.importers import from_keras, from_torch
from compare.testing import assert_equivalent, check_equivalent

pytest_plugins = ["pytester"]

nn = torch.nn
L = keras.layers

RESNET_LIKE = {
    "conv.strides_moved",
    "conv.use_bias",
    "batch_norm.epsilon",
    "batch_norm.momentum",
    "dense.activation",
}


def _torch_params(module):
    return sum(p.numel() for p in module.parameters())


def _by_key(d):
    return {x.key: x for x in d.differences}


@pytest.fixture(scope="module")
def resnet_like():
    t, k = torch_resnet_like(), keras_resnet_like()
    return t, k, compare.diff(t, k, input="3x32x32")


def test_the_alignment_pairs_every_node_of_two_resnets_whatever_their_names(resnet_like):
    _t, _k, d = resnet_like
    # both graphs have 27 layers once folded; every one finds its counterpart
    assert len(d.pairs) == 27
    assert all(p.torch is not None and p.keras is not None for p in d.pairs)
    # the shortcut's conv pairs with the shortcut's conv, not with the main branch
    assert Place("layer1.0.downsample.0", "conv2_block1_0_conv") in d.pairs
    assert Place("layer1.0.conv1", "conv2_block1_1_conv") in d.pairs


def test_the_resnet_differences_are_named_with_their_places(resnet_like):
    t, _k, d = resnet_like
    found = _by_key(d)
    assert set(found) == RESNET_LIKE
    moved = found["conv.strides_moved"]
    # torchvision's "v1.5" stride is on the 3x3 conv, keras.applications' on the 1x1
    assert moved.places == (Place("layer1.0.conv2", "conv2_block1_1_conv"),)
    assert "3x3" in moved.torch and "1x1" in moved.keras
    convs = [m for m in t.modules() if isinstance(m, nn.Conv2d)]
    bns = [m for m in t.modules() if isinstance(m, nn.BatchNorm2d)]
    assert len(found["conv.use_bias"].places) == len(convs) == 8
    assert (found["conv.use_bias"].torch, found["conv.use_bias"].keras) == (False, True)
    eps = found["batch_norm.epsilon"]
    assert len(eps.places) == len(bns) and (eps.torch, eps.keras) == (1e-5, 1.001e-5)
    # momentum in the spec's convention (weight of the new batch): torch 0.1, keras 1 - 0.99
    mom = found["batch_norm.momentum"]
    assert mom.torch == pytest.approx(0.1) and mom.keras == pytest.approx(0.01)
    assert (found["dense.activation"].torch, found["dense.activation"].keras) == (
        "linear",
        "softmax",
    )


def test_the_parameter_gap_adds_up_from_the_frameworks_counts(resnet_like):
    t, k, d = resnet_like
    r = d.reconciliation
    assert r.torch.total == _torch_params(t)
    assert r.torch.buffers == sum(b.numel() for b in t.buffers())
    assert r.keras.total == k.count_params()
    assert r.keras.non_trainable == sum(int(np.prod(w.shape)) for w in k.non_trainable_weights)
    assert r.gap == k.count_params() - _torch_params(t)
    # hand-derived: one bias per conv filter, two statistics per batch-norm channel
    convs = [m for m in t.modules() if isinstance(m, nn.Conv2d)]
    bns = [m for m in t.modules() if isinstance(m, nn.BatchNorm2d)]
    biases = sum(c.out_channels for c in convs)
    stats = 2 * sum(b.num_features for b in bns)
    assert (biases, stats) == (144, 288)
    parts = {c.name.split(" (")[0]: c.params for c in r.causes}
    assert parts == {"conv biases": biases, "batch_norm moving_mean, moving_variance": stats}
    assert sum(parts.values()) == r.gap and r.adds_up


def test_the_order_of_an_adds_inputs_is_no_difference():
    """The same Keras network with the add's inputs written the other way round."""
    t, k, swapped = torch_resnet_like(), keras_resnet_like(), keras_resnet_like(swap_add=True)
    add = swapped.get_layer("conv2_block1_add")
    assert add.input[0].shape[-1] == add.input[1].shape[-1]  # the layers changed places
    a = compare.diff(t, k, input="3x32x32")
    b = compare.diff(t, swapped, input="3x32x32")
    assert [x.to_dict() for x in a.differences] == [x.to_dict() for x in b.differences]


def _dense_pair(keras_tail=(), torch_tail=()):
    torch.manual_seed(0)
    t = nn.Sequential(nn.Flatten(), nn.Linear(12, 8), nn.ReLU(), nn.Linear(8, 4), *torch_tail)
    k = keras.Sequential(
        [
            keras.Input((2, 2, 3)),
            L.Flatten(),
            L.Dense(8, activation="relu"),
            L.Dense(4),
            *keras_tail,
        ]
    )
    return t, k


def test_a_softmax_only_keras_has_is_named():
    """The importer folds an activation into the layer before it, so a Keras Softmax
    after the last Dense is that Dense's activation."""
    t, k = _dense_pair(keras_tail=(L.Softmax(),))
    d = compare.diff(t, k, input="3x2x2")
    assert [(x.key, x.torch, x.keras) for x in d.differences] == [
        ("dense.activation", "linear", "softmax")
    ]


def test_a_layer_only_keras_has_is_a_structural_difference_and_a_part_of_the_gap():
    t, k = _dense_pair(keras_tail=(L.BatchNormalization(),))
    d = compare.diff(t, k, input="3x2x2")
    assert [x.key for x in d.differences] == ["only_keras.batch_norm"]
    assert d.differences[0].places == (Place(None, k.layers[-1].name),)
    # gamma, beta, moving mean and variance over 4 features
    assert d.reconciliation.gap == 4 * 4 == k.count_params() - _torch_params(t)
    assert [(c.name, c.params) for c in d.reconciliation.causes] == [
        ("batch_norm only in keras", 16)
    ]


def test_a_dropout_only_torch_has_is_named_as_the_identity_at_inference():
    t, k = _dense_pair(torch_tail=(nn.Dropout(0.5),))
    d = compare.diff(t, k, input="3x2x2")
    (x,) = d.differences
    assert x.key == "only_torch.dropout" and x.note == "the identity at inference"
    assert d.reconciliation.gap == 0 and d.reconciliation.causes == ()


def test_a_different_kind_at_one_place():
    t, k = _dense_pair(torch_tail=(nn.BatchNorm1d(4),), keras_tail=(L.Dense(4),))
    d = compare.diff(t, k, input="3x2x2")
    keys = [x.key for x in d.differences]
    assert keys == ["kind.batch_norm->dense"]
    r = d.reconciliation
    # keras: a 4x4 kernel and 4 biases; torch: the batch norm's gamma and beta
    assert r.gap == (4 * 4 + 4) - 2 * 4 == k.count_params() - _torch_params(t)
    assert [(c.name, c.params) for c in r.causes] == [("batch_norm in torch, dense in keras", 12)]


def test_identical_implementations_have_no_difference():
    t, k = _dense_pair()
    d = compare.diff(t, k, input="3x2x2")
    assert d.same and d.reconciliation.gap == 0
    # nothing differs: allow=[] goes on to compare the outputs (torch weights ported)
    assert check_equivalent(t, k, input="3x2x2", allow=[]).message == "equivalent"


class _Branches(nn.Module):
    def __init__(self, skip_from: str) -> None:
        super().__init__()
        self.a = nn.Conv2d(3, 4, 1)
        self.b = nn.Conv2d(4, 4, 1)
        self.c = nn.Conv2d(4, 4, 1)
        self.skip_from = skip_from

    def forward(self, x):
        a = self.a(x)
        b = self.b(a)
        c = self.c(b)
        return c + (a if self.skip_from == "a" else b)


def _keras_branches():
    x = keras.Input((5, 5, 3))
    a = L.Conv2D(4, 1)(x)
    b = L.Conv2D(4, 1)(a)
    c = L.Conv2D(4, 1)(b)
    return keras.Model(x, L.Add()([c, a]))


def test_an_add_reading_another_node_is_a_different_connection():
    k = _keras_branches()
    assert compare.diff(_Branches("a"), k, input="3x5x5").same
    d = compare.diff(_Branches("b"), k, input="3x5x5")
    assert [x.key for x in d.differences] == ["connection.add"]
    (x,) = d.differences
    # the inputs named by the Keras nodes they align with: torch adds c and b, keras c and a
    names = [layer.name for layer in k.layers if isinstance(layer, L.Conv2D)]
    assert sorted(x.torch) == sorted([names[2], names[1]])
    assert sorted(x.keras) == sorted([names[2], names[0]])


def test_to_dict_to_frame_and_the_renderers(resnet_like):
    _, _, d = resnet_like
    doc = json.loads(json.dumps(d.to_dict()))
    assert doc["reconciliation"]["gap"] == d.reconciliation.gap
    assert doc["aligned"] == 27 and doc["only_torch"] == doc["only_keras"] == 0
    frame = d.to_frame()
    assert len(frame) == sum(len(x.places) for x in d.differences)
    assert set(frame["key"]) == RESNET_LIKE
    causes = d.to_frame("causes")
    assert int(causes["params"].sum()) == d.reconciliation.gap
    with pytest.raises(SpecError, match="table='nope' must be one of"):
        d.to_frame("nope")
    text = render_text(d)
    assert f"gap (keras - torch): {d.reconciliation.gap:+,}" in text
    assert "conv.strides_moved" in render_markdown(d)
    assert render_html(d).startswith("<!DOCTYPE html>")


def test_allow_pins_the_expected_differences():
    t, k = torch_resnet_like(), keras_resnet_like()
    assert_equivalent(t, k, input="3x32x32", allow=sorted(RESNET_LIKE))
    assert_equivalent(t, k, input="3x32x32", allow=["conv.*", "batch_norm.*", "dense.*"])
    with pytest.raises(AssertionError, match=r"batch_norm.epsilon: torch 1e-05, keras 1.001e-05"):
        assert_equivalent(t, k, input="3x32x32", allow=sorted(RESNET_LIKE - {"batch_norm.epsilon"}))
    with pytest.raises(SpecError, match=r"allow='conv.\*' must be a list"):
        check_equivalent(t, k, input="3x32x32", allow="conv.*")
    with pytest.raises(SpecError, match="allow item 3 must be a string"):
        check_equivalent(t, k, input="3x32x32", allow=[3])


def test_allow_through_the_fixture(pytester):
    pytester.makepyfile(
        textwrap.dedent(
            f"""
            from diff_pairs import keras_resnet_like, torch_resnet_like

            def test_pinned(compare_equivalent):
                compare_equivalent(torch_resnet_like(), keras_resnet_like(), input="3x32x32",
                                   allow={sorted(RESNET_LIKE)!r})

            def test_something_new(compare_equivalent):
                compare_equivalent(torch_resnet_like(), keras_resnet_like(), input="3x32x32",
                                   allow=["conv.*", "dense.*"])
            """
        )
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*not in allow*", "*batch_norm.epsilon*"])


def test_the_diff_command(capsys):
    ref = ["--torch", "diff_pairs:torch_resnet_like", "--keras", "diff_pairs:keras_resnet_like"]
    code = main(["diff", *ref, "--input", "3x32x32", "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 1  # they differ
    assert {x["key"] for x in doc["differences"]} == RESNET_LIKE
    assert main(["diff", *ref, "--input", "3x32x32", "--measure"]) == 1
    out = capsys.readouterr().out
    assert "conv.strides_moved" in out and "dense.activation switched off" in out
    bad = ["--torch", "diff_pairs:keras_resnet_like", "--keras", "diff_pairs:keras_resnet_like"]
    assert main(["diff", *bad, "--input", "3x32x32"]) == 2
    assert "not a torch.nn.Module" in capsys.readouterr().err
    assert main(["diff", "--torch", "nowhere:x", "--keras", "nowhere:y", "--input", "1x2x2"]) == 2


def test_align_is_by_structure_not_names():
    ta = from_torch(torch_resnet_like(), "3x32x32")
    ka = from_keras(keras_resnet_like())
    pairs = align(ta.model, ka.model)
    kinds = [(ta.model.layers[i].kind, ka.model.layers[j].kind) for i, j in pairs]
    assert all(a == b for a, b in kinds)


def test_the_drift_of_a_missing_softmax_is_the_softmax_itself():
    t, _ = _dense_pair()
    k = keras.Sequential(
        [
            keras.Input((2, 2, 3)),
            L.Flatten(),
            L.Dense(8, activation="relu"),
            L.Dense(4, activation="softmax"),
        ]
    )
    d = compare.diff(t, k, input="3x2x2", measure=True)
    # the oracle: torch's logits against their softmax, computed here
    x = np.random.default_rng(0).standard_normal((2, 3, 2, 2)).astype("float32")
    with torch.no_grad():
        y = t(torch.from_numpy(x)).double().numpy()
    soft = np.exp(y - y.max(axis=1, keepdims=True))
    soft /= soft.sum(axis=1, keepdims=True)
    assert d.drift.error == pytest.approx(np.abs(y - soft).max(), rel=1e-4)
    (switch,) = d.drift.switched
    assert switch.key == "dense.activation" and switch.error < 1e-5
    assert d.drift.all_off == switch.error
    assert d.to_dict()["drift"]["switched"][0]["key"] == "dense.activation"
    # a separate Softmax layer holds no activation attribute: named, not switched off
    t, k = _dense_pair(keras_tail=(L.Softmax(),))
    (switch,) = compare.diff(t, k, input="3x2x2", measure=True).drift.switched
    assert "not switched off" in switch.note


def test_the_drift_of_a_batch_norm_epsilon_switched_off():
    torch.manual_seed(0)
    t = nn.Sequential(nn.Conv2d(3, 4, 3, bias=False), nn.BatchNorm2d(4)).eval()
    with torch.no_grad():
        t[1].running_var.fill_(1e-3)  # a small variance: epsilon matters
    k = keras.Sequential(
        [keras.Input((6, 6, 3)), L.Conv2D(4, 3, use_bias=False), L.BatchNormalization(epsilon=1e-3)]
    )
    d = compare.diff(t, k, input="3x6x6", measure=True)
    assert {x.key for x in d.differences} == {"batch_norm.epsilon", "batch_norm.momentum"}
    # sqrt(1e-3 + 1e-5) against sqrt(1e-3 + 1e-3): outputs shrink by about 1 - 0.71
    assert d.drift.error > 0.1 * d.drift.scale
    switched = {s.key: s.error for s in d.drift.switched}
    assert switched["batch_norm.epsilon"] < 1e-5
    assert switched["batch_norm.momentum"] == pytest.approx(d.drift.error)  # no effect at inference
    assert k.layers[-1].epsilon == 1e-3  # the user's model is unchanged


def test_the_port_leaves_no_drift_between_identical_implementations():
    t, k = _dense_pair()
    d = compare.diff(t, k, input="3x2x2", measure=True)
    assert d.drift.error < 1e-5 and d.drift.switched == () and d.drift.all_off is None


def test_compare_diff_is_callable_and_holds_the_renderers_in_a_fresh_interpreter():
    import subprocess
    import sys

    code = (
        "import compare; f = compare.diff; import compare.diff.render; "
        "assert callable(compare.diff) and compare.diff.render_text is not None; "
        "from compare.diff import diff; assert diff is compare.diff; print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok"
