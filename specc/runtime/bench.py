"""Latency and throughput of a model under onnxruntime, side by side with its Keras original.

`bench_model` times, per batch size, `Predictor.run` (onnxruntime) and, when the build folder
holds `model.keras`, the Keras model called eagerly (`model(x, training=False)`) and through a
`tf.function`; results are fetched to numpy in every case. The engines are timed in alternating
rounds, so drifts in machine load hit them alike. Inputs come from the build's `test_data.npz`
(rows tiled up to the batch size), else random data of the right shape.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["bench_model", "format_table", "interleaved", "make_feed", "summarize", "time_call"]

ENGINES = ("onnxruntime", "keras_eager", "keras_function")


def time_call(fn: Callable[[], Any], repeat: int, warmup: int = 3) -> np.ndarray:
    """Call `fn` `warmup` times, then `repeat` times; return the timed seconds per call."""
    for _ in range(max(0, warmup)):
        fn()
    out = np.empty(max(1, repeat), dtype=np.float64)
    clock = time.perf_counter
    for i in range(out.size):
        t0 = clock()
        fn()
        out[i] = clock() - t0
    return out


def summarize(seconds: np.ndarray, batch: int) -> dict[str, float]:
    """p50/p99/mean latency in milliseconds and throughput (examples per second, from the mean)."""
    mean = float(seconds.mean())
    return {
        "p50_ms": float(np.percentile(seconds, 50) * 1e3),
        "p99_ms": float(np.percentile(seconds, 99) * 1e3),
        "mean_ms": mean * 1e3,
        "throughput": batch / mean if mean > 0 else float("inf"),
        "iterations": int(seconds.size),
    }


def _random_input(spec: Any, n: int, rng: np.random.Generator) -> np.ndarray:
    shape = tuple([n] + [d if d is not None else 8 for d in spec.shape[1:]])
    if spec.dtype.kind in "iu":
        return rng.integers(0, 2, size=shape).astype(spec.dtype)
    if spec.dtype.kind == "b":
        return rng.integers(0, 2, size=shape).astype(bool)
    return rng.standard_normal(shape).astype(spec.dtype)


def make_feed(predictor: Any, batch: int, data_file: Path | None = None) -> dict[str, np.ndarray]:
    """A feed of `batch` rows in the model's dtypes: rows of `data_file` (an npz keyed by input
    name) repeated as needed, or random values when there is no such file."""
    feed: dict[str, np.ndarray] = {}
    if data_file is not None and data_file.is_file():
        with np.load(data_file, allow_pickle=False) as data:
            if all(n in data.files for n in predictor.input_names):
                for spec in predictor.inputs:
                    arr = np.asarray(data[spec.name])
                    reps = -(-batch // arr.shape[0])
                    tiled = (
                        np.concatenate([arr] * reps, axis=0)[:batch] if reps > 1 else arr[:batch]
                    )
                    feed[spec.name] = np.ascontiguousarray(tiled.astype(spec.dtype))
                return feed
    rng = np.random.default_rng(0)
    return {s.name: _random_input(s, batch, rng) for s in predictor.inputs}


def bench_model(
    model: str | os.PathLike[str],
    batches: Sequence[int] = (1, 32, 1024),
    device: str = "auto",
    repeat: int = 50,
    warmup: int = 5,
    keras: bool = True,
    intra_op_threads: int | None = None,
    trust: bool = False,
) -> dict[str, Any]:
    """Benchmark a build folder or `.onnx` file; return a JSON-ready report.

    The Keras side imports the build's generated code only when it is the code the build
    recorded (by hash), unless `trust`; `UntrustedCodeError` otherwise."""
    from .predictor import load

    batches = sorted({int(b) for b in batches})
    if not batches or batches[0] < 1:
        raise ValueError("batch sizes must be positive integers")
    predictor = load(model, device, batch_size=max(batches), intra_op_threads=intra_op_threads)
    build_dir = predictor.build_dir or predictor.path.parent
    data_file = build_dir / "test_data.npz"
    report: dict[str, Any] = {
        "model": str(predictor.path),
        "spec_name": predictor.metadata.spec_name,
        "device": predictor.device,
        "provider": predictor.provider,
        "intra_op_threads": predictor.info.intra_op_threads,
        "device_note": predictor.info.note,
        "repeat": int(repeat),
        "input_source": "test_data.npz" if data_file.is_file() else "random",
        "keras": False,
        "keras_note": None,
        "results": [],
    }
    callables: dict[str, Any] = {}
    keras_path = build_dir / "model.keras"
    if not keras:
        report["keras_note"] = "Keras comparison turned off"
    elif not keras_path.is_file():
        report["keras_note"] = f"no model.keras beside {predictor.path.name}: onnxruntime alone"
    else:
        from .errors import UntrustedCodeError
        from .keras_side import keras_callables, load_keras_model

        try:
            kmodel = load_keras_model(build_dir, trust=trust)
            callables = keras_callables(kmodel, predictor.input_names)
        except UntrustedCodeError:
            raise  # never run code specc did not generate without saying so
        except Exception as exc:  # noqa: BLE001 - report and carry on with ORT alone
            text = str(exc).strip().splitlines()
            report["keras_note"] = (
                f"model.keras could not be loaded ({text[0] if text else type(exc).__name__}): "
                "onnxruntime alone"
            )
        else:
            import tensorflow as tf

            report["keras"] = True
            report["keras_device"] = "gpu" if tf.config.list_physical_devices("GPU") else "cpu"
    engines = {"onnxruntime": predictor.run, **callables}
    for batch in batches:
        feed = make_feed(predictor, batch, data_file)
        samples = interleaved(engines, feed, repeat, warmup)
        row: dict[str, Any] = {"batch": batch}
        for name in engines:
            row[name] = summarize(samples[name], batch)
        for name in callables:
            row[f"{name}_over_ort"] = row[name]["p50_ms"] / max(row["onnxruntime"]["p50_ms"], 1e-9)
        report["results"].append(row)
    return report


def interleaved(
    engines: dict[str, Callable[[Any], Any]], feed: Any, repeat: int, warmup: int, rounds: int = 5
) -> dict[str, np.ndarray]:
    """Time every engine on `feed` in `rounds` alternating rounds (`repeat` calls each in all),
    so that changes in machine load during the run hit all engines alike."""
    for fn in engines.values():
        for _ in range(max(0, warmup)):
            fn(feed)
    rounds = max(1, min(rounds, repeat))
    sizes = [repeat // rounds + (1 if i < repeat % rounds else 0) for i in range(rounds)]
    parts: dict[str, list[np.ndarray]] = {name: [] for name in engines}
    for size in sizes:
        for name, fn in engines.items():
            parts[name].append(time_call(lambda f=fn: f(feed), size, 0))
    return {name: np.concatenate(p) for name, p in parts.items()}


def format_table(report: dict[str, Any]) -> str:
    """A plain-text table of a `bench_model` report."""
    head = (
        f"model: {report['model']}\n"
        f"onnxruntime: {report['provider']} ({report['device']}, "
        f"{report['intra_op_threads']} threads); inputs: {report['input_source']}; "
        f"{report['repeat']} timed calls per cell"
    )
    lines = [head]
    if report.get("device_note"):
        lines.append(f"note: {report['device_note']}")
    if report.get("keras_note"):
        lines.append(f"note: {report['keras_note']}")
    lines.append("")
    cols = ["batch", "engine", "p50 ms", "p99 ms", "examples/s", "p50 / ORT"]
    table = [cols]
    for row in report["results"]:
        for engine in ENGINES:
            if engine not in row:
                continue
            t = row[engine]
            ratio = 1.0 if engine == "onnxruntime" else row[f"{engine}_over_ort"]
            table.append(
                [
                    str(row["batch"]),
                    engine.replace("_", " ").replace("function", "tf.function"),
                    f"{t['p50_ms']:.3f}",
                    f"{t['p99_ms']:.3f}",
                    f"{t['throughput']:,.0f}",
                    f"{ratio:.2f}x",
                ]
            )
    widths = [max(len(r[i]) for r in table) for i in range(len(cols))]
    for k, r in enumerate(table):
        lines.append(
            "  ".join(
                c.ljust(w) if i < 2 else c.rjust(w)
                for i, (c, w) in enumerate(zip(r, widths, strict=True))
            )
        )
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)
