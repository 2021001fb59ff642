"""Model pairs for the diff tests: one network written in each library's own way.

Each function takes no argument and returns a model with random weights (nothing is
downloaded), so that ``python -m compare diff --torch diff_pairs:NAME`` can name it.
"""

from __future__ import annotations

import os
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "tensorflow")


def torch_resnet_like() -> Any:
    """A tiny ResNet, torchvision's way: bias-free convs, the downsampling block's
    stride on its 3x3 conv ("v1.5"), BN epsilon 1e-5, no softmax."""
    import torch
    from torch import nn

    class Bottleneck(nn.Module):
        def __init__(self, cin: int, width: int, stride: int) -> None:
            super().__init__()
            out = 4 * width
            self.conv1 = nn.Conv2d(cin, width, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(width)
            self.conv2 = nn.Conv2d(width, width, 3, stride, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(width)
            self.conv3 = nn.Conv2d(width, out, 1, bias=False)
            self.bn3 = nn.BatchNorm2d(out)
            self.relu = nn.ReLU()
            self.downsample = None
            if stride != 1 or cin != out:
                self.downsample = nn.Sequential(
                    nn.Conv2d(cin, out, 1, stride, bias=False), nn.BatchNorm2d(out)
                )

        def forward(self, x: Any) -> Any:
            y = self.relu(self.bn1(self.conv1(x)))
            y = self.relu(self.bn2(self.conv2(y)))
            y = self.bn3(self.conv3(y))
            short = x if self.downsample is None else self.downsample(x)
            return self.relu(y + short)

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(16)
            self.relu = nn.ReLU()
            self.layer1 = nn.Sequential(Bottleneck(16, 8, 2), Bottleneck(32, 8, 1))
            self.pool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(32, 10)

        def forward(self, x: Any) -> Any:
            x = self.layer1(self.relu(self.bn1(self.conv1(x))))
            return self.fc(torch.flatten(self.pool(x), 1))

    torch.manual_seed(0)
    return Net().eval()


def keras_resnet_like(swap_add: bool = False) -> Any:
    """The same tiny ResNet, keras.applications' way: convs with biases, the
    downsampling block's stride on its first 1x1 conv, BN epsilon 1.001e-5, a
    softmax on the classifier. ``swap_add`` writes each add's inputs the other way."""
    import keras
    from keras import layers

    def block(x: Any, width: int, stride: int, name: str, shortcut: bool) -> Any:
        bn = {"epsilon": 1.001e-5}
        s = x
        if shortcut:
            s = layers.Conv2D(4 * width, 1, strides=stride, name=name + "_0_conv")(x)
            s = layers.BatchNormalization(name=name + "_0_bn", **bn)(s)
        y = layers.Conv2D(width, 1, strides=stride, name=name + "_1_conv")(x)
        y = layers.BatchNormalization(name=name + "_1_bn", **bn)(y)
        y = layers.Activation("relu", name=name + "_1_relu")(y)
        y = layers.Conv2D(width, 3, padding="same", name=name + "_2_conv")(y)
        y = layers.BatchNormalization(name=name + "_2_bn", **bn)(y)
        y = layers.Activation("relu", name=name + "_2_relu")(y)
        y = layers.Conv2D(4 * width, 1, name=name + "_3_conv")(y)
        y = layers.BatchNormalization(name=name + "_3_bn", **bn)(y)
        y = layers.Add(name=name + "_add")([y, s] if swap_add else [s, y])
        return layers.Activation("relu", name=name + "_out")(y)

    keras.utils.set_random_seed(0)
    inp = keras.Input((32, 32, 3))
    x = layers.Conv2D(16, 3, padding="same", name="conv1_conv")(inp)
    x = layers.BatchNormalization(epsilon=1.001e-5, name="conv1_bn")(x)
    x = layers.Activation("relu", name="conv1_relu")(x)
    x = block(x, 8, 2, "conv2_block1", True)
    x = block(x, 8, 1, "conv2_block2", False)
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    x = layers.Dense(10, activation="softmax", name="predictions")(x)
    return keras.Model(inp, x, name="resnet_like")
