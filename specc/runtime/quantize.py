"""int8 post-training quantization of a build's `model.onnx` into `model.int8.onnx`.

`quantize_build(build_dir, mode, max_drop)`:

1. pre-processes the float model (onnxruntime's `quant_pre_process`: shape inference and graph
   clean-up; skipped when it fails),
2. quantizes it: `dynamic` (weights int8, activations quantized at run time; Conv becomes
   ConvInteger, MatMul MatMulInteger) or `static` (QDQ format, activation ranges calibrated on
   `calib_data.npz` through a `CalibrationDataReader`),
3. measures in the same run, on the CPU provider, float vs int8: file size, test metrics on
   `test_data.npz` and p50/p99 latency at batch 1 and 1024,
4. fails with `QuantizationError` (and leaves no `model.int8.onnx`) when the headline test
   metric (accuracy; R^2 for regression) drops more than `max_drop`,
5. writes `model.int8.onnx` atomically and records the comparison under `quantization` in
   `metrics.json` and in a marked section of `report.md`.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from .errors import QuantizationError
from .evaluate import headline_metric, task_metrics
from .report import update_metrics, update_report

__all__ = ["INT8_NAME", "MODES", "quantize_build", "quantize_onnx"]

MODES = ("dynamic", "static")
INT8_NAME = "model.int8.onnx"
LATENCY_BATCHES = (1, 1024)
STATIC_HINT = " (static mode covers Conv, MatMul, Gemm and Gather; LSTM/GRU need --mode dynamic)"


@contextmanager
def _quiet_quantizer() -> Iterator[None]:
    """onnxruntime.quantization logs advice through the root logger; keep it off the console."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        yield
    finally:
        root.setLevel(level)


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


def _reader(arrays: dict[str, np.ndarray], batch: int = 32) -> Any:
    """A CalibrationDataReader over a dict of arrays, in batches of `batch` rows."""
    from onnxruntime.quantization import CalibrationDataReader

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            n = next(iter(arrays.values())).shape[0]
            self._batches = [
                {k: v[i : i + batch] for k, v in arrays.items()} for i in range(0, n, batch)
            ]
            self._it = iter(self._batches)

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self._it, None)

        def rewind(self) -> None:
            self._it = iter(self._batches)

    return Reader()


def quantize_onnx(
    src: Path, dst: Path, mode: str = "dynamic", calibration: dict[str, np.ndarray] | None = None
) -> str:
    """Quantize `src` into `dst`; keep the `specc.*` metadata. Returns the format used."""
    import onnx
    from onnxruntime.quantization import (
        QuantFormat,
        QuantType,
        quantize_dynamic,
        quantize_static,
    )

    if mode not in MODES:
        raise QuantizationError(f"unknown quantization mode {mode!r}; use dynamic or static")
    with tempfile.TemporaryDirectory(prefix="specc-quant-") as tmp, _quiet_quantizer():
        source = src
        try:
            from onnxruntime.quantization.shape_inference import quant_pre_process

            pre = Path(tmp) / "pre.onnx"
            quant_pre_process(str(src), str(pre), skip_symbolic_shape=True)
            source = pre
        except Exception:  # noqa: BLE001 - pre-processing is an optimisation only
            source = src
        try:
            if mode == "dynamic":
                quantize_dynamic(str(source), str(dst), weight_type=QuantType.QInt8)
                fmt = "dynamic (int8 weights, activations quantized at run time; names compacted)"
            else:
                if not calibration:
                    raise QuantizationError("static quantization needs calibration data")
                quantize_static(
                    str(source),
                    str(dst),
                    _reader(calibration),
                    quant_format=QuantFormat.QDQ,
                    activation_type=QuantType.QUInt8,
                    weight_type=QuantType.QInt8,
                    op_types_to_quantize=["Conv", "MatMul", "Gemm", "Gather"],
                )
                fmt = (
                    "static QDQ (uint8 activations, int8 weights, MinMax calibration; "
                    "names compacted)"
                )
        except QuantizationError:
            raise
        except Exception as exc:  # noqa: BLE001 - onnxruntime.quantization raises many types
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise QuantizationError(f"{mode} quantization of {src.name} failed: {first}") from exc
    model = onnx.load(str(dst))
    compacted = compact_names(model)
    props = {p.key: p.value for p in onnx.load(str(src), load_external_data=False).metadata_props}
    props["specc.quantization"] = json.dumps(
        {"mode": mode, "source": src.name, "names_compacted": compacted}
    )
    del model.metadata_props[:]
    for key, value in props.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(model, str(dst))
    return fmt


