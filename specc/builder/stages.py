"""The heavy build stages, each a function of the build state that adds its own result:
training through the generated code, ONNX export, verification, the passes after export.
TensorFlow and onnxruntime are imported here, lazily, and nowhere earlier."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np

from specc import __version__
from specc.atomic import atomic_path
from specc.codegen.loader import generated_modules
from specc.excinfo import reason
from specc.pipeline import Compiled
from specc.spec.csvfile import feature_names
from specc.spec.tasks import class_names

from .decoding_check import check_decoding, decoding_metadata, decoding_note
from .downloads import download_failure
from .errors import BuildError
from .state import BuildState, Exported, Trained

__all__ = ["compare", "export", "needs_calibration", "run_passes", "train", "verify"]

CALIBRATION_EXAMPLES = 1024
UNVERIFIED = ".model.onnx.unverified"


def _save_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    with atomic_path(path, suffix=".npz") as tmp:
        np.savez_compressed(tmp, **arrays)


def _prepare_passes(state: BuildState) -> None:
    """The `prepare` step of the spec's passes: what the generated training code reads."""
    from specc.passes.base import PassError
    from specc.passes.manager import prepare

    if not state.spec.passes:
        return
    try:
        prepare(state.spec, state.out, state.compiled.loaded.base_dir)
    except PassError as exc:
        raise BuildError("train", f"before training: {exc}") from exc


def needs_calibration(spec) -> bool:
    """Whether the build writes `calib_data.npz` (the first training inputs): only for a spec
    with a `quantize` pass in `static` mode, the one reader of those inputs."""
    return any(p.quantize is not None and p.quantize.mode == "static" for p in spec.passes)


def _refuse_cluster(spec) -> None:
    """A build trains in this one process: with `multi_worker` and a TF_CONFIG naming other
    workers, it would wait for them forever."""
    if spec.training.distribute.strategy == "multi_worker" and os.environ.get("TF_CONFIG"):
        raise BuildError(
            "train",
            "TF_CONFIG is set: `specc build` trains in one process and would wait for the other "
            "workers it names",
            "unset TF_CONFIG for the build, or run code/train.py on every worker with its own "
            "TF_CONFIG (docs/distributed.md)",
        )


def train(state: BuildState) -> None:
    """Import `out/code/train.py` and run its `train()`; save the test split, and the calibration
    inputs when a static quantize pass will read them."""
    # TensorFlow C++ start-up chatter (CUDA probes, graph notes) would drown the progress lines;
    # real failures still surface as Python exceptions
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    spec, out, progress = state.spec, state.out, state.progress
    progress.start("train", f"{spec.training.epochs} epochs max")
    _refuse_cluster(spec)
    started = time.perf_counter()
    _prepare_passes(state)
    try:
        with generated_modules(out / "code", expect_hash=state.code.hash) as modules:
            # importing the generated code imports TensorFlow: timed apart from training
            progress.record("import", time.perf_counter() - started)
            callback = progress.keras_callback(spec.training.epochs)
            result = modules["train"].train(out, verbose=0, callbacks=[callback])
            vocab = getattr(modules["data"], "VOCAB", None)
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # errors from TensorFlow or the generated code
        offline = download_failure(spec, exc)  # keras.applications weights need the internet
        if offline is not None:
            raise BuildError("train", *offline) from exc
        raise BuildError(
            "train",
            f"training failed: {reason(exc)}",
            f"run `python {out / 'code' / 'train.py'}` to reproduce; --debug shows the traceback",
        ) from exc
    dataset = result["data"]
    x_test, y_test = dataset.test
    _save_npz(out / "test_data.npz", {**x_test, "y": y_test})
    if needs_calibration(spec):  # only static quantization reads training inputs
        x_train, _ = dataset.train
        calibration = {k: v[:CALIBRATION_EXAMPLES] for k, v in x_train.items()}
        _save_npz(out / "calib_data.npz", calibration)
    state.trained = Trained(
        model=result["model"],
        history=result["history"],
        metrics=result["metrics"],
        epochs_run=int(result["epochs_run"]),
        fit_seconds=float(result["train_seconds"]),
        sizes={s: int(len(getattr(dataset, s)[1])) for s in ("train", "validation", "test")},
        x_test=x_test,
        y_test=y_test,
        preprocessing=dict(dataset.preprocessing or {}),
        vocab=vocab,
    )
    test = state.trained.metrics.get("test", {})
    shown = ", ".join(f"{k} {v:.4f}" for k, v in test.items() if isinstance(v, float))
    progress.done(f"after {state.trained.epochs_run} epochs; test: {shown}")


