"""Naive-port checks evaluated by the cheaper framework, held against the framework
whose naive port they measure: the dense kind's (the torch layer on the input Keras
reads) against Keras running the same naive kernel (``with_keras_weights``), and a
Keras default's twin evaluated by PyTorch against the Keras twin itself."""

from __future__ import annotations

import dataclasses
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np
import pytest

from compare.kinds.dense.differences import flatten_dense, reshaped_dense_kernel
from compare.naive import (
    context_of,
    framework_default,
    measure_error,
    naive_twin,
    with_keras_weights,
)
from compare.spec import BatchNorm, Dense, Flatten, Input, LayerNorm, Model

MODELS = {
    "flatten": Model("f", Input(3, (4, 5)), (Flatten(), Dense(units=6, activation="relu"))),
    "plain": Model("p", Input(7), (Dense(units=5),)),
}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_the_reshaped_kernel_figure_is_what_keras_computes(name):
    model = MODELS[name]
    ctx = context_of(model, len(model.layers) - 1)
    torch_w = ctx.weights("torch")["kernel"]
    naive = {**ctx.weights("keras"), "kernel": torch_w.reshape(torch_w.shape[::-1])}
    expected, _ = measure_error(ctx.y_keras, with_keras_weights(ctx, naive))
    err, detail = reshaped_dense_kernel(ctx)
    assert expected > 0.1 and err == pytest.approx(expected, rel=1e-5, abs=1e-6)
    assert "instead of transposed" in detail


def test_the_flatten_row_order_figure_is_what_keras_computes():
    ctx = context_of(MODELS["flatten"], 1)
    naive = {**ctx.weights("keras"), "kernel": ctx.weights("torch")["kernel"].T}
    expected, _ = measure_error(ctx.y_keras, with_keras_weights(ctx, naive))
    err, _ = flatten_dense(ctx)
    assert expected > 0.1 and err == pytest.approx(expected, rel=1e-5, abs=1e-6)


def test_a_dense_on_a_sequence_takes_the_generic_path():
    ctx = context_of(Model("s", Input(4, (3,)), (Dense(units=2),)))  # (N, 3 steps, 4)
    err, detail = reshaped_dense_kernel(ctx)
    assert ctx.x_keras.ndim == 3 and err is not None and err > 0
    assert np.isfinite(err) and "instead of transposed" in detail


@pytest.mark.parametrize(
    "layer, field, keras_default",
    [
        (BatchNorm(epsilon=1e-5), "epsilon", 1e-3),
        (LayerNorm(epsilon=1e-5), "epsilon", 1e-3),
    ],
)
def test_a_keras_default_evaluated_by_torch_is_what_the_keras_twin_computes(
    layer, field, keras_default
):
    ctx = context_of(Model("n", Input(4, (6, 6)), (layer,)))
    err, detail = framework_default(field)(ctx)
    twin = dataclasses.replace(layer, **{field: keras_default})
    expected, _ = naive_twin(ctx, "keras", twin)
    assert detail.startswith(f"keras left at its default {field}={keras_default}")
    assert expected > 1e-4 and err == pytest.approx(expected, rel=1e-3)


def test_a_flatten_of_one_pixel_needs_no_row_permutation_and_measures_zero():
    ctx = context_of(Model("one", Input(5, (1, 1)), (Flatten(), Dense(units=3))), 1)
    assert flatten_dense(ctx)[0] == 0.0  # C,H,W and H,W,C orders agree on one pixel
