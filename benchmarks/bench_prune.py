"""Pruning measured: the same digits network dense, pruned unstructured (80% of the hidden
kernels' weights zero) and pruned structured (half the filters and hidden units removed).

The three are built with `specc build` from one spec (`specs/digits_cnn_narrow.yaml` without its
pass, with `prune: {target_sparsity: 0.8}`, and as written), the same seed and data split, then
measured side by side in one run with `specc.passes.measure.measure_stages`: test accuracy,
weights and non-zero weights in the ONNX initializers, ONNX size raw and gzipped, onnxruntime
latency (CPU provider, median of the timed calls, the three models timed in alternating rounds)
at batch 1 and 1024, and the speed-up of each against the dense model.

    python benchmarks/bench_prune.py [--repeat 400] [--keep DIR] [--json results.json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import yaml

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "specs" / "digits_cnn_narrow.yaml"
VARIANTS = {
    "dense": None,
    "unstructured 80%": {"target_sparsity": 0.8, "start_epoch": 1, "end_fraction": 0.6},
    "structured 50%": "as written",
}


def _specs(folder: Path) -> dict[str, Path]:
    """One spec file per variant, in `folder`."""
    base = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    written = base["passes"]
    paths = {}
    for k, (name, prune) in enumerate(VARIANTS.items()):
        data = dict(base)
        data["passes"] = written if prune == "as written" else ([{"prune": prune}] if prune else [])
        path = folder / f"variant{k}.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        paths[name] = path
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=400, help="calls at batch 1 (1/10 at 1024)")
    parser.add_argument("--keep", type=Path, help="build the variants here and keep them")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()

    from specc.builder import build
    from specc.passes.measure import measure_stages

    root = args.keep or Path(tempfile.mkdtemp(prefix="bench_prune_"))
    root.mkdir(parents=True, exist_ok=True)
    models, fit = {}, {}
    for k, (name, spec) in enumerate(_specs(root).items()):
        result = build(spec, root / f"build{k}", force=True)
        models[name] = f"build{k}/model.onnx"
        fit[name] = result.metrics["timings"]["fit"]
        print(f"built {name}: {root / f'build{k}'}", file=sys.stderr)
    with np.load(root / "build0" / "test_data.npz") as data:
        test = {key: data[key] for key in data.files}
    rows = measure_stages(models, root, test, repeat=args.repeat, budget_s=None)
    dense = rows[0]
    lines = [
        "| model | test accuracy | weights | non-zero | ONNX KiB | gzip KiB | ms @ 1 | ms @ 1024 "
        "| speed-up @ 1 | speed-up @ 1024 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    figures = []
    for row in rows:
        ms1, ms1024 = row.latency_ms["batch_1"], row.latency_ms["batch_1024"]
        up1, up1024 = dense.latency_ms["batch_1"] / ms1, dense.latency_ms["batch_1024"] / ms1024
        lines.append(
            f"| {row.name} | {row.test['accuracy']:.4f} | {row.weights:,} | {row.nonzero:,} | "
            f"{row.size_bytes / 1024:.1f} | {row.gzip_bytes / 1024:.1f} | {ms1:.3f} | "
            f"{ms1024:.2f} | {up1:.2f}x | {up1024:.2f}x |"
        )
        figures.append({**row.to_dict(), "fit_seconds": fit[row.name], "speedup": [up1, up1024]})
    print("\n".join(lines))
    print(
        f"\nCPU threads: {os.cpu_count()}; calls at batch 1: {args.repeat}, at 1024: "
        f"{max(5, args.repeat // 10)}"
    )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
