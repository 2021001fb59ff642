#!/usr/bin/env python
"""Benchmark: what ``compare`` costs on top of the frameworks' own work.

Measures, in one run, side by side:

(a) overhead: seconds per spec of ``compare`` over a sweep of N random conv specs
    against a bare script (no ``compare`` code) that builds the same layer in PyTorch
    and Keras, ports the weights with a transpose, runs both forwards on the same
    input and compares the outputs. ``compare`` runs three times: the full report;
    ``--no-diagnostics``, which does the bare script's framework work and no more
    (the full report also runs a naive-port forward per layer and reads the fresh
    weights to measure the initialisers) but draws no Keras initialiser (torch's
    weights overwrite them, nobody reads them); and the full report with its memo of
    Keras initialiser draws off, so that it draws every one as the bare script does
    (what ``compare``'s own code costs). All run in one process, frameworks warmed
    up, in interleaved blocks whose order rotates, so all see the same machine;
    headline = median over blocks of the paired ratio compare / bare (same specs,
    back to back), next to the ratio of the totals;
(b) peak RSS of a fresh process running the compare sweep for each N, and of one
    running the bare sweep;
(c) start-up time of ``python -m compare --help`` against ``python -c pass``, and
    that neither ``import compare`` nor ``--help`` nor a bad spec file imports a
    framework;
(a') the same with both frameworks' FLOP counters on (``compare``'s ``count=True``
    against the bare script running FlopCounterMode and TensorFlow's profiler itself),
    over the smallest N, and the milliseconds per spec counting adds to each;
(d) the per-spec cost against layer size (bare and compare, full parity and
    shape-only), and the shape-only Conv3d with 1024 in and out channels and
    kernel 5 (131M parameters): time and peak RSS in a fresh process.

(e) real models (``--models vgg16,resnet50``, ``scripts/bench_models.py``): each against
    a bare script written for that model that builds both sides, ports the weights and
    runs both forwards, in fresh processes: wall time after imports and peak RSS as
    ratios, for the full report, ``--no-diagnostics`` and shape-only.

Prints a table and writes it to ``bench/results.csv`` and ``bench/results.json``.

    .venv/bin/python scripts/bench.py            # N = 100, 300, 1000 (a few minutes)
    .venv/bin/python scripts/bench.py --quick    # N = 20, 60 (under a minute)
    .venv/bin/python scripts/bench.py --only-models --models vgg16   # part (e) alone
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
import threading
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROOT = Path(__file__).resolve().parent.parent
BLOCK = 10  # specs per timed block

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
    port the weights (a transpose), run both forwards on the same input, compare.
    Written lean, so that it is the fastest honest way to do that work, not a
    strawman: an explicit layer name, a contiguous Keras input, and the same cheap
    primitives ``compare`` uses for the shared work (seeding only torch's CPU
    generator, writing the Keras variables with TensorFlow's AssignVariableOp). It
    builds its layers as anyone does, drawing Keras' initialisers: not drawing what
    nobody reads, and not drawing twice what was drawn before, is ``compare``'s own."""

    def __init__(self, count: bool = False) -> None:
        import keras
        import numpy as np
        import tensorflow as tf
        import torch

        self.np, self.torch, self.keras, self.tf = np, torch, keras, tf
        self.assign = tf.raw_ops.AssignVariableOp
        self.count = count

    def flops(self, t: Any, kl: Any, x: Any) -> tuple[int, int]:
        """Both frameworks' own FLOP counters at batch 1, the leanest way: PyTorch's
        FlopCounterMode on the module, TensorFlow's profiler on the frozen forward of
        a one-layer functional model."""
        import contextlib
        import io

        from tensorflow.python.framework.convert_to_constants import (
            convert_variables_to_constants_v2,
        )
        from torch.utils.flop_counter import FlopCounterMode

        torch, keras, tf = self.torch, self.keras, self.tf
        counter = FlopCounterMode(display=False)
        with torch.no_grad(), counter:
            t(torch.from_numpy(x[:1]))
        inputs = keras.Input(shape=x.shape[2:] + x.shape[1:2])
        model = keras.Model(inputs, kl(inputs))
        spec = tf.TensorSpec((1, *x.shape[2:], x.shape[1]), tf.float32)
        frozen = convert_variables_to_constants_v2(
            tf.function(lambda v: model(v, training=False)).get_concrete_function(spec)
        )
        options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
        options["output"] = "none"
        with contextlib.redirect_stderr(io.StringIO()):
            profile = tf.compat.v1.profiler.profile(frozen.graph, options=options)
        return counter.get_total_flops(), profile.total_float_ops

    def __call__(self, spec: dict[str, Any]) -> float:
        np, torch, keras = self.np, self.torch, self.keras
        c, size = spec["input"]["channels"], spec["input"]["size"]
        layer = spec["layers"][0]
        f, k, s = layer["filters"], layer["kernel_size"], layer.get("strides", 1)
        d, pad = layer.get("dilation", 1), layer.get("padding", "valid")
        conv_t = {1: torch.nn.Conv1d, 2: torch.nn.Conv2d, 3: torch.nn.Conv3d}[len(size)]
        conv_k = {1: keras.layers.Conv1D, 2: keras.layers.Conv2D, 3: keras.layers.Conv3D}
        torch.default_generator.manual_seed(0)
        t = conv_t(c, f, k, stride=s, padding=pad, dilation=d).eval()
        # An explicit name: Keras' automatic unique naming costs about a millisecond.
        kl = conv_k[len(size)](f, k, strides=s, padding=pad, dilation_rate=d, name="conv")
        kl.build((None, *size, c))
        perm = (*range(2, 2 + len(size)), 1, 0)
        kernel = np.ascontiguousarray(t.weight.detach().numpy().transpose(perm))
        self.assign(resource=kl.kernel.value.handle, value=kernel)
        self.assign(resource=kl.bias.value.handle, value=t.bias.detach().numpy())
        x = np.random.default_rng(0).standard_normal((2, c, *size)).astype("float32")
        with torch.no_grad():
            y_t = t(torch.from_numpy(x)).numpy()
        y_k = keras.ops.convert_to_numpy(kl(np.ascontiguousarray(np.moveaxis(x, 1, -1))))
        if self.count:
            self.flops(t, kl, x)
        return float(np.max(np.abs(np.moveaxis(y_t, 1, -1) - y_k)))


