"""``compare.translate.port``: index maps decoded into numpy statements (no framework).

Every decoded ``Expr`` is held against what it must compute: the printed text and
``apply`` describe the same operations, and ``apply`` on the numbered source gives the
target the index map came from.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from compare.translate.port import decode, decode_target


def _decoded(source: np.ndarray, target: np.ndarray, name: str = "w0"):
    """Decode the map ``target`` (values are source flat indices) and check ``apply``."""
    expr = decode(target.ravel(), source.shape, target.shape, name)
    assert expr is not None
    np.testing.assert_array_equal(expr.apply({name: source}), target)
    return expr


def test_conv_kernel_is_one_transpose():
    w = np.arange(8 * 3 * 5 * 7).reshape(8, 3, 5, 7)  # torch (O, I, H, W)
    expr = _decoded(w, w.transpose(2, 3, 1, 0))  # keras (H, W, I, O)
    assert expr.text == 'np.transpose(w["w0"], (2, 3, 1, 0))'


def test_dense_after_flatten_splits_the_feature_axis():
    o, c, h, w_ = 4, 3, 2, 5
    w = np.arange(o * c * h * w_).reshape(o, c * h * w_)  # torch rows C,H,W
    target = w.reshape(o, c, h, w_).transpose(2, 3, 1, 0).reshape(h * w_ * c, o)
    expr = _decoded(w, target)
    # H and W stay together in both orders and neither shape marks where they part
    assert expr.text == 'np.transpose(w["w0"].reshape(4, 3, 10), (2, 1, 0)).reshape(30, 4)'


def test_gru_gates_are_reordered_with_take():
    h, i = 6, 4
    w = np.arange(3 * h * i).reshape(3 * h, i)  # torch (r, z, n) x H rows
    target = w.reshape(3, h, i)[[1, 0, 2]].transpose(2, 0, 1).reshape(i, 3 * h)
    expr = _decoded(w, target)
    assert "np.take(" in expr.text and "[1, 0, 2]" in expr.text


def test_identity_is_the_array_itself():
    b = np.arange(5)
    assert _decoded(b, b.copy()).text == 'w["w0"]'


@pytest.mark.parametrize(
    ("shape", "perm"),
    [
        pytest.param(shape, perm, id=f"{'x'.join(map(str, shape))}-{''.join(map(str, perm))}")
        for shape in ((2, 3), (3, 1, 4), (2, 3, 4), (5, 2, 3, 2))
        for perm in itertools.permutations(range(len(shape)))
    ],
)
def test_every_transpose_decodes_to_what_it_computes(shape, perm):
    source = np.arange(int(np.prod(shape))).reshape(shape)
    _decoded(source, source.transpose(perm))


def test_a_scrambled_map_has_no_statement():
    p = np.random.default_rng(0).permutation(24)
    assert decode(p, (24,), (24,), "w0") is None


def test_two_biases_summed_and_a_zero_target():
    ids = {"bias_ih": np.arange(1.0, 5.0), "bias_hh": np.arange(1.0, 5.0)}
    summed = decode_target(ids, {"bias_ih": (4,), "bias_hh": (4,)}, (4,), "float32")
    assert summed is not None and summed.text == 'w["bias_ih"] + w["bias_hh"]'
    zero = decode_target({"bias": np.zeros(4)}, {"bias": (4,)}, (4,), "float32")
    assert zero is not None and zero.text == "np.zeros((4,), dtype=np.float32)"
    np.testing.assert_array_equal(zero.apply({}), np.zeros(4, dtype=np.float32))


def test_a_stacked_bias_and_its_split():
    # torch's two GRU biases -> keras' (2, 3H) bias, and back: a block of the source each
    a, b = np.arange(6.0), np.arange(6.0) + 10
    stacked = {
        "a": np.array([[1.0, 2, 3, 4, 5, 6], [0] * 6]),
        "b": np.array([[0.0] * 6, [1, 2, 3, 4, 5, 6]]),
    }
    assign = decode_target(stacked, {"a": (6,), "b": (6,)}, (2, 6), "float32")
    assert assign is not None and assign.text.startswith("np.concatenate([")
    np.testing.assert_array_equal(assign.apply({"a": a, "b": b}), np.stack([a, b]))
    second = decode_target({"bias": np.arange(7.0, 13.0)}, {"bias": (2, 6)}, (6,), "float32")
    assert second is not None and second.text == 'w["bias"][1]'
    np.testing.assert_array_equal(second.apply({"bias": np.stack([a, b])}), b)


def test_a_value_that_names_no_source_element_has_no_statement():
    assert decode_target({"w": np.array([0.5, 1.0])}, {"w": (2,)}, (2,), "float32") is None
