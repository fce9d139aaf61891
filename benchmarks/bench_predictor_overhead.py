"""Per-call overhead of `specc.runtime.Predictor` against a bare `InferenceSession.run`.

All variants use the same onnxruntime session and the same batch-1 float32 input, and are timed
in interleaved rounds (each round times every variant for `--iters` calls), so drifts in machine
load hit all of them alike. Reports p50 and mean per call and the ratio to the bare public
`InferenceSession.run(None, feed)`.

    python benchmarks/bench_predictor_overhead.py [--model build/digits_cnn] [--json out.json]

Without `--model`, a small digits CNN is trained and exported first (tests/runtime_fixtures.py).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
from _models import model_or_fixture  # noqa: E402


def _time(fn, iters: int) -> np.ndarray:
    out = np.empty(iters, dtype=np.int64)
    clock = time.perf_counter_ns
    for i in range(iters):
        t0 = clock()
        fn()
        out[i] = clock() - t0
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", help="build folder or .onnx file (default: train a digits CNN)")
    ap.add_argument("--iters", type=int, default=400, help="calls per variant per round")
    ap.add_argument("--rounds", type=int, default=50)
    ap.add_argument("--threads", type=int, default=None, help="intra-op threads")
    ap.add_argument("--json", dest="json_out", help="also write the results here")
    args = ap.parse_args()

    from specc.runtime import load
    from specc.runtime.bench import make_feed

    with tempfile.TemporaryDirectory(prefix="specc-bench-") as tmp:
        model_path = model_or_fixture(args.model, Path(tmp))
        m = load(model_path, "cpu", intra_op_threads=args.threads)
        if len(m.inputs) != 1:
            sys.exit("this benchmark takes a single-input model")
        build = m.build_dir or m.path.parent
        feed = make_feed(m, 1, build / "test_data.npz")
        name = m.input_names[0]
        x = feed[name]
        x64 = x.astype(np.float64)
        sess = m.session
        native = sess._sess
        outs = list(m.output_names)
        variants = {
            "InferenceSession.run (bare)": lambda: sess.run(None, {name: x}),
            "native binding run (floor)": lambda: native.run(outs, {name: x}, None),
            "Predictor.run": lambda: m.run(x),
            "Predictor.run (allow_nonfinite: no NaN check)": lambda: m.run(x, allow_nonfinite=True),
            "Predictor.predict": lambda: m.predict(x),
            "Predictor.predict + .labels": lambda: m.predict(x).labels,
            "Predictor.predict (float64 in)": lambda: m.predict(x64),
        }
        for fn in variants.values():  # warm-up
            for _ in range(200):
                fn()
        samples: dict[str, list[np.ndarray]] = {k: [] for k in variants}
        for _ in range(args.rounds):
            for key, fn in variants.items():
                samples[key].append(_time(fn, args.iters))

    base_key = "InferenceSession.run (bare)"
    stats = {}
    for key, parts in samples.items():
        s = np.concatenate(parts) / 1e3  # microseconds
        stats[key] = {"p50_us": float(np.median(s)), "mean_us": float(s.mean()), "n": int(s.size)}
    base = stats[base_key]
    floor = stats["native binding run (floor)"]
    for v in stats.values():
        v["p50_ratio"] = v["p50_us"] / base["p50_us"]
        v["mean_ratio"] = v["mean_us"] / base["mean_us"]
        v["p50_over_floor_us"] = v["p50_us"] - floor["p50_us"]

    print(
        f"model: {model_path} ({m.inputs[0].describe()}), batch 1, {m.provider}, "
        f"{m.info.intra_op_threads} threads; {args.rounds} rounds x {args.iters} calls"
    )
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} logical CPUs")
    width = max(len(k) for k in stats)
    print(
        f"{'variant'.ljust(width)}  {'p50 us':>8}  {'mean us':>8}  {'p50 x':>6}  {'mean x':>6}"
        f"  {'p50 - floor us':>14}"
    )
    for key, v in stats.items():
        print(
            f"{key.ljust(width)}  {v['p50_us']:8.2f}  {v['mean_us']:8.2f}  "
            f"{v['p50_ratio']:6.3f}  {v['mean_ratio']:6.3f}  {v['p50_over_floor_us']:14.2f}"
        )
    print("x: ratio to InferenceSession.run (bare); floor: the native binding without the wrapper")
    if args.json_out:
        doc = {
            "model": str(model_path),
            "provider": m.provider,
            "threads": m.info.intra_op_threads,
            "cpus": os.cpu_count(),
            "rounds": args.rounds,
            "iters": args.iters,
            "results": stats,
        }
        Path(args.json_out).write_text(json.dumps(doc, indent=2) + "\n")


if __name__ == "__main__":
    main()