class Compare:
    """``compare`` on the same spec dicts, through its batch path: validate each spec,
    compare the models (build, port, run, measure, name the differences with their
    naive-port errors), and render the JSON document and the Markdown report.
    ``diagnostics=False`` is ``--no-diagnostics``: the same framework work as the
    bare script (no naive-port forward, no read of fresh weights), plus compare's
    facts, differences and reports."""

    def __init__(
        self,
        parity: bool = True,
        diagnostics: bool = True,
        count: bool = False,
        memo: bool = True,
    ) -> None:
        from compare.adapters import get_adapter
        from compare.adapters.keras_draws import Draws
        from compare.batch import compare_all
        from compare.report.markdown import render_markdown
        from compare.spec import model_from_dict

        self.run, self.render, self.parse = compare_all, render_markdown, model_from_dict
        self.parity, self.diagnostics, self.count = parity, diagnostics, count
        self.keras = get_adapter("keras")

        class Unkept(Draws):
            def keep(self, key: Any, value: Any) -> None:  # every draw made again
                return None

        # memo=False: every Keras initialiser draw is made, as the bare script makes it
        self.draws = None if memo else Unkept()

    def __call__(self, specs: list[dict[str, Any]]) -> tuple[str, str]:
        kept = self.keras.draws
        if self.draws is not None:
            self.keras.draws = self.draws
        try:
            return self._report(specs)
        finally:
            self.keras.draws = kept

    def _report(self, specs: list[dict[str, Any]]) -> tuple[str, str]:
        # The path `python -m compare report` takes for a batch (serial).
        models = [self.parse(s) for s in specs]
        results = self.run(
            models, parity=self.parity, diagnostics=self.diagnostics, count=self.count
        )
        bad = [r.to_dict() for r in results if r.status not in ("ok", "skipped")]
        assert not bad, bad
        doc = json.dumps({"models": [r.to_dict() for r in results]}, allow_nan=False)
        return doc, self.render(results)


def bare_batch(bare: Bare, specs: list[dict[str, Any]]) -> list[float]:
    return [bare(s) for s in specs]


# -- measurements ------------------------------------------------------------------


