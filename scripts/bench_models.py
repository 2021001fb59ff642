#!/usr/bin/env python
"""Benchmark on real models: ``compare`` against a bare script written for each model.

For each model (keras.applications VGG16, weights=None; ResNet50 once graph import
lands), in fresh processes, alternating, each measured ``--reps`` times:

* ``bare``: a script with no ``compare`` code that builds the Keras model, builds the
  same network in PyTorch by hand, ports the weights (kernel transposes, the first
  dense layer's rows reordered from H,W,C to C,H,W flattening), runs both forwards on
  the same 2-sample input and compares the outputs;
* ``compare``: builds the same Keras model, then ``compare.from_keras`` and
  ``compare.compare`` (the public API), in three modes: the full report,
  ``diagnostics=False`` and shape-only (``parity=False``).

Each child reports the wall time after its imports (model building included) and its
peak RSS (``ru_maxrss``); the table gives medians and the ratios to the bare script.

    .venv/bin/python scripts/bench_models.py            # 2 runs of each
    .venv/bin/python scripts/bench_models.py --reps 3
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

MODES = {"full": {}, "no-diagnostics": {"diagnostics": False}, "shape-only": {"parity": False}}
#: The issue's targets: (time, peak RSS) ratios to the bare script, full report.
TARGETS = {"vgg16": (1.2, 1.15), "resnet50": (1.3, 1.2)}


def keras_model(name: str) -> Any:
    import keras

    if name == "vgg16":
        return keras.applications.VGG16(weights=None)
    if name == "resnet50":
        return keras.applications.ResNet50(weights=None, input_shape=(64, 64, 3))
    raise ValueError(f"unknown model {name!r}")


def bare_vgg16(km: Any) -> float:
    """Build VGG16 in PyTorch, port the Keras weights, run both, max |difference|."""
    import numpy as np
    import torch
    from torch import nn

    blocks, layers, channels = (2, 2, 3, 3, 3), [], 3
    for block, width in zip(blocks, (64, 128, 256, 512, 512)):
        for _ in range(block):
            layers += [nn.Conv2d(channels, width, 3, padding=1), nn.ReLU()]
            channels = width
        layers.append(nn.MaxPool2d(2))
    layers += [nn.Flatten(), nn.Linear(7 * 7 * 512, 4096), nn.ReLU()]
    layers += [nn.Linear(4096, 4096), nn.ReLU(), nn.Linear(4096, 1000), nn.Softmax(-1)]
    tm = nn.Sequential(*layers).eval()
    with torch.no_grad():
        dense_seen = 0
        targets = [m for m in tm if isinstance(m, (nn.Conv2d, nn.Linear))]
        sources = [layer for layer in km.layers if layer.weights]
        for t, k in zip(targets, sources, strict=True):
            kernel, bias = (v.numpy() for v in k.weights)
            if kernel.ndim == 4:
                kernel = kernel.transpose(3, 2, 0, 1)  # HWIO -> OIHW
            else:
                if dense_seen == 0:  # rows in H,W,C order -> C,H,W
                    kernel = kernel.reshape(7, 7, 512, -1).transpose(2, 0, 1, 3)
                    kernel = kernel.reshape(7 * 7 * 512, -1)
                kernel = kernel.T
                dense_seen += 1
            t.weight.copy_(torch.from_numpy(kernel))
            t.bias.copy_(torch.from_numpy(bias))
        x = np.random.default_rng(0).standard_normal((2, 224, 224, 3)).astype("float32")
        y_t = tm(torch.from_numpy(x).permute(0, 3, 1, 2)).numpy()
    y_k = np.asarray(km(x, training=False))
    return float(np.max(np.abs(y_t - y_k)))


BARE = {"vgg16": bare_vgg16}
#: Models not measured yet, and why.
NOT_YET = {
    "resnet50": "not measured yet: needs graph import (from_keras(ResNet50) refuses "
    "pool1_pad + pool1_pool: zero padding before a max pool)",
}


def child(model: str, who: str, threads: int) -> dict[str, Any]:
    """One measurement in this (fresh) process; imports first, then the clock starts."""
    import keras  # noqa: F401  (imported before the clock starts)
    import numpy  # noqa: F401
    import tensorflow as tf
    import torch

    import compare
    import compare.comparison
    import compare.importers.keras

    torch.set_num_threads(threads)
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)
    start = time.perf_counter()
    km = keras_model(model)
    built = time.perf_counter()
    if who == "bare":
        error = BARE[model](km)
        status, params = ("ok" if error < 1e-4 else "mismatch"), km.count_params()
    else:
        imported = compare.from_keras(km)  # km stays alive, as the user's model would
        result = compare.compare(imported, **MODES[who])[0]
        status, params = str(result.status), result.totals()["torch"]["params"]
        error = result.parity.max_abs_err
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "model": model,
        "who": who,
        "seconds": seconds,
        "keras_build_s": built - start,
        "peak_rss_mib": peak,
        "status": status,
        "params": params,
        "max_abs_err": error,
    }


def run_child(model: str, who: str, threads: int) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", model, who, "--threads", str(threads)]
    env = {"COMPARE_MAX_ELEMENTS": str(2**28), **os.environ}
    out = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
    if out.returncode:
        return {"model": model, "who": who, "error": out.stderr.strip().splitlines()[-1:]}
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def measure(models: list[str], reps: int, threads: int) -> list[dict[str, Any]]:
    """Every contestant ``reps`` times, interleaved, each in a fresh process."""
    runs: list[dict[str, Any]] = []
    for model in models:
        if model not in BARE:
            note = NOT_YET.get(model, "not measured yet: no bare script for it")
            runs.append({"model": model, "who": "all", "error": [note]})
    models = [m for m in models if m in BARE]
    for _ in range(reps):
        for model in models:
            for who in ("bare", *MODES):
                runs.append(run_child(model, who, threads))
                print(f"  {runs[-1]}", file=sys.stderr, flush=True)
    return runs


def rows(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Medians per model and contestant, with ratios to the bare script's medians."""
    out = []
    for model in dict.fromkeys(r["model"] for r in runs):
        mine = [r for r in runs if r["model"] == model]
        failed = [r for r in mine if "error" in r]
        if failed:
            out.append({"model": model, "who": "all", "error": failed[0]["error"]})
            continue
        med = {
            who: {
                k: statistics.median(r[k] for r in mine if r["who"] == who)
                for k in ("seconds", "peak_rss_mib")
            }
            for who in ("bare", *MODES)
        }
        for who in ("bare", *MODES):
            each = [r for r in mine if r["who"] == who]
            row = {
                "model": model,
                "who": who,
                "seconds": [round(r["seconds"], 2) for r in each],
                "peak_rss_mib": [round(r["peak_rss_mib"]) for r in each],
                "time_ratio": med[who]["seconds"] / med["bare"]["seconds"],
                "rss_ratio": med[who]["peak_rss_mib"] / med["bare"]["peak_rss_mib"],
                "status": sorted({r["status"] for r in each}),
                "params": each[0]["params"],
            }
            if who == "full":
                row["targets"] = TARGETS.get(model)
            out.append(row)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="vgg16", help="comma-separated: vgg16,resnet50")
    parser.add_argument("--reps", type=int, default=2, help="fresh-process runs of each")
    parser.add_argument("--threads", type=int, default=1, help="compute threads per framework")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    # VGG16's first dense layer holds 102,760,448 weights, over the default element
    # bound (set here, not at import: importing this module changes nothing)
    os.environ.setdefault("COMPARE_MAX_ELEMENTS", str(2**28))
    if args.child:
        print(json.dumps(child(*args.child, args.threads)))
        return 0
    table = rows(measure(args.models.split(","), args.reps, args.threads))
    for row in table:
        print(json.dumps(row))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
