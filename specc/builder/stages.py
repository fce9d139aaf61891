"""The heavy build stages: training through the generated code, ONNX export and verification,
post-export passes. TensorFlow and onnxruntime are imported here, lazily, and nowhere earlier."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from specc import __version__
from specc.atomic import atomic_path
from specc.pipeline import Compiled

from .errors import BuildError
from .generated import generated_modules
from .progress import Progress
from .report import write_report

__all__ = ["export_and_verify", "run_passes", "train_generated", "write_report"]

CALIBRATION_EXAMPLES = 1024


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    first = text[0] if text else ""
    return f"{type(exc).__name__}: {first}"[:500]


def _save_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    with atomic_path(path, suffix=".npz") as tmp:
        np.savez_compressed(tmp, **arrays)


def train_generated(compiled: Compiled, out: Path, progress: Progress) -> dict[str, Any]:
    """Import `out/code/train.py` and run its `train()`; save the test and calibration splits."""
    # TensorFlow C++ start-up chatter (CUDA probes, graph notes) would drown the progress lines;
    # real failures still surface as Python exceptions
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    spec = compiled.spec
    progress.start("train", f"{spec.training.epochs} epochs max")
    try:
        with generated_modules(out / "code") as modules:
            callback = progress.keras_callback(spec.training.epochs)
            result = modules["train"].train(out, verbose=0, callbacks=[callback])
            data_module = modules["data"]
            vocab = getattr(data_module, "VOCAB", None)
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # errors from TensorFlow or the generated code
        raise BuildError(
            "train",
            f"training failed: {_reason(exc)}",
            f"run `python {out / 'code' / 'train.py'}` to reproduce; --debug shows the traceback",
        ) from exc
    dataset = result["data"]
    x_test, y_test = dataset.test
    _save_npz(out / "test_data.npz", {**x_test, "y": y_test})
    x_train, _ = dataset.train
    _save_npz(out / "calib_data.npz", {k: v[:CALIBRATION_EXAMPLES] for k, v in x_train.items()})
    result["data_sizes"] = {
        split: int(len(getattr(dataset, split)[1])) for split in ("train", "validation", "test")
    }
    result["vocab"] = vocab
    test = result["metrics"].get("test", {})
    shown = ", ".join(f"{k} {v:.4f}" for k, v in test.items() if isinstance(v, float))
    progress.done(f"after {result['epochs_run']} epochs; test: {shown}")
    return result


def _class_names(compiled: Compiled, vocab: str | None) -> list[str]:
    task = compiled.spec.task
    if task.type == "multiclass":
        return list(task.class_names or [str(i) for i in range(task.classes)])
    if task.type == "binary":
        return list(task.class_names or ["0", "1"])
    if task.type == "multilabel":
        return list(task.label_names or [str(i) for i in range(task.labels)])
    if task.type == "seq2seq" and vocab:
        return list(vocab)
    return []


def _feature_names(compiled: Compiled) -> list[str]:
    data = compiled.spec.data
    if data.type != "csv":
        return []
    if data.features:
        return list(data.features)
    header_path = compiled.loaded.base_dir / data.path
    with open(header_path, encoding="utf-8") as fh:
        header = [h.strip() for h in fh.readline().rstrip("\n").split(data.delimiter)]
    targets = {data.target} if isinstance(data.target, str) else set(data.target)
    return [h for h in header if h not in targets]


def _metadata(compiled: Compiled, result: dict[str, Any]) -> dict[str, str]:
    spec = compiled.spec
    preprocessing = {
        "type": spec.data.preprocessing,
        "inputs": {
            name: {
                "mean": np.asarray(m).ravel().tolist(),
                "variance": np.asarray(v).ravel().tolist(),
            }
            for name, (m, v) in (result["data"].preprocessing or {}).items()
        },
        "note": "applied inside the model; feed raw inputs",
    }
    return {
        "specc.version": __version__,
        "specc.spec_name": spec.name,
        "specc.spec_hash": compiled.loaded.spec_hash,
        "specc.task": spec.task.type,
        "specc.class_names": json.dumps(_class_names(compiled, result.get("vocab"))),
        "specc.input_names": json.dumps([n.name for n in compiled.graph.inputs]),
        "specc.output_names": json.dumps(list(compiled.graph.outputs)),
        "specc.preprocessing": json.dumps(preprocessing),
        "specc.feature_names": json.dumps(_feature_names(compiled)),
        "specc.threshold": str(getattr(spec.task, "threshold", "")),
        "specc.description": spec.description,
    }


def export_and_verify(
    compiled: Compiled, out: Path, result: dict[str, Any], progress: Progress
) -> dict[str, Any]:
    """Export ONNX beside the build, check it, compare it with Keras on the test split.

    The model is exported under a temporary name and renamed to `model.onnx` only after the
    checker and the parity check pass.
    """
    from specc.export import ExportError, check_onnx, export_onnx, verify_parity

    spec = compiled.spec
    model = result["model"]
    staged = out / ".model.onnx.unverified"
    progress.start("export", f"ONNX opset {spec.export.opset}")
    try:
        export_onnx(
            model,
            staged,
            input_names=[n.name for n in compiled.graph.inputs],
            output_names=list(compiled.graph.outputs),
            opset=spec.export.opset,
            metadata=_metadata(compiled, result),
        )
        check_onnx(staged)
    except ExportError as exc:
        staged.unlink(missing_ok=True)
        raise BuildError("export", str(exc)) from exc
    except Exception as exc:
        staged.unlink(missing_ok=True)
        raise BuildError(
            "export",
            f"the ONNX converter failed: {_reason(exc)}",
            "a layer may not be supported by tf2onnx; --debug shows the traceback",
        ) from exc
    progress.done(f"({staged.stat().st_size / 1024:.0f} KiB)")

    progress.start("verify", "onnxruntime vs Keras on the test split")
    x_test, _ = result["data"].test
    try:
        parity = verify_parity(
            model,
            staged,
            x_test,
            atol=spec.export.parity.atol,
            scale_by_output=spec.task.type == "regression",
        )
    except Exception as exc:
        staged.unlink(missing_ok=True)
        raise BuildError("verify", f"parity check could not run: {_reason(exc)}") from exc
    report = parity.to_dict()
    if not parity.passed:
        staged.unlink(missing_ok=True)
        raise BuildError(
            "verify",
            f"ONNX Runtime and Keras disagree: max abs difference {parity.max_abs_diff:.3g} "
            f"> tolerance {parity.atol:.3g} on {parity.n_examples} test examples",
            "no model.onnx was written; report this model (export.parity.atol sets the bound)",
        )
    staged.replace(out / "model.onnx")
    progress.done(
        f"max |diff| {parity.max_abs_diff:.2e} <= {parity.atol:.0e} on {parity.n_examples} examples"
    )
    if "keras" not in spec.export.keep:
        (out / "model.keras").unlink(missing_ok=True)
    return report


def run_passes(compiled: Compiled, out: Path, progress: Progress) -> bool:
    """Run the post-export passes (quantize); return whether any ran."""
    ran = False
    for entry in compiled.spec.passes:
        if entry.kind != "quantize":
            continue
        from specc.runtime.quantize import QuantizationError, quantize_build

        q = entry.quantize
        progress.start("passes", f"quantize ({q.mode} int8)")
        try:
            report = quantize_build(
                out,
                mode=q.mode,
                max_drop=q.max_accuracy_drop,
                calibration_samples=q.calibration_samples,
            )
        except QuantizationError as exc:
            raise BuildError("passes", f"quantize: {exc}") from exc
        # quantize_build recorded its comparison under `quantization` in metrics.json
        metrics_path = out / "metrics.json"
        metrics = json.loads(metrics_path.read_text())
        if report.get("file") and report["file"] not in metrics["artifacts"]:
            metrics["artifacts"].append(report["file"])
            with atomic_path(metrics_path) as tmp:
                tmp.write_text(json.dumps(metrics, indent=2) + "\n")
        progress.done()
        ran = True
    return ran
