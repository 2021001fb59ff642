"""Layouts as data: permutations round-trip, ports round-trip, activations round-trip."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from compare import layouts
from compare.formulas import Shape

LAYOUTS = [
    (kind, role, rank, groups, flattened)
    for kind, role in [
        ("conv", "kernel"),
        ("conv_transpose", "kernel"),
        ("depthwise_conv", "depthwise_kernel"),
        ("separable_conv", "depthwise_kernel"),
        ("separable_conv", "pointwise_kernel"),
        ("conv", "bias"),
    ]
    for rank in (1, 2, 3)
    for groups in (1, 2)
    for flattened in (0,)
] + [("dense", "kernel", 0, 1, f) for f in (0, 1, 2, 3)]


def _ids(case):
    return "-".join(map(str, case))


@pytest.mark.parametrize("case", LAYOUTS, ids=_ids)
def test_port_round_trips(case):
    kind, role, rank, groups, flattened = case
    layout = layouts.weight_layout(kind, role, rank, groups=groups, flattened=flattened)
    rng = np.random.default_rng(0)
    sizes = {label: int(rng.integers(2, 5)) for label in layout.torch}
    torch_shape = tuple(sizes[label] for label in layout.torch)
    keras_shape = tuple(sizes[label] for label in layout.keras)
    w = rng.standard_normal(torch_shape)
    to_keras = layouts.port_weight(w, layout, sizes, keras_shape, to="keras")
    back = layouts.port_weight(to_keras, layout, sizes, torch_shape, to="torch")
    np.testing.assert_array_equal(back, w)
    perm = layouts.permutation(layout.torch, layout.keras)
    np.testing.assert_array_equal(to_keras, w.transpose(perm))
    assert layouts.permutation(layout.keras, layout.torch) == layouts.inverse(perm)


@pytest.mark.parametrize("n", range(1, 6))
def test_inverse_undoes_every_permutation(n):
    for perm in itertools.permutations(range(n)):
        inv = layouts.inverse(perm)
        assert tuple(perm[i] for i in inv) == tuple(range(n))
        assert tuple(inv[i] for i in perm) == tuple(range(n))


def test_conv_kernel_labels_match_the_issue():
    layout = layouts.weight_layout("conv", "kernel", 2)
    assert layout.torch_shown == ("O", "I", "H", "W")
    assert layout.keras_shown == ("H", "W", "I", "O")
    assert layouts.permutation(layout.torch, layout.keras) == (2, 3, 1, 0)


def test_permutation_rejects_different_axes():
    with pytest.raises(ValueError, match="do not name the same axes"):
        layouts.permutation(("O", "I"), ("O", "C"))


@pytest.mark.parametrize(
    "shape",
    [Shape(3, (4,)), Shape(3, (4, 5)), Shape(3, (4, 5, 2)), Shape(7), Shape(12, (), (3, (2, 2)))],
    ids=["map1d", "map2d", "map3d", "vector", "flattened"],
)
def test_activation_round_trip(shape):
    x = np.random.default_rng(1).standard_normal((2, *shape.torch()[1:]))
    k = layouts.activation_to_keras(x, shape)
    assert k.shape == (2, *shape.keras()[1:])
    np.testing.assert_array_equal(layouts.activation_to_torch(k, shape), x)


def test_flattened_activation_is_reordered_hwc():
    # torch flattens (C=2, H=1, W=3) as c0w0 c0w1 c0w2 c1w0 ...; keras as w0c0 w0c1 ...
    shape = Shape(6, (), (2, (1, 3)))
    x = np.arange(6.0).reshape(1, 6)
    np.testing.assert_array_equal(layouts.activation_to_keras(x, shape), [[0, 3, 1, 4, 2, 5]])