def _feature_names(compiled: Compiled) -> list[str]:
    data = compiled.spec.data
    return feature_names(data, compiled.loaded.base_dir) if data.type == "csv" else []


def _metadata(compiled: Compiled, trained: Trained) -> dict[str, str]:
    spec = compiled.spec
    preprocessing = {
        "type": spec.data.preprocessing,
        "inputs": {
            name: {
                "mean": np.asarray(m).ravel().tolist(),
                "variance": np.asarray(v).ravel().tolist(),
            }
            for name, (m, v) in trained.preprocessing.items()
        },
        "note": "applied inside the model; feed raw inputs",
    }
    return {
        "specc.version": __version__,
        "specc.spec_name": spec.name,
        "specc.spec_hash": compiled.loaded.spec_hash,
        "specc.task": spec.task.type,
        "specc.class_names": json.dumps(class_names(compiled.spec, trained.vocab)),
        "specc.input_names": json.dumps([n.name for n in compiled.graph.inputs]),
        "specc.output_names": json.dumps(list(compiled.graph.outputs)),
        "specc.preprocessing": json.dumps(preprocessing),
        "specc.feature_names": json.dumps(_feature_names(compiled)),
        "specc.threshold": str(getattr(spec.task, "threshold", "")),
        "specc.description": spec.description,
        **decoding_metadata(compiled, trained),  # seq2seq: decoder input and start token
    }


def export(state: BuildState) -> None:
    """Export ONNX under a temporary name beside the build and run the full `onnx.checker`."""
    from specc.export import ExportError, check_onnx, export_onnx

    compiled, trained, progress = state.compiled, state.trained, state.progress
    assert trained is not None, "export runs after train"
    staged = state.out / UNVERIFIED
    progress.start("export", f"ONNX opset {compiled.spec.export.opset}")
    try:
        export_onnx(
            trained.model,
            staged,
            input_names=[n.name for n in compiled.graph.inputs],
            output_names=list(compiled.graph.outputs),
            opset=compiled.spec.export.opset,
            metadata=_metadata(compiled, trained),
        )
        check_onnx(staged)
    except ExportError as exc:
        staged.unlink(missing_ok=True)
        raise BuildError("export", str(exc)) from exc
    except Exception as exc:
        staged.unlink(missing_ok=True)
        raise BuildError(
            "export",
            f"the ONNX converter failed: {reason(exc)}",
            "a layer may not be supported by tf2onnx; --debug shows the traceback",
        ) from exc
    progress.done(f"({staged.stat().st_size / 1024:.0f} KiB)")