def _weight_bytes(path: Path) -> int:
    """Bytes of the model's initializers (weights, biases, quantization parameters)."""
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    return sum(t.ByteSize() for t in model.graph.initializer)


def compact_names(model: Any) -> bool:
    """Shorten the int8 graph's internal names in place: quantization adds dozens of nodes and
    tensors named after long Keras scopes (`model_1/conv2d_1/convolution/ReadVariableOp:0_...`),
    which on small models weigh as much as a quarter of the file. Graph inputs and outputs keep
    their names; shape annotations (`value_info`) are dropped, onnxruntime infers them again.
    Graphs with subgraphs (Loop, Scan, If) are left alone. Returns whether names were changed."""
    graph = model.graph
    for node in graph.node:
        if any(attr.g.ByteSize() or len(attr.graphs) for attr in node.attribute):
            return False
    keep = {v.name for v in graph.input} | {v.name for v in graph.output} | {""}
    mapping: dict[str, str] = {}

    def short(name: str) -> str:
        if name in keep:
            return name
        if name not in mapping:
            mapping[name] = f"t{len(mapping)}"
        return mapping[name]

    for init in graph.initializer:
        init.name = short(init.name)
    for i, node in enumerate(graph.node):
        node.name = f"{node.op_type}_{i}"
        node.doc_string = ""
        for j, name in enumerate(node.input):
            node.input[j] = short(name)
        for j, name in enumerate(node.output):
            node.output[j] = short(name)
    del graph.value_info[:]
    return True


def _tile(arrays: dict[str, np.ndarray], n: int) -> dict[str, np.ndarray]:
    out = {}
    for k, v in arrays.items():
        reps = -(-n // v.shape[0])
        out[k] = np.ascontiguousarray(np.concatenate([v] * reps)[:n] if reps > 1 else v[:n])
    return out


def _latency(predictors: dict[str, Any], feed: dict[str, np.ndarray], repeat: int) -> dict:
    """Interleaved timing of several predictors on the same feed: p50/p99 ms each."""
    from .bench import interleaved

    engines = {name: p.run for name, p in predictors.items()}
    samples = interleaved(engines, feed, repeat, warmup=2)
    return {
        name: {
            "p50_ms": float(np.percentile(s, 50) * 1e3),
            "p99_ms": float(np.percentile(s, 99) * 1e3),
        }
        for name, s in samples.items()
    }


def _measure(
    float_path: Path, int8_path: Path, test: dict[str, np.ndarray], repeat: int
) -> dict[str, Any]:
    from .predictor import load

    fp = load(float_path, "cpu", batch_size=max(LATENCY_BATCHES))
    qp = load(int8_path, "cpu", batch_size=max(LATENCY_BATCHES))
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
    for batch in LATENCY_BATCHES:
        typed = {s.name: inputs[s.name].astype(s.dtype) for s in fp.inputs}
        feed = _tile(typed, batch)
        reps = repeat if batch == 1 else max(5, repeat // 10)
        t = _latency({"float": fp, "int8": qp}, feed, reps)
        t["speedup"] = t["float"]["p50_ms"] / max(t["int8"]["p50_ms"], 1e-9)
        latency[f"batch_{batch}"] = t
    size_f, size_q = float_path.stat().st_size, int8_path.stat().st_size
    weights_f, weights_q = _weight_bytes(float_path), _weight_bytes(int8_path)
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
    latency_repeat: int = 200,
) -> dict[str, Any]:
    """Quantize `<build_dir>/model.onnx` into `model.int8.onnx`; return the comparison report.

    Raises `QuantizationError` when quantization fails or the test accuracy (regression: R^2)
    drops more than `max_drop`; `model.int8.onnx` is then absent.
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
    from .predictor import load

    names = load(float_path, "cpu").input_names
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
                **_measure(float_path, tmp, test, latency_repeat),
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
            update_metrics(build / "metrics.json", exc.report)
            update_report(build / "report.md", exc.report)
        raise
    update_metrics(build / "metrics.json", report)
    update_report(build / "report.md", report)
    return report
