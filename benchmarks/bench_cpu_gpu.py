"""onnxruntime on the CPU and on the GPU, side by side, through `specc.runtime.Predictor`.

For each batch size both providers run the same float32 feed, timed in interleaved rounds;
the table gives p50/p99 latency, throughput and the GPU speed-up. Without a usable
CUDAExecutionProvider (`pip install 'specc[gpu]'` and a visible NVIDIA GPU) the GPU column is
skipped and the reason printed.

    python benchmarks/bench_cpu_gpu.py [--model build/digits_cnn] [--batch 1,32,1024,8192]
                                       [--repeat 50] [--json out.json]

Without `--model`, a small digits CNN is trained and exported first (tests/runtime_fixtures.py).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
from _models import model_or_fixture  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", help="build folder or .onnx file (default: train a digits CNN)")
    ap.add_argument("--batch", default="1,32,1024,8192", help="comma-separated batch sizes")
    ap.add_argument("--repeat", type=int, default=50, help="timed calls per device and batch")
    ap.add_argument("--rounds", type=int, default=5, help="interleaved rounds")
    ap.add_argument("--json", dest="json_out", help="also write the results here")
    args = ap.parse_args()

    from specc.runtime import DeviceUnavailableError, load
    from specc.runtime.bench import make_feed, summarize, time_call

    batches = [int(b) for b in args.batch.split(",") if b]
    with tempfile.TemporaryDirectory(prefix="specc-bench-") as tmp:
        model_path = model_or_fixture(args.model, Path(tmp))
        predictors = {"cpu": load(model_path, "cpu", batch_size=max(batches))}
        gpu_reason = None
        try:
            predictors["gpu"] = load(model_path, "gpu", batch_size=max(batches))
        except DeviceUnavailableError as exc:
            gpu_reason = str(exc)
        cpu = predictors["cpu"]
        data = (cpu.build_dir or cpu.path.parent) / "test_data.npz"
        results = []
        for batch in batches:
            feed = make_feed(cpu, batch, data)
            samples: dict[str, list[np.ndarray]] = {k: [] for k in predictors}
            per_round = max(1, args.repeat // args.rounds)
            for _ in range(args.rounds):
                for name, p in predictors.items():
                    samples[name].append(time_call(lambda p=p, f=feed: p.run(f), per_round, 2))
            row = {"batch": batch}
            for name, parts in samples.items():
                row[name] = summarize(np.concatenate(parts), batch)
            if "gpu" in row:
                row["gpu_speedup"] = row["cpu"]["p50_ms"] / row["gpu"]["p50_ms"]
            results.append(row)

    print(f"model: {model_path}")
    print(
        f"cpu: {cpu.provider}, {cpu.info.intra_op_threads} threads "
        f"({platform.processor() or platform.machine()}, {os.cpu_count()} logical CPUs)"
    )
    if gpu_reason:
        print(f"gpu: skipped: {gpu_reason}")
    else:
        print(f"gpu: {predictors['gpu'].provider}")
    head = f"{'batch':>6}  {'cpu p50 ms':>10}  {'cpu p99 ms':>10}  {'cpu ex/s':>10}"
    if not gpu_reason:
        head += f"  {'gpu p50 ms':>10}  {'gpu p99 ms':>10}  {'gpu ex/s':>10}  {'speed-up':>8}"
    print(head)
    for row in results:
        c = row["cpu"]
        line = (
            f"{row['batch']:>6}  {c['p50_ms']:10.3f}  {c['p99_ms']:10.3f}  {c['throughput']:10,.0f}"
        )
        if "gpu" in row:
            g = row["gpu"]
            line += (
                f"  {g['p50_ms']:10.3f}  {g['p99_ms']:10.3f}  {g['throughput']:10,.0f}"
                f"  {row['gpu_speedup']:7.2f}x"
            )
        print(line)
    if args.json_out:
        doc = {
            "model": str(model_path),
            "cpu_threads": cpu.info.intra_op_threads,
            "gpu_skipped": gpu_reason,
            "results": results,
        }
        Path(args.json_out).write_text(json.dumps(doc, indent=2) + "\n")


if __name__ == "__main__":
    main()
