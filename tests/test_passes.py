"""The pass infrastructure: the registry, the manager's order and error naming, typed results,
with the real quantize pass on real builds."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from runtime_fixtures import copy_build, rig_perfect_targets

from specc.passes import registry
from specc.passes.base import PassError, PassResult, Phase
from specc.passes.manager import run_phase
from specc.spec import load_spec
from specc.spec.passes import PassEntry, Quantize

ROOT = Path(__file__).resolve().parents[1]


def _spec_with(*entries: PassEntry):
    spec = load_spec(ROOT / "specs" / "diabetes_regression.yaml").spec
    return spec.model_copy(update={"passes": list(entries)})


def _quantize(max_drop: float) -> PassEntry:
    return PassEntry(quantize=Quantize(mode="dynamic", max_accuracy_drop=max_drop))


def _rig(reg_build, tmp_path) -> Path:
    return rig_perfect_targets(reg_build, tmp_path / "b")


def test_registry_declares_each_pass():
    assert registry.available() == ("distill", "prune", "quantize")
    prune = registry.get("prune")
    assert prune.kind == "prune" and prune.phase is Phase.TRAINING
    assert prune.writes == ("spec.pruned.yaml",)
    info = registry.get("distill")
    assert info.phase is Phase.TRAINING and callable(info.prepare) and callable(info.run)
    assert "teacher.keras" in info.writes and "teacher.onnx" in info.writes
    info = registry.get("quantize")
    assert info.kind == "quantize" and info.phase is Phase.AFTER_EXPORT
    assert "model.onnx" in info.reads and info.writes == ("model.int8.onnx",)
    assert callable(info.run)


def test_registry_refuses_unknown_passes():
    assert registry.NOT_AVAILABLE == {}  # every kind of the spec language runs
    with pytest.raises(KeyError, match="no such pass"):
        registry.get("sharpen")


def test_registry_imports_no_pass():
    code = (
        "import sys, specc.passes.registry as r; r.available(); "
        "print(sorted(m for m in ('onnx', 'onnxruntime', 'tensorflow', 'numpy') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_passes_run_in_order_with_typed_results(reg_build, tmp_path):
    build = copy_build(reg_build, tmp_path / "b")
    seen: list[str] = []
    results = run_phase(
        Phase.AFTER_EXPORT,
        _spec_with(_quantize(1.0)),
        build,
        on_start=lambda kind, settings: seen.append(f"start {kind} {settings.mode}"),
        on_done=lambda result: seen.append(f"done {result.kind}"),
    )
    assert seen == ["start quantize dynamic", "done quantize"]
    (result,) = results
    assert isinstance(result, PassResult) and result.passed and result.modified
    assert result.artifacts == ("model.int8.onnx",) and (build / "model.int8.onnx").is_file()
    assert result.metrics["passed"] is True and result.metrics["metric"] == "r2"
    assert result.markdown.startswith("<!-- specc:quantize:start -->")
    assert "## int8 quantization (dynamic)" in result.markdown
    assert "x smaller" in result.summary
    # the pass leaves the report files to the build: nothing recorded in the folder
    assert "quantize" not in (build / "metrics.json").read_text()


def test_a_failing_pass_names_the_passes_before_it(reg_build, tmp_path):
    build = _rig(reg_build, tmp_path)
    spec = _spec_with(_quantize(1.0), _quantize(0.0))
    with pytest.raises(PassError) as caught:
        run_phase(Phase.AFTER_EXPORT, spec, build)
    error = caught.value
    assert str(error).startswith("pass `quantize` (after `quantize`): int8 test r2")
    assert error.ran_before == ("quantize",)
    assert len(error.completed) == 1 and error.completed[0].passed
    assert error.result is not None and error.result.passed is False
    assert "FAILED" in error.result.markdown and error.result.artifacts == ()
    assert not (build / "model.int8.onnx").exists()  # the failing pass removed the stale one


def test_a_library_failure_inside_a_pass_is_named(reg_build, tmp_path):
    build = copy_build(reg_build, tmp_path / "b")
    (build / "model.onnx").write_bytes(b"not an onnx model")
    with pytest.raises(PassError, match=r"^pass `quantize`: ") as caught:
        run_phase(Phase.AFTER_EXPORT, _spec_with(_quantize(1.0)), build)
    assert caught.value.completed == ()


@pytest.mark.parametrize(("has_passes", "last"), [(False, "[6/6] report"), (True, "[8/8] report")])
def test_stage_counter_counts_the_passes_stage_only_when_there_are_passes(has_passes, last):
    import io

    from specc.builder.progress import Progress

    stream = io.StringIO()
    progress = Progress(stream=stream)
    progress.plan(has_passes)
    for stage in progress.stages:
        progress.start(stage)
        progress.done()
    lines = [line for line in stream.getvalue().splitlines() if line.startswith("[")]
    assert lines[0].startswith("[1/") and lines[-1] == last
    assert ("passes" in stream.getvalue()) is has_passes
