"""Recurrent layers exported as a generic ONNX `Loop` (before) vs the native ONNX op (after).

One Keras model per recurrent kind (two stacked layers of 64 units over 32 steps of 16
features, then a dense head; random weights) is exported twice with
`specc.export.export_onnx`: `native_rnn=False` is tf2onnx's own conversion (a `Loop` for GRU
and SimpleRNN, tf2onnx's LSTM rewrite), `native_rnn=True` the native `GRU`/`RNN`/`LSTM` ops.
Both files are checked against Keras, then timed with onnxruntime (CPU provider;
`--threads` intra-op threads, 0 = onnxruntime's default) in alternating rounds: the median of
`--repeat` calls at batch 1 and of a tenth as many at batch 256, side by side in one run.
Export time and file size too.

    python benchmarks/bench_rnn_export.py [--repeat 300] [--threads 1] [--kinds gru simple_rnn]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

STEPS, FEATURES, UNITS = 32, 16, 64
BATCHES = (1, 256)


def _model(kind: str):
    import keras

    cls = {"gru": keras.layers.GRU, "lstm": keras.layers.LSTM, "simple_rnn": keras.layers.SimpleRNN}
    x = keras.Input((STEPS, FEATURES), name="x")
    h = cls[kind](UNITS, return_sequences=True)(x)
    h = cls[kind](UNITS)(h)
    model = keras.Model(x, keras.layers.Dense(10)(h), name=f"bench_{kind}")
    rng = np.random.default_rng(0)
    for v in model.weights:
        v.assign(rng.normal(0.0, 0.2, tuple(v.shape)).astype("float32"))
    return model


def _ops(path: Path) -> str:
    import onnx

    types = sorted({n.op_type for n in onnx.load(str(path)).graph.node})
    return ",".join(t for t in types if t in ("Loop", "Scan", "GRU", "LSTM", "RNN")) or "-"


def _time(session, feed: dict, calls: int) -> float:
    session.run(None, feed)  # warm-up
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        session.run(None, feed)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000.0


def measure(kind: str, folder: Path, repeat: int, rounds: int, threads: int) -> dict:
    import onnxruntime as ort

    from specc.export import export_onnx

    model = _model(kind)
    rows = {}
    sessions = {}
    rng = np.random.default_rng(1)
    x = {b: rng.normal(0.0, 1.0, (b, STEPS, FEATURES)).astype(np.float32) for b in BATCHES}
    for label, native in (("before (tf2onnx)", False), ("after (native)", True)):
        path = folder / f"{kind}_{'native' if native else 'tf2onnx'}.onnx"
        start = time.perf_counter()
        export_onnx(model, path, input_names=["x"], output_names=["y"], native_rnn=native)
        export_s = time.perf_counter() - start
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        want = np.asarray(model(x[256]))
        diff = float(np.abs(session.run(None, {"x": x[256]})[0] - want).max())
        sessions[label] = session
        rows[label] = {
            "ops": _ops(path),
            "export_s": export_s,
            "kib": path.stat().st_size / 1024,
            "max_diff_vs_keras": diff,
            **{f"ms_{b}": [] for b in BATCHES},
        }
    for _ in range(rounds):  # alternate the two models so that load drifts hit both alike
        for label, session in sessions.items():
            for b in BATCHES:
                calls = repeat if b == 1 else max(3, repeat // 10)
                rows[label][f"ms_{b}"].append(_time(session, {"x": x[b]}, calls // rounds))
    for row in rows.values():
        for b in BATCHES:
            row[f"ms_{b}"] = statistics.median(row[f"ms_{b}"])
    before, after = rows["before (tf2onnx)"], rows["after (native)"]
    for b in BATCHES:
        after[f"speedup_{b}"] = before[f"ms_{b}"] / after[f"ms_{b}"]
        before[f"speedup_{b}"] = 1.0
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=300, help="calls at batch 1 (1/10 at 256)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds")
    parser.add_argument("--threads", type=int, default=0, help="intra-op threads (0: default)")
    parser.add_argument("--kinds", nargs="+", default=["gru", "simple_rnn", "lstm"])
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()

    results = {}
    with tempfile.TemporaryDirectory(prefix="bench_rnn_") as tmp:
        for kind in args.kinds:
            results[kind] = measure(kind, Path(tmp), args.repeat, args.rounds, args.threads)
    print(f"onnxruntime intra-op threads: {args.threads or 'default'}; {os.cpu_count()} CPUs")
    print(
        "| model | export | ONNX ops | export s | KiB | max diff vs Keras "
        "| ms @ 1 | ms @ 256 | speed-up @ 1 | speed-up @ 256 |"
    )
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for kind, rows in results.items():
        for label, r in rows.items():
            print(
                f"| {kind} | {label} | {r['ops']} | {r['export_s']:.2f} | {r['kib']:.1f} "
                f"| {r['max_diff_vs_keras']:.1e} | {r['ms_1']:.3f} | {r['ms_256']:.2f} "
                f"| {r['speedup_1']:.2f}x | {r['speedup_256']:.2f}x |"
            )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
