"""What TensorFlow's CPU kernels really refuse, checked on the machine the suite runs on.

``compare`` refuses a dilated transposed convolution on the Keras side on every
machine (``compare.kinds.conv.keras.DILATED_TRANSPOSE``) so that reports do not depend on
the CPU. This test holds that refusal against the real kernel: where TensorFlow runs it
(a CPU on which it enables oneDNN) the test is skipped, saying so.
"""

from __future__ import annotations

import os
import re

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras
import tensorflow as tf

from compare.comparison import compare_model
from compare.spec import ConvTranspose, Input, Model

REFUSAL = re.compile(
    r"Current CPU implementations? (?:do|does) not yet support dilation rates larger than 1"
)


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_tensorflow_cpu_kernel_refuses_dilated_transposed_convs(rank):
    layer = {1: keras.layers.Conv1DTranspose, 2: keras.layers.Conv2DTranspose}.get(
        rank, keras.layers.Conv3DTranspose
    )(2, 3, dilation_rate=2)
    x = np.zeros((1, *(6,) * rank, 3), dtype="float32")
    try:
        layer(x)
    except tf.errors.InvalidArgumentError as exc:
        assert REFUSAL.search(str(exc))
    else:
        pytest.skip("this CPU's TensorFlow runs dilated transposed convs (oneDNN)")


def test_a_dilated_transposed_conv_is_unsupported_in_keras_and_runs_in_torch():
    model = Model("m", Input(4, (8,)), (ConvTranspose(filters=2, kernel_size=3, dilation=2),))
    result = compare_model(model)
    layer = result.layers[0]
    assert layer.parity.status == "unsupported"
    assert layer.frameworks["torch"].supported
    assert layer.frameworks["torch"].params == 2 * 3 * 4 + 2
    assert not layer.frameworks["keras"].supported
    assert "refuses dilation_rate > 1" in str(layer.frameworks["keras"].reason)
