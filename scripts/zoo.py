"""The model-zoo table of the README: each keras.applications and torchvision model read
from its framework, built in the other and compared, one fresh process per model.

    .venv/bin/python scripts/zoo.py                 # every model, a Markdown table
    .venv/bin/python scripts/zoo.py torch:resnet18  # some of them

Random weights (``weights=None``; nothing is downloaded), a small input. The parameter
counts are each framework's own (for the source model) and read back from the built
one; seconds are the wall time of ``from_*`` and ``compare`` (a full report) after the
imports, on whatever machine runs it. torchvision comes through ``tests/zoo.py``. The
element bound is raised to 2**28 (``COMPARE_MAX_ELEMENTS``) for VGG's dense layers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

TORCH = [
    "resnet18", "resnet50", "resnext50_32x4d", "wide_resnet50_2", "mobilenet_v2",
    "mobilenet_v3_small", "densenet121", "efficientnet_b0", "regnet_x_400mf",
    "shufflenet_v2_x0_5", "squeezenet1_1", "googlenet", "mnasnet0_5", "alexnet", "vgg11",
    "convnext_tiny",
]  # fmt: skip
KERAS = [
    "ResNet50", "ResNet50V2", "MobileNet", "MobileNetV2", "MobileNetV3Small", "DenseNet121",
    "EfficientNetB0", "EfficientNetV2B0", "VGG16", "Xception", "InceptionV3", "NASNetMobile",
    "ConvNeXtTiny",
]  # fmt: skip
SIZE = {"Xception": 71, "InceptionV3": 75, "alexnet": 224, "vgg11": 224}


def one(source: str, name: str, size: int) -> dict:
    """Compare one zoo model in this process."""
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    sys.path.insert(0, str(ROOT / "tests"))
    import compare

    out: dict = {"source": source, "name": name, "size": size}
    if source == "torch":
        from zoo import torch_model

        net = torch_model(name)
        out["own"] = sum(p.numel() for p in net.parameters())
        start = time.perf_counter()
        read = lambda: compare.from_torch(net, f"3x{size}x{size}")  # noqa: E731
    else:
        import keras

        net = getattr(keras.applications, name)(weights=None, input_shape=(size, size, 3))
        out["own"] = net.count_params()
        start = time.perf_counter()
        read = lambda: compare.from_keras(net)  # noqa: E731
    try:
        result = compare.compare(read()).models[0]
    except compare.SpecError as exc:
        items = getattr(exc, "items", ())
        out["refused"] = len(items) or 1
        out["why"] = str(items[0]) if items else str(exc).splitlines()[0]
        return out
    out["seconds"] = round(time.perf_counter() - start, 1)
    if result.error is not None:
        out["refused"], out["why"] = 1, result.error.splitlines()[0]
        return out
    totals = result.totals()
    other = "keras" if source == "torch" else "torch"
    out["built"] = totals[other]["params"]
    out["nodes"] = len(result.layers)
    out["nodes_ok"] = sum(layer.parity.status == "ok" for layer in result.layers)
    out["status"] = str(result.status)
    bad = [layer for layer in result.layers if layer.parity.status != "ok"]
    if bad:
        out["why"] = f"{bad[0].index} {bad[0].kind}: {bad[0].parity.detail}"
    return out


def row(r: dict) -> str:
    """One Markdown table row."""
    model = f"{'torchvision' if r['source'] == 'torch' else 'keras.applications'} {r['name']}"
    if "refused" in r:
        return f"| {model} | {r['own']:,} | | refused ({r['refused']} parts): {r['why'][:90]} | |"
    verdict = f"{r['status']}, {r['nodes_ok']}/{r['nodes']} nodes ok"
    if r.get("why"):
        verdict += f" ({r['why'][:80]})"
    built = f"{r['built']:,}" if r.get("built") is not None else "-"
    return f"| {model} | {r['own']:,} | {built} | {verdict} | {r['seconds']} |"


def main(argv: list[str]) -> int:
    if argv[:1] == ["--one"]:
        print(json.dumps(one(argv[1], argv[2], int(argv[3]))))
        return 0
    wanted = argv or [f"torch:{n}" for n in TORCH] + [f"keras:{n}" for n in KERAS]
    print("| model (input 3x64x64 unless noted) | params (source) | params (built) | parity | s |")
    print("|---|---:|---:|---|---:|")
    for item in wanted:
        source, name = item.split(":")
        size = SIZE.get(name, 64)
        done = subprocess.run(
            [sys.executable, __file__, "--one", source, name, str(size)],
            capture_output=True,
            text=True,
            # VGG's first dense layer holds 102,760,448 weights, over the default bound
            env={
                **os.environ,
                "KERAS_BACKEND": "tensorflow",
                "TF_CPP_MIN_LOG_LEVEL": "3",
                "COMPARE_MAX_ELEMENTS": str(2**28),
            },
        )
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        if not lines:
            print(f"| {item} | | | crashed: {done.stderr.strip().splitlines()[-1:]} | |")
            continue
        print(row(json.loads(lines[-1])), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
