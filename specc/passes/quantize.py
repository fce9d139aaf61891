"""The `quantize` pass: the verified `model.onnx` to an int8 `model.int8.onnx`, measured.

Rules:

1. quantize with `int8.quantize_onnx` (`dynamic`, or `static` calibrated on the first
   `calibration_samples` rows of `calib_data.npz`);
2. measure in the same run, on the CPU provider, float vs int8: file and weight sizes, test
   metrics on `test_data.npz`, p50/p99 latency at batch 1 and 1024 (interleaved timing);
3. fail (`QuantizationError`, no `model.int8.onnx` left) when the headline test metric
   (accuracy; R^2 for regression) drops more than `max_accuracy_drop`;
4. otherwise write `model.int8.onnx` atomically.

The build renders the returned report into `metrics.json` (`passes.quantize`) and `report.md`;
`specc quantize BUILD_DIR` runs the same measurement on a finished build and updates both files
(`quantize_report.record`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from specc.runtime.errors import QuantizationError
from specc.runtime.evaluate import headline_metric, task_metrics

from . import measure, quantize_report
from .base import PassContext, PassError, PassInfo, PassResult, Phase
from .int8 import MODES, quantize_onnx, weight_bytes

__all__ = ["INT8_NAME", "PASS", "quantize_build", "run"]

INT8_NAME = "model.int8.onnx"
LATENCY_BATCHES = (1, 1024)
LATENCY_REPEAT = 200
BUILD_LATENCY_BUDGET_S = 0.4
BUILD_LATENCY_BATCHES = (1,)
"""A build times batch 1 for about 0.4 s; batch 1024 of an int8 CNN costs seconds a call on a
small CPU, so `specc quantize BUILD_DIR` (full counts, batch 1 and 1024) measures that."""
STATIC_HINT = " (static mode covers Conv, MatMul, Gemm and Gather; LSTM/GRU need --mode dynamic)"


def _load_npz(path: Path, names: tuple[str, ...], what: str) -> dict[str, np.ndarray]:
    if not path.is_file():
        raise QuantizationError(f"no {path.name} in {path.parent}; it is needed for {what}")
    with np.load(path, allow_pickle=False) as data:
        missing = [n for n in names if n not in data.files]
        if missing:
            raise QuantizationError(
                f"{path.name} lacks {', '.join(f'`{m}`' for m in missing)} "
                f"(has {', '.join(data.files)})"
            )
        return {k: np.asarray(data[k]) for k in data.files}


def _measure(
    float_path: Path,
    int8_path: Path,
    test: dict[str, np.ndarray],
    repeat: int,
    budget_s: float | None,
    batches: tuple[int, ...],
) -> dict[str, Any]:
    from specc.runtime.predictor import load

    # the build may be in progress (no metrics.json yet): it is this pass's own input
    fp = load(float_path, "cpu", batch_size=max(batches), check_build=False)
    qp = load(int8_path, "cpu", batch_size=max(batches), check_build=False)
    task = fp.metadata.task
    if task is None:
        raise QuantizationError(f"{float_path.name} has no `specc.task` metadata")
    inputs = {n: test[n] for n in fp.input_names}
    y = test["y"]
    metrics = {}
    for name, p in (("float", fp), ("int8", qp)):
        try:
            out = p.run(inputs)[p.output_names[0]]
        except Exception as exc:  # noqa: BLE001
            raise QuantizationError(
                f"the {name} model does not run on the test split: {exc}"
            ) from exc
        metrics[name] = task_metrics(task, y, out, fp.metadata.threshold)
    latency = {}
    for batch in batches:
        typed = {s.name: inputs[s.name].astype(s.dtype) for s in fp.inputs}
        feed = measure.tile(typed, batch)
        reps = repeat if batch == 1 else max(5, repeat // 10)
        t = measure.latency({"float": fp.run, "int8": qp.run}, feed, reps, budget_s)
        t["speedup"] = t["float"]["p50_ms"] / max(t["int8"]["p50_ms"], 1e-9)
        latency[f"batch_{batch}"] = t
    size_f, size_q = float_path.stat().st_size, int8_path.stat().st_size
    weights_f, weights_q = weight_bytes(float_path), weight_bytes(int8_path)
    return {
        "task": task,
        "provider": fp.provider,
        "intra_op_threads": fp.info.intra_op_threads,
        "size_bytes": {"float": size_f, "int8": size_q},
        "size_ratio": size_f / max(size_q, 1),
        "weight_bytes": {"float": weights_f, "int8": weights_q},
        "weight_ratio": weights_f / max(weights_q, 1),
        "test": {**metrics, "examples": int(y.shape[0])},
        "latency_ms": latency,
    }


def quantize_build(
    build_dir: str | os.PathLike[str],
    mode: str = "dynamic",
    max_drop: float = 0.01,
    calibration_samples: int = 256,
    *,
    latency_repeat: int = LATENCY_REPEAT,
    latency_budget_s: float | None = None,
    latency_batches: tuple[int, ...] = LATENCY_BATCHES,
    record: bool = True,
) -> dict[str, Any]:
    """Quantize `<build_dir>/model.onnx` into `model.int8.onnx`; return the comparison report.

    Raises `QuantizationError` when quantization fails or the test accuracy (regression: R^2)
    drops more than `max_drop`; `model.int8.onnx` is then absent. `latency_budget_s` bounds
    the time spent timing each of `latency_batches` (fewer calls, at least 3). With `record`
    (the default, for a finished build) the comparison, or the failure, is recorded in the folder's
    `metrics.json` and `report.md`; the build's pass leaves that to the build's report stage.
    """
    from specc.atomic import atomic_path

    build = Path(build_dir)
    float_path = build / "model.onnx"
    if not float_path.is_file():
        raise QuantizationError(f"no model.onnx in {build} (run `specc build` first)")
    if mode not in MODES:
        raise QuantizationError(f"unknown quantization mode {mode!r}; use dynamic or static")
    if max_drop < 0:
        raise QuantizationError(f"max_drop must be >= 0, got {max_drop}")
    from specc.runtime.predictor import load

    names = load(float_path, "cpu", check_build=False).input_names
    test = _load_npz(build / "test_data.npz", names, "the accuracy check")
    if "y" not in test:
        raise QuantizationError("test_data.npz has no target array `y`")
    calibration = None
    if mode == "static":
        calib = _load_npz(build / "calib_data.npz", names, "static calibration")
        calibration = {n: calib[n][: max(1, int(calibration_samples))] for n in names}
    target = build / INT8_NAME
    report: dict[str, Any] = {}
    try:
        with atomic_path(target, suffix=".onnx") as tmp:
            fmt = quantize_onnx(float_path, tmp, mode, calibration)
            report = {
                "mode": mode,
                "format": fmt,
                "file": INT8_NAME,
                "calibration_samples": (
                    int(next(iter(calibration.values())).shape[0]) if calibration else None
                ),
                **_measure(
                    float_path, tmp, test, latency_repeat, latency_budget_s, latency_batches
                ),
            }
            if report["weight_ratio"] < 2.0:
                hint = STATIC_HINT if mode == "static" else ""
                report["note"] = (
                    f"most weights stayed float: {mode} mode left them unquantized{hint}"
                )
            elif report["size_ratio"] < 1.5:
                report["note"] = (
                    "the model is so small that quantization parameters and graph overhead "
                    "outweigh the saving on weights"
                )
            metric = headline_metric(report["task"])
            drop = report["test"]["float"][metric] - report["test"]["int8"][metric]
            report.update(metric=metric, drop=drop, max_drop=max_drop, passed=drop <= max_drop)
            if not report["passed"]:
                raise QuantizationError(
                    f"int8 test {metric} {report['test']['int8'][metric]:.4f} is {drop:.4f} below "
                    f"float {report['test']['float'][metric]:.4f}, more than the allowed "
                    f"{max_drop:g}; {INT8_NAME} was not written (try --mode "
                    f"{'static' if mode == 'dynamic' else 'dynamic'} or a larger --max-drop)",
                    report,
                )
    except QuantizationError as exc:
        if exc.report is not None:
            target.unlink(missing_ok=True)  # a stale int8 model no longer matches this float one
            if record:
                quantize_report.record(build, exc.report)
        raise
    if record:
        quantize_report.record(build, report)
    return report


def _result(report: dict[str, Any]) -> PassResult:
    passed = bool(report.get("passed"))
    return PassResult(
        kind="quantize",
        passed=passed,
        modified=passed,
        artifacts=(INT8_NAME,) if passed else (),
        stages=((f"int8 ({report.get('mode', 'dynamic')})", INT8_NAME),) if passed else (),
        metrics=report,
        markdown=quantize_report.quantization_markdown(report),
        summary=(
            f"{report['size_ratio']:.1f}x smaller, test {report['metric']} "
            f"{report['test']['int8'][report['metric']]:.4f} ({-report['drop']:+.4f})"
        ),
    )


def run(context: PassContext) -> PassResult:
    """Quantize the build's verified `model.onnx` as the spec's `quantize` entry says."""
    q = context.settings
    try:
        report = quantize_build(
            context.build_dir,
            mode=q.mode,
            max_drop=q.max_accuracy_drop,
            calibration_samples=q.calibration_samples,
            latency_budget_s=BUILD_LATENCY_BUDGET_S,
            latency_batches=BUILD_LATENCY_BATCHES,
            record=False,
        )
    except QuantizationError as exc:
        result = _result(exc.report) if exc.report is not None else None
        raise PassError("quantize", str(exc), result=result) from exc
    return _result(report)


PASS = PassInfo(
    kind="quantize",
    phase=Phase.AFTER_EXPORT,
    reads=("model.onnx", "test_data.npz", "calib_data.npz"),
    writes=(INT8_NAME,),
    description="int8 post-training quantization of the verified ONNX model",
    run=run,
)
