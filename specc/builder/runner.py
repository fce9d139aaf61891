"""`specc build`: validate, codegen, train (the generated code), export, verify, report, passes.

Every artifact is written atomically; `metrics.json` is written last and marks a complete build,
so a build killed at any moment is never mistaken for a finished one.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from specc import __version__
from specc.atomic import atomic_path, write_text
from specc.pipeline import Compiled, compile_spec
from specc.spec import lock_text

from .errors import BuildError
from .nativelog import native_stderr_to
from .progress import Progress

__all__ = ["BuildError", "BuildResult", "build", "default_output_dir"]


@dataclass(frozen=True)
class BuildResult:
    output_dir: Path
    metrics: dict[str, Any]
    up_to_date: bool


def default_output_dir(compiled: Compiled) -> Path:
    return Path("build") / compiled.spec.name


def _up_to_date(
    out: Path, spec_hash: str, code_hash: str, pass_kinds: list[str]
) -> dict[str, Any] | None:
    try:
        metrics = json.loads((out / "metrics.json").read_text())
    except (OSError, ValueError):
        return None
    if metrics.get("spec_hash") != spec_hash or metrics.get("code_hash") != code_hash:
        return None
    if metrics.get("specc_version") != __version__:
        return None
    if not all((out / name).is_file() for name in metrics.get("artifacts", [])):
        return None
    if "quantize" in pass_kinds and not metrics.get("quantization", {}).get("passed"):
        return None
    return metrics


def build(
    spec_path: str | Path,
    output_dir: str | Path | None = None,
    *,
    force: bool = False,
    progress: Progress | None = None,
) -> BuildResult:
    """Build one spec into `output_dir` (default `build/<name>`).

    Raises `SpecErrors` for an invalid spec and `BuildError` when a stage fails.
    """
    from specc.codegen import generate

    progress = progress or Progress(quiet=True)
    progress.start("validate", str(spec_path))
    compiled = compile_spec(spec_path)
    spec = compiled.spec
    unsupported = [entry.kind for entry in spec.passes if entry.kind in ("distill", "prune")]
    if unsupported:
        raise BuildError(
            "validate",
            f"pass `{unsupported[0]}` is validated but not implemented in specc {__version__}",
            "remove it from `passes` for now",
        )
    progress.done(f"({compiled.graph.params:,} parameters)")

    out = Path(output_dir) if output_dir is not None else default_output_dir(compiled)
    progress.start("codegen")
    code = generate(compiled.loaded, compiled.graph)
    spec_hash = compiled.loaded.spec_hash
    if not force:
        existing = _up_to_date(out, spec_hash, code.hash, [e.kind for e in spec.passes])
        if existing is not None:
            progress.done()
            progress.say(
                f"{out}: up to date (spec {spec_hash} and code unchanged); --force rebuilds"
            )
            return BuildResult(out, existing, up_to_date=True)
    out.mkdir(parents=True, exist_ok=True)
    # an older metrics.json would claim the half-rebuilt folder is complete
    (out / "metrics.json").unlink(missing_ok=True)
    (out / "build.log").unlink(missing_ok=True)
    write_text(out / "spec.lock.yaml", lock_text(spec))
    code.write(out / "code")
    progress.done(f"-> {out / 'code'}")

    from .stages import export_and_verify, run_passes, train_generated, write_report

    with native_stderr_to(out / "build.log", progress):
        trained = train_generated(compiled, out, progress)
        parity = export_and_verify(compiled, out, trained, progress)

    progress.start("report")
    metrics = {
        "spec_name": spec.name,
        "spec_hash": spec_hash,
        "code_hash": code.hash,
        "specc_version": __version__,
        "task": spec.task.type,
        "metrics": trained["metrics"],
        "params": {
            "total": compiled.graph.params,
            "trainable": compiled.graph.trainable_params,
            "non_trainable": compiled.graph.params - compiled.graph.trainable_params,
        },
        "data": trained["data_sizes"],
        "epochs_run": trained["epochs_run"],
        "timings": {**progress.timings, "fit_s": round(trained["train_seconds"], 3)},
        "parity": parity,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    artifacts = write_report(compiled, out, metrics, trained["history"])
    metrics["artifacts"] = artifacts
    progress.done()
    with atomic_path(out / "metrics.json") as tmp:
        tmp.write_text(json.dumps(metrics, indent=2, sort_keys=False) + "\n")
    # passes after export (quantize) read and extend metrics.json and report.md in place
    with native_stderr_to(out / "build.log", progress):
        passes_ran = run_passes(compiled, out, progress)
    if passes_ran:
        metrics = json.loads((out / "metrics.json").read_text())
    return BuildResult(out, metrics, up_to_date=False)
