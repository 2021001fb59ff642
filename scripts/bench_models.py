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
peak RSS (``ru_maxrss``); the table gives medians and the ratios to the bare script
(time: the median of each round's paired ratio; see ``rows``).

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
from pathlib import Path
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


def bare_resnet50(km: Any) -> float:
    """Build ResNet50 (Keras' v1: stride on the first 1x1 conv, biased convs, batch norm
    eps 1.001e-5) in PyTorch, port the Keras weights by layer name, run both, max |diff|."""
    import numpy as np
    import torch
    from torch import nn

    mods: dict[str, nn.Module] = {}

    def conv(name: str, cin: int, cout: int, k: int, stride: int = 1, pad: int = 0) -> None:
        mods[f"{name}_conv"] = nn.Conv2d(cin, cout, k, stride=stride, padding=pad)
        mods[f"{name}_bn"] = nn.BatchNorm2d(cout, eps=1.001e-5)

    conv("conv1", 3, 64, 7, 2)
    plan, cin = [], 64
    for stack, (width, blocks, stride) in enumerate(
        ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)), start=2
    ):
        for b in range(1, blocks + 1):
            name, s = f"conv{stack}_block{b}", stride if b == 1 else 1
            if b == 1:
                conv(f"{name}_0", cin, 4 * width, 1, s)
            conv(f"{name}_1", cin, width, 1, s)
            conv(f"{name}_2", width, width, 3, 1, 1)
            conv(f"{name}_3", width, 4 * width, 1)
            plan.append((name, b == 1))
            cin = 4 * width
    mods["predictions"] = nn.Linear(2048, 1000)
    tm = nn.ModuleDict(mods).eval()

    def unit(x: Any, name: str, relu: bool = True) -> Any:
        y = tm[f"{name}_bn"](tm[f"{name}_conv"](x))
        return torch.relu(y) if relu else y

    def forward(x: Any) -> Any:
        x = unit(nn.functional.pad(x, (3, 3, 3, 3)), "conv1")
        x = nn.functional.max_pool2d(nn.functional.pad(x, (1, 1, 1, 1)), 3, 2)
        for name, projected in plan:
            short = unit(x, f"{name}_0", relu=False) if projected else x
            y = unit(unit(x, f"{name}_1"), f"{name}_2")
            x = torch.relu(short + unit(y, f"{name}_3", relu=False))
        return torch.softmax(tm["predictions"](x.mean((2, 3))), -1)

    with torch.no_grad():
        for layer in km.layers:
            if layer.name not in tm:
                continue
            t, arrays = tm[layer.name], [v.numpy() for v in layer.weights]
            if isinstance(t, nn.Conv2d):
                t.weight.copy_(torch.from_numpy(arrays[0].transpose(3, 2, 0, 1)))
                t.bias.copy_(torch.from_numpy(arrays[1]))
            elif isinstance(t, nn.BatchNorm2d):
                for target, array in zip((t.weight, t.bias, t.running_mean, t.running_var), arrays):
                    target.copy_(torch.from_numpy(array))
            else:
                t.weight.copy_(torch.from_numpy(arrays[0].T))
                t.bias.copy_(torch.from_numpy(arrays[1]))
        x = np.random.default_rng(0).standard_normal((2, 64, 64, 3)).astype("float32")
        y_t = forward(torch.from_numpy(x).permute(0, 3, 1, 2)).numpy()
    y_k = np.asarray(km(x, training=False))
    return float(np.max(np.abs(y_t - y_k)))


BARE = {"vgg16": bare_vgg16, "resnet50": bare_resnet50}
#: Models not measured yet, and why.
NOT_YET: dict[str, str] = {}


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
    """Medians per model and contestant, with ratios to the bare script.

    The time ratio is the median of the rounds' ratios: round ``i`` runs the bare script
    and then each mode back to back, so a slow spell of the shared machine (its bare
    script's time varies by 1.3x between runs) weighs on both sides of a ratio, where a
    ratio of the medians takes each median from other moments. The ratio of the medians
    is kept beside it (``time_ratio_of_medians``). Peak RSS does not drift: its ratio is
    of the medians.
    """
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
        bare_seconds = [r["seconds"] for r in mine if r["who"] == "bare"]
        for who in ("bare", *MODES):
            each = [r for r in mine if r["who"] == who]
            paired = [r["seconds"] / b for r, b in zip(each, bare_seconds, strict=True)]
            row = {
                "model": model,
                "who": who,
                "seconds": [round(r["seconds"], 2) for r in each],
                "peak_rss_mib": [round(r["peak_rss_mib"]) for r in each],
                "time_ratio": statistics.median(paired),
                "time_ratio_of_medians": med[who]["seconds"] / med["bare"]["seconds"],
                "rss_ratio": med[who]["peak_rss_mib"] / med["bare"]["peak_rss_mib"],
                "status": sorted({r["status"] for r in each}),
                "params": each[0]["params"],
            }
            if who == "full":
                row["targets"] = TARGETS.get(model)
            out.append(row)
    return out


def measure_this_checkout() -> None:
    """Import ``compare`` from the checkout this script lies in (and make the processes
    it starts do the same), not whatever copy the environment has installed: an
    editable install of another worktree would otherwise be what is measured."""
    root = str(Path(__file__).resolve().parent.parent)
    if sys.path[:1] != [root]:
        sys.path.insert(0, root)
    paths = [root, *(p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p)]
    os.environ["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="vgg16", help="comma-separated: vgg16,resnet50")
    parser.add_argument("--reps", type=int, default=2, help="fresh-process runs of each")
    parser.add_argument("--threads", type=int, default=1, help="compute threads per framework")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    measure_this_checkout()
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
