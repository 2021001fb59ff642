#!/usr/bin/env python
"""Benchmark: what ``compare`` costs on top of the frameworks' own work.

Measures, in one run, side by side:

(a) overhead: seconds per spec of ``compare`` over a sweep of N random conv specs
    against a bare script (no ``compare`` code) that builds the same layer in PyTorch
    and Keras, ports the weights with a transpose, runs both forwards on the same
    input and compares the outputs. Both run in one process, frameworks warmed up,
    in interleaved blocks (bare first in one block, compare first in the next), so
    both see the same machine; per-block medians, ratio = compare / bare;
(b) peak RSS of a fresh process running the compare sweep for each N, and of one
    running the bare sweep;
(c) start-up time of ``python -m compare --help`` against ``python -c pass``, and
    that neither ``import compare`` nor ``--help`` nor a bad spec file imports a
    framework;
(d) the per-spec cost against layer size (bare and compare, full parity and
    shape-only), and the shape-only Conv3d with 1024 in and out channels and
    kernel 5 (131M parameters): time and peak RSS in a fresh process.

Prints a table and writes it to ``bench/results.csv`` and ``bench/results.json``.

    .venv/bin/python scripts/bench.py            # N = 100, 300, 1000 (a few minutes)
    .venv/bin/python scripts/bench.py --quick    # N = 20, 60 (under a minute)
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROOT = Path(__file__).resolve().parent.parent
BLOCK = 20  # specs per timed block

# -- the specs -------------------------------------------------------------------


def random_specs(n: int, seed: int = 0) -> list[dict[str, Any]]:
    """``n`` random single-conv models (spec dicts), 2-D, that both frameworks express
    natively: odd kernels, 'valid' or stride-1 'same' padding, optional dilation."""
    import random

    rng = random.Random(seed)
    specs = []
    for i in range(n):
        channels = rng.choice((1, 3, 8, 16))
        size = rng.choice((8, 12, 16, 28))
        kernel = rng.choice((1, 3, 5))
        padding = rng.choice(("valid", "same"))
        strides = 1 if padding == "same" else rng.choice((1, 2))
        dilation = 1 if strides > 1 else rng.choice((1, 1, 2))
        if padding == "valid" and dilation * (kernel - 1) + 1 > size:
            dilation = 1
        specs.append(
            {
                "name": f"conv{i}",
                "input": {"channels": channels, "size": [size, size]},
                "layers": [
                    {
                        "kind": "conv",
                        "filters": rng.choice((4, 8, 16, 32)),
                        "kernel_size": kernel,
                        "strides": strides,
                        "padding": padding,
                        "dilation": dilation,
                    }
                ],
            }
        )
    return specs


def sized_specs() -> list[tuple[str, dict[str, Any]]]:
    """Conv2d 3x3 on a 16x16 input with growing channels (params grow ~ C^2)."""
    out = []
    for c in (8, 32, 128, 256, 512):
        spec = {
            "name": f"c{c}",
            "input": {"channels": c, "size": [16, 16]},
            "layers": [{"kind": "conv", "filters": c, "kernel_size": 3, "padding": "same"}],
        }
        out.append((f"conv2d {c}->{c} 3x3 on 16x16", spec))
    return out


BIG_CONV3D = {
    "name": "conv3d_1024",
    "input": {"channels": 1024, "size": [8, 8, 8]},
    "layers": [{"kind": "conv", "filters": 1024, "kernel_size": 5}],
}


def limit_threads(threads: int) -> None:
    """Give both frameworks the same number of compute threads (before any op runs):
    on a small shared machine their spinning thread pools otherwise fight each other
    and the timings measure the scheduler."""
    import tensorflow as tf
    import torch

    torch.set_num_threads(threads)
    torch.set_num_interop_threads(threads)
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)


# -- the two contestants -----------------------------------------------------------


class Bare:
    """The same real work with no ``compare`` code: build the layer in both frameworks,
    port the weights (a transpose), run both forwards on the same input, compare."""

    def __init__(self) -> None:
        import keras
        import numpy as np
        import torch

        self.np, self.torch, self.keras = np, torch, keras

    def __call__(self, spec: dict[str, Any]) -> float:
        np, torch, keras = self.np, self.torch, self.keras
        c, size = spec["input"]["channels"], spec["input"]["size"]
        layer = spec["layers"][0]
        f, k, s = layer["filters"], layer["kernel_size"], layer.get("strides", 1)
        d, pad = layer.get("dilation", 1), layer.get("padding", "valid")
        conv_t = {1: torch.nn.Conv1d, 2: torch.nn.Conv2d, 3: torch.nn.Conv3d}[len(size)]
        conv_k = {1: keras.layers.Conv1D, 2: keras.layers.Conv2D, 3: keras.layers.Conv3D}
        torch.manual_seed(0)
        t = conv_t(c, f, k, stride=s, padding=pad, dilation=d).eval()
        kl = conv_k[len(size)](f, k, strides=s, padding=pad, dilation_rate=d)
        kl.build((None, *size, c))
        perm = (*range(2, 2 + len(size)), 1, 0)
        kl.kernel.assign(t.weight.detach().numpy().transpose(perm))
        kl.bias.assign(t.bias.detach().numpy())
        x = np.random.default_rng(0).standard_normal((2, c, *size)).astype("float32")
        with torch.no_grad():
            y_t = t(torch.from_numpy(x)).numpy()
        y_k = keras.ops.convert_to_numpy(kl(np.moveaxis(x, 1, -1)))
        return float(np.max(np.abs(np.moveaxis(y_t, 1, -1) - y_k)))


class Compare:
    """``compare`` on the same spec dict: validate, build, port, run, measure, name the
    differences with their naive-port errors, and make the JSON report record."""

    def __init__(self, parity: bool = True) -> None:
        from compare.comparison import compare_model
        from compare.spec import model_from_dict

        self.compare_model, self.model_from_dict, self.parity = (
            compare_model,
            model_from_dict,
            parity,
        )

    def __call__(self, spec: dict[str, Any]) -> Any:
        result = self.compare_model(self.model_from_dict(spec), parity=self.parity)
        assert result.status in ("ok", "skipped"), result.to_dict()
        return result.to_dict()