def rss_mb() -> float:
    """Resident set size of this process now, in MiB (Linux ``/proc/self/statm``)."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def max_rss_mb() -> float:
    """Peak RSS of the whole process life so far (``ru_maxrss``, KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class RssSampler(threading.Thread):
    """Samples this process's RSS every millisecond: the peak of one stretch of work
    (``ru_maxrss`` cannot be reset, and importing TensorFlow peaks above a sweep)."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = rss_mb()
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(0.001):
            self.peak = max(self.peak, rss_mb())

    def __enter__(self) -> RssSampler:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop_event.set()
        self.join()
        self.peak = max(self.peak, rss_mb())


def warm(bare: Bare, *comps: Compare) -> None:
    """Run every contestant on a few specs (first calls compile kernels, fill caches),
    check the bare script's port is right, then move every object alive so far out
    of the garbage collector's way for all alike."""
    import gc

    specs = random_specs(2 * BLOCK, seed=99)
    errors = bare_batch(bare, specs)
    assert max(errors) < 1e-3, f"the bare script's port is wrong: max error {max(errors)}"
    for comp in comps:
        comp(specs)
    gc.collect()
    gc.freeze()


def sweep_times(n: int, bare: Bare, comps: dict[str, Compare]) -> dict[str, Any]:
    """Seconds per spec for the N-spec sweep: the bare script and each ``compare``
    contestant run the same block of specs back to back, in an order that rotates
    from block to block, so all see the same machine."""
    specs = random_specs(n)
    names = ["bare", *comps]
    times: dict[str, list[float]] = {who: [] for who in names}
    for i in range(0, n, BLOCK):
        block = specs[i : i + BLOCK]
        shift = (i // BLOCK) % len(names)
        for who in names[shift:] + names[:shift]:
            start = time.perf_counter()
            bare_batch(bare, block) if who == "bare" else comps[who](block)
            times[who].append((time.perf_counter() - start) / len(block))
    total = {who: sum(t) * BLOCK / n for who, t in times.items()}
    out: dict[str, Any] = {"bare_ms": 1e3 * total["bare"]}
    for who in comps:
        # Block j of both contestants ran the same specs back to back: a paired ratio.
        paired = [c / b for b, c in zip(times["bare"], times[who])]
        out[who] = {
            "ms": 1e3 * total[who],
            "ratio": total[who] / total["bare"],
            "median_block_ratio": statistics.median(paired),
        }
    return out


def size_times(bare: Bare, comps: dict[str, Compare], reps: int) -> list[dict[str, Any]]:
    """Median ms per spec of each contestant for convs of growing size. The
    shape-only contestant runs on its own after the others: it clears Keras' global
    session after each model, which makes the next Keras build pay a few ms again."""
    rows = []
    names = ["bare", *(who for who in comps if comps[who].parity)]
    for label, spec in sized_specs():
        t: dict[str, list[float]] = {who: [] for who in comps.keys() | {"bare"}}
        for rep in range(reps):
            shift = rep % len(names)
            for who in names[shift:] + names[:shift]:
                start = time.perf_counter()
                bare(spec) if who == "bare" else comps[who]([spec])
                t[who].append(time.perf_counter() - start)
        for who in comps.keys() - set(names):
            for _ in range(reps):
                start = time.perf_counter()
                comps[who]([spec])
                t[who].append(time.perf_counter() - start)
        m = {who: 1e3 * statistics.median(v) for who, v in t.items()}
        c = spec["input"]["channels"]
        rows.append({"layer": label, "params": c * 9 * c + c, **m})
    return rows


def child(argv: list[str]) -> None:
    """Entry point of the fresh processes that measure memory (prints one JSON line)."""
    what, threads = argv[0], int(argv[-1])
    limit_threads(threads)
    if what in ("compare", "bare", "compare+clear"):
        n = int(argv[1])
        runner: Any = Bare() if what == "bare" else Compare()
        specs = random_specs(n)
        start_rss = rss_mb()
        with RssSampler() as sampler:
            for i in range(0, n, BLOCK):
                block = specs[i : i + BLOCK]
                if what == "bare":
                    bare_batch(runner, block)
                elif what == "compare":
                    runner(block)
                else:  # does clearing Keras' global state between models change anything?
                    import keras

                    for spec in block:
                        runner([spec])
                        keras.backend.clear_session(free_memory=False)
        out = {"start_rss_mb": start_rss, "peak_rss_mb": sampler.peak, "end_rss_mb": rss_mb()}
        print(json.dumps({**out, "process_max_rss_mb": max_rss_mb()}))
    elif what == "big":
        from compare.adapters import get_adapter

        get_adapter("torch"), get_adapter("keras")
        Compare(parity=False)(random_specs(2))  # load compare's own modules first
        before = rss_mb()
        start = time.perf_counter()
        with RssSampler() as sampler:
            doc, _ = Compare(parity=False)([BIG_CONV3D])
        seconds = time.perf_counter() - start
        totals = json.loads(doc)["models"][0]["totals"]
        print(
            json.dumps(
                {
                    "seconds": seconds,
                    "rss_before_mb": before,
                    "peak_rss_mb": sampler.peak,
                    "torch_params": totals["torch"]["params"],
                    "keras_params": totals["keras"]["params"],
                }
            )
        )


def run_child(*args: Any) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", *map(str, args)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, env=_env())
    return json.loads(out.stdout.strip().splitlines()[-1])


def _env() -> dict[str, str]:
    return {**os.environ, "KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "3"}


def startup(reps: int) -> dict[str, Any]:
    """Median wall time of ``python -c pass`` and ``python -m compare --help`` (interleaved),
    and which frameworks ``--help`` and a bad spec file import."""
    cmds = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "python -m compare --help": [sys.executable, "-m", "compare", "--help"],
    }
    t: dict[str, list[float]] = {k: [] for k in cmds}
    for _ in range(reps):
        for key, cmd in cmds.items():
            start = time.perf_counter()
            subprocess.run(cmd, capture_output=True, check=True, env=_env(), cwd=ROOT)
            t[key].append(time.perf_counter() - start)
    m = {k: 1e3 * statistics.median(v) for k, v in t.items()}
    probe = (
        "import contextlib, io, sys, tempfile\n"
        "from compare.cli import main\n"
        "bad = tempfile.NamedTemporaryFile('w', suffix='.toml', delete=False)\n"
        'bad.write(\'[[models]]\\nname="x"\\ninput={channels=1,size=[8]}\\n'
        'layers=[{kind="conv",filters=0,kernel_size=3}]\\n\'); bad.close()\n'
        "with contextlib.redirect_stdout(io.StringIO()), "
        "contextlib.redirect_stderr(io.StringIO()):\n"
        "    with contextlib.suppress(SystemExit): main(['--help'])\n"
        "    main(['show', bad.name])\n"
        "print(','.join(m for m in ('torch', 'tensorflow', 'keras') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, env=_env()
    )
    return {
        "pass_ms": m["python -c pass"],
        "help_ms": m["python -m compare --help"],
        "ratio": m["python -m compare --help"] / m["python -c pass"],
        "frameworks_imported": out.stdout.strip() or "none",
    }


# -- the table ---------------------------------------------------------------------

COLUMNS = ("part", "measure", "bare", "compare", "ratio", "target", "met")


def _row(part: str, measure: str, bare: Any, comp: Any, ratio: Any, target: str = "") -> dict:
    met = ""
    if target and isinstance(ratio, float):
        met = "yes" if ratio <= float(target.lstrip("<= ")) else "NO"
    return {
        "part": part,
        "measure": measure,
        "bare": bare,
        "compare": comp,
        "ratio": ratio,
        "target": target,
        "met": met,
    }


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)


def print_table(rows: list[dict[str, Any]]) -> None:
    cells = [[_fmt(r[c]) for c in COLUMNS] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(COLUMNS)]
    line = " | ".join(c.ljust(w) for c, w in zip(COLUMNS, widths))
    print(line)
    print("-+-".join("-" * w for w in widths))
    for row in cells:
        print(" | ".join(v.ljust(w) for v, w in zip(row, widths)))


def measure_this_checkout() -> None:
    """Import ``compare`` from the checkout this script lies in (and make the processes
    it starts do the same), not whatever copy the environment has installed: an
    editable install of another worktree would otherwise be what is measured."""
    root = str(ROOT)
    if sys.path[:1] != [root]:
        sys.path.insert(0, root)
    paths = [root, *(p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p)]
    os.environ["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="N = 20, 60; fewer repetitions")
    parser.add_argument("--sizes", default=None, help="comma-separated N (default 100,300,1000)")
    parser.add_argument("--threads", type=int, default=1, help="compute threads per framework")
    parser.add_argument("--out", default=str(ROOT / "bench"), help="directory for CSV/JSON")
    parser.add_argument("--models", default="", help="real models for part (e): vgg16,resnet50")
    parser.add_argument("--only-models", action="store_true", help="run part (e) only")
    parser.add_argument("--reps", type=int, default=2, help="fresh-process runs per model")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    measure_this_checkout()
    if args.child:
        child([*args.child, str(args.threads)])
        return 0
    if args.only_models:
        started = time.perf_counter()
        rows = model_rows(args.models or "vgg16", args.reps, args.threads)
        return finish(rows, args, started)
    sizes = [int(n) for n in (args.sizes or ("20,60" if args.quick else "100,300,1000")).split(",")]
    reps = 3 if args.quick else 15
    started = time.perf_counter()
    rows: list[dict[str, Any]] = []

    limit_threads(args.threads)
    bare, comp, shapes = Bare(), Compare(), Compare(parity=False)
    comps = {
        "report": comp,
        "no-diagnostics": Compare(diagnostics=False),
        "drawn": Compare(memo=False),
    }
    labels = {
        "report": "full report",
        "no-diagnostics": "--no-diagnostics (the bare script's framework work)",
        "drawn": "full report, every Keras initialiser draw made (no draw memo)",
    }
    warm(bare, *comps.values())
    #: The sweep's targets (issue 17): full report and ``--no-diagnostics``.
    targets = {"report": "<= 1.15", "no-diagnostics": "<= 1.05"}
    for n in sizes:
        r = sweep_times(n, bare, comps)
        headline = n == 300 or (args.quick and n == sizes[-1])
        for who, label in labels.items():
            target = targets.get(who, "") if headline else ""
            rows.append(
                _row(
                    "a overhead",
                    f"ms/spec, N={n}, {label} (ratio of the totals)",
                    r["bare_ms"],
                    r[who]["ms"],
                    r[who]["ratio"],
                )
            )
            rows.append(
                _row(
                    "a overhead",
                    f"median of paired {BLOCK}-spec block ratios, N={n}, {label}",
                    "",
                    "",
                    r[who]["median_block_ratio"],
                    target,
                )
            )
        print(f"  sweep N={n}: {r}", file=sys.stderr, flush=True)

    # Counting: both contestants run both FLOP counters once per model (the bare script
    # the leanest way); over the smallest sweep, as counting costs ~0.1 s per model.
    bare_count, comp_count = Bare(count=True), Compare(count=True)
    warm(bare_count, comp_count)
    n = sizes[0]
    r = sweep_times(n, bare_count, {"counting": comp_count})
    rows.append(
        _row(
            "a overhead",
            f"ms/spec, N={n}, full report with both FLOP counters, against the bare "
            "script running both counters (ratio of the totals)",
            r["bare_ms"],
            r["counting"]["ms"],
            r["counting"]["ratio"],
        )
    )
    rows.append(
        _row(
            "a overhead",
            f"median of paired {BLOCK}-spec block ratios, N={n}, with both FLOP counters",
            "",
            "",
            r["counting"]["median_block_ratio"],
            "<= 1.2",
        )
    )
    plain = next(row for row in rows if row["measure"].startswith(f"ms/spec, N={n}, full"))
    rows.append(
        _row(
            "a overhead",
            f"ms/spec the FLOP counters add, N={n}: bare script, compare full report",
            r["bare_ms"] - plain["bare"],
            r["counting"]["ms"] - plain["compare"],
            "",
        )
    )
    print(f"  counting sweep N={n}: {r}", file=sys.stderr, flush=True)

    mem = {n: run_child("compare", n, "x") for n in sizes}
    bare_mem = {n: run_child("bare", n, "x") for n in (sizes[0], sizes[-1])}
    for n in sizes:
        b = bare_mem.get(n, {}).get("peak_rss_mb", "")
        rows.append(
            _row("b memory", f"peak RSS MiB during sweep, N={n}", b, mem[n]["peak_rss_mb"], "")
        )
        b = bare_mem.get(n, {}).get("start_rss_mb", "")
        rows.append(_row("b memory", f"RSS MiB before sweep, N={n}", b, mem[n]["start_rss_mb"], ""))
    growth = mem[sizes[-1]]["peak_rss_mb"] / mem[sizes[0]]["peak_rss_mb"]
    bare_growth = bare_mem[sizes[-1]]["peak_rss_mb"] / bare_mem[sizes[0]]["peak_rss_mb"]
    rows.append(
        _row(
            "b memory",
            f"peak RSS N={sizes[-1]} / N={sizes[0]}",
            bare_growth,
            growth,
            growth,
            "<= 1.3",
        )
    )
    cleared = run_child("compare+clear", sizes[-1], "x")
    rows.append(
        _row(
            "b memory",
            f"peak RSS MiB, N={sizes[-1]}, keras.backend.clear_session() after each model",
            "",
            cleared["peak_rss_mb"],
            "",
        )
    )
    print(f"  memory: {mem} bare {bare_mem} cleared {cleared}", file=sys.stderr, flush=True)

    s = startup(reps * 3)
    rows.append(
        _row(
            "c start-up",
            "ms: python -c pass vs -m compare --help",
            s["pass_ms"],
            s["help_ms"],
            s["ratio"],
            "<= 2",
        )
    )
    rows.append(
        _row(
            "c start-up",
            "frameworks imported by --help / bad spec",
            "",
            s["frameworks_imported"],
            "",
        )
    )

    sized = {**comps, "shape-only": shapes}
    for r in size_times(bare, sized, reps):
        for who, label in (*labels.items(), ("shape-only", "shape-only (--no-parity)")):
            rows.append(
                _row(
                    "d layer size",
                    f"ms/spec {r['layer']}, {r['params']:,} params, {label}",
                    r["bare"],
                    r[who],
                    r[who] / r["bare"],
                )
            )
    big = run_child("big", "x")
    rows.append(
        _row(
            "d layer size",
            "shape-only Conv3d 1024->1024 k5: params torch/keras",
            big["torch_params"],
            big["keras_params"],
            "",
        )
    )
    rows.append(_row("d layer size", "shape-only Conv3d: seconds", "", big["seconds"], ""))
    rows.append(
        _row(
            "d layer size",
            "shape-only Conv3d: RSS MiB before / peak during",
            big["rss_before_mb"],
            big["peak_rss_mb"],
            "",
        )
    )

    if args.models:
        rows += model_rows(args.models, args.reps, args.threads)
    return finish(rows, args, started)


def model_rows(models: str, reps: int, threads: int) -> list[dict[str, Any]]:
    """Part (e): ``scripts/bench_models.py``'s measurements as table rows."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_models", ROOT / "scripts/bench_models.py")
    assert spec is not None and spec.loader is not None
    bm = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bm)
    rows = []
    medians: dict[tuple[str, str], dict[str, float]] = {}
    for r in bm.rows(bm.measure(models.split(","), reps, threads)):
        if "error" in r:
            rows.append(_row("e real models", f"{r['model']}: {r['error']}", "", "", ""))
            continue
        medians[r["model"], r["who"]] = r
        if r["who"] == "bare":
            continue
        targets = r.get("targets") or ("", "")
        label = f"{r['model']} ({r['params']:,} params), {r['who']}"
        bare = medians[r["model"], "bare"]
        rows.append(
            _row(
                "e real models",
                f"{label}: seconds after imports, runs (ratio: median of the rounds' "
                f"paired ratios; of the medians {r['time_ratio_of_medians']:.2f})",
                "/".join(map(str, bare["seconds"])),
                "/".join(map(str, r["seconds"])),
                r["time_ratio"],
                f"<= {targets[0]}" if targets[0] else "",
            )
        )
        rows.append(
            _row(
                "e real models",
                f"{label}: peak RSS MiB, runs",
                "/".join(map(str, bare["peak_rss_mib"])),
                "/".join(map(str, r["peak_rss_mib"])),
                r["rss_ratio"],
                f"<= {targets[1]}" if targets[1] else "",
            )
        )
    return rows


def finish(rows: list[dict[str, Any]], args: Any, started: float) -> int:
    """Print the table and write it to ``args.out``."""
    print_table(rows)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "results.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    meta = {
        "command": " ".join([Path(sys.executable).name, "scripts/bench.py", *sys.argv[1:]]),
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "threads": args.threads,
        "seconds": round(time.perf_counter() - started, 1),
    }
    (out / "results.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=2) + "\n")
    print(
        f"wrote {out / 'results.csv'}, {out / 'results.json'} in {meta['seconds']} s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