def verify(state: BuildState) -> None:
    """Compare ONNX Runtime with Keras on the whole test split; only a model that agrees is
    renamed to `model.onnx`."""
    from specc.export import NonFiniteOutputError, verify_parity

    spec, trained, progress = state.spec, state.trained, state.progress
    assert trained is not None, "verify runs after train"
    staged = state.out / UNVERIFIED
    progress.start("verify", "onnxruntime vs Keras on the test split")
    try:
        parity = verify_parity(
            trained.model,
            staged,
            trained.x_test,
            atol=spec.export.parity.atol,
            scale_by_output=spec.task.type == "regression",
        )
    except NonFiniteOutputError as exc:
        staged.unlink(missing_ok=True)
        raise BuildError(
            "verify",
            str(exc),
            "the trained model outputs NaN or inf: look for non-finite values in the data and "
            "lower the learning rate; no model.onnx was written",
        ) from exc
    except Exception as exc:
        staged.unlink(missing_ok=True)
        raise BuildError("verify", f"parity check could not run: {reason(exc)}") from exc
    if not parity.passed:
        staged.unlink(missing_ok=True)
        raise BuildError(
            "verify",
            f"ONNX Runtime and Keras disagree: max abs difference {parity.max_abs_diff:.3g} "
            f"> tolerance {parity.atol:.3g} on {parity.n_examples} test examples",
            "no model.onnx was written; report this model (export.parity.atol sets the bound)",
        )
    decoded = check_decoding(state, staged)  # seq2seq: decoded sequences must match exactly
    final = state.out / "model.onnx"
    staged.replace(final)
    state.exported = Exported(final, final.stat().st_size, {**parity.to_dict(), **decoded})
    progress.done(
        f"max |diff| {parity.max_abs_diff:.2e} <= {parity.atol:.0e} on {parity.n_examples} examples"
        + decoding_note(decoded)
    )
    if "keras" not in spec.export.keep:
        (state.out / "model.keras").unlink(missing_ok=True)


def run_passes(state: BuildState) -> None:
    """Run every pass's measurement after the verified export, in the spec's order: the training
    passes first (what their change to training produced), then the passes after export. A
    failing pass is recorded in the state (its report section still renders) and fails the
    build after the report."""
    from specc.passes.base import PassError, Phase
    from specc.passes.manager import run_phase

    progress = state.progress

    def started(kind: str, settings: object) -> None:
        mode = getattr(settings, "mode", None)
        progress.start("passes", kind + (f" ({mode})" if mode else ""))

    def finished(result) -> None:
        state.passes.append(result)
        progress.record(f"passes.{result.kind}", progress.done(result.summary))

    try:
        for phase in (Phase.TRAINING, Phase.AFTER_EXPORT):
            run_phase(
                phase,
                state.spec,
                state.out,
                on_start=started,
                on_done=finished,
                spec_dir=state.compiled.loaded.base_dir,
            )
    except PassError as exc:
        if exc.result is not None:
            state.passes.append(exc.result)
        state.failed_pass = exc
        progress.record(f"passes.{exc.kind}", progress.done("FAILED"))
    each = [v for k, v in progress.timings.items() if k.startswith("passes.")]
    if each:
        progress.record("passes", sum(each))


def compare(state: BuildState) -> None:
    """Measure every stage's ONNX model side by side (`passes.measure`): the reference models
    the training passes name (a teacher, the model trained without them), the build's own
    `model.onnx`, then the models of the passes after export. Runs only for a spec with passes;
    a measurement that fails is noted in the progress output, and the build goes on."""
    from specc.passes.base import Phase
    from specc.passes.measure import measure_stages
    from specc.passes.registry import get

    from .references import baseline_row

    if not state.spec.passes or state.exported is None or state.trained is None:
        return
    progress = state.progress
    progress.start("compare", "every stage's ONNX model on the test split")
    before = [s for r in state.passes if get(r.kind).phase is Phase.TRAINING for s in r.stages]
    after = [s for r in state.passes if get(r.kind).phase is Phase.AFTER_EXPORT for s in r.stages]
    trained = [r.kind for r in state.passes if get(r.kind).phase is Phase.TRAINING]
    name = "float model" + (f" ({', '.join(trained)})" if trained else "")
    before = [*before, *baseline_row(state.out)]  # `specc build --compare`
    models = dict([*before, (name, state.exported.path.name), *after])
    test = {**state.trained.x_test, "y": state.trained.y_test}
    try:
        state.stages = measure_stages(models, state.out, test)
    except Exception as exc:  # a figure we could not take must not lose a verified build
        progress.done(f"skipped: {reason(exc)}")
        return
    progress.done(f"({len(state.stages)} models)")
