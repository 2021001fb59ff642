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


# -- the axis labels against the frameworks' own weight shapes ---------------------------

SPATIAL = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}
KERNEL = (2, 3, 5)  # distinct sizes, so a label in the wrong place shows
C, M, F = 3, 2, 4  # input channels, depth multiplier, filters


def _real_shapes(kind, role, rank):
    """(torch shape, keras shape) of ``role`` in layers built here, straight."""
    import keras
    import torch

    k = KERNEL[:rank]
    nd = f"{rank}d"
    conv = getattr(torch.nn, f"Conv{nd}")
    keras_input = (None, *(8,) * rank, C)
    if kind == "conv":
        t = conv(C, F, k).weight if role == "kernel" else conv(C, F, k).bias
        layer = getattr(keras.layers, f"Conv{rank}D")(F, k)
    elif kind == "conv_transpose":
        t = getattr(torch.nn, f"ConvTranspose{nd}")(C, F, k).weight
        layer = getattr(keras.layers, f"Conv{rank}DTranspose")(F, k)
    elif kind == "depthwise_conv":
        t = conv(C, C * M, k, groups=C).weight
        layer = getattr(keras.layers, f"DepthwiseConv{rank}D")(k, depth_multiplier=M)
    elif role == "depthwise_kernel":  # separable_conv
        t = conv(C, C * M, k, groups=C).weight
        layer = getattr(keras.layers, f"SeparableConv{rank}D")(F, k, depth_multiplier=M)
    else:
        t = conv(C * M, F, 1).weight
        layer = getattr(keras.layers, f"SeparableConv{rank}D")(F, k, depth_multiplier=M)
    layer.build(keras_input)
    attr = "kernel" if kind == "depthwise_conv" else role  # DepthwiseConvND: "kernel"
    return tuple(t.shape), tuple(getattr(layer, attr).shape)


@pytest.mark.parametrize(
    ("kind", "role", "rank"),
    [
        (kind, role, rank)
        for kind, role in [
            ("conv", "kernel"),
            ("conv", "bias"),
            ("conv_transpose", "kernel"),
            ("depthwise_conv", "depthwise_kernel"),
            ("separable_conv", "depthwise_kernel"),
            ("separable_conv", "pointwise_kernel"),
        ]
        for rank in (1, 2, 3)
        if rank < 3 or kind in ("conv", "conv_transpose")  # Keras has no 3-D depthwise
    ],
)
def test_shown_axes_name_the_axes_of_the_frameworks_own_weights(kind, role, rank):
    layout = layouts.weight_layout(kind, role, rank)
    sizes = dict(zip(SPATIAL[rank], KERNEL))
    sizes |= {"O": F, "I": C, "C": C, "M": M, "C*M": C * M, "1": 1}
    torch_shape, keras_shape = _real_shapes(kind, role, rank)
    assert tuple(sizes[label] for label in layout.torch_shown) == torch_shape
    assert tuple(sizes[label] for label in layout.keras_shown) == keras_shape


def test_dense_axes_name_the_axes_of_the_frameworks_own_weights():
    import keras
    import torch

    layout = layouts.weight_layout("dense", "kernel", 0)
    dense = keras.layers.Dense(F)
    dense.build((None, C))
    sizes = {"O": F, "I": C}
    assert tuple(sizes[a] for a in layout.torch_shown) == tuple(torch.nn.Linear(C, F).weight.shape)
    assert tuple(sizes[a] for a in layout.keras_shown) == tuple(dense.kernel.shape)
