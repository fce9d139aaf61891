"""`specc build`: the build as a readable list of stages over one typed state.

    validate -> codegen -> train -> export -> verify -> passes -> compare -> report

`validate` and `codegen` need no TensorFlow; the heavy stages (`stages.py`) each add their typed
result to the `BuildState`; `report` renders `curves.png`, `report.md` and `metrics.json` from
it, once, `metrics.json` last. The stages run in a staging folder that is swapped in whole only
when the build completed (`folder.py`), so a build killed at any moment leaves the previous
build as it was.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from specc import __version__
from specc.atomic import atomic_path, write_text
from specc.pipeline import Compiled, compile_spec
from specc.spec import lock_text

from . import references
from .errors import BuildError
from .folder import BuildFolder
from .lint_stage import run_lint
from .nativelog import native_stderr_to
from .progress import Progress
from .state import BuildState

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
    results = metrics.get("passes") if isinstance(metrics.get("passes"), dict) else {}
    if any(not (results.get(kind) or {}).get("passed") for kind in pass_kinds):
        return None
    return metrics


def build(
    spec_path: str | Path,
    output_dir: str | Path | None = None,
    *,
    force: bool = False,
    progress: Progress | None = None,
    spec_text: str | None = None,
    compare: bool = False,
) -> BuildResult:
    """Build one spec into `output_dir` (default `build/<name>`). With `spec_text`, that text
    is the spec, read as if it were the file `spec_path` (a search trial, say). With `compare`,
    the same spec is also trained without its passes into `<output_dir>/baseline/`
    (`references.py`).

    Raises `SpecErrors` for an invalid spec and `BuildError` when a stage fails.
    """
    from specc.codegen import generate
    from specc.codegen.audit import CodeAuditError

    progress = progress or Progress(quiet=True)
    started = time.perf_counter()
    compiled = compile_spec(spec_path, spec_text)  # a spec error is reported before any stage line
    spec = compiled.spec
    progress.plan(bool(spec.passes))  # count the stages this spec has, then print the first
    progress.start("validate", str(spec_path), started=started)
    progress.done(f"({compiled.graph.params:,} parameters)")
    for warning in compiled.loaded.warnings:  # a valid spec, but data it never reads, say
        progress.say(warning.format_warning())

    out = Path(output_dir) if output_dir is not None else default_output_dir(compiled)
    progress.start("codegen")
    try:
        code = generate(compiled.loaded, compiled.graph)
    except CodeAuditError as exc:
        raise BuildError(
            "codegen",
            str(exc),
            "nothing was written or run; this is a bug in specc, please report it with the spec",
        ) from exc
    spec_hash = compiled.loaded.spec_hash
    references.build_teachers(compiled, out, build, progress)
    with BuildFolder(out, on_wait=progress.say) as folder:
        if not force:
            existing = _up_to_date(out, spec_hash, code.hash, [e.kind for e in spec.passes])
            if existing is not None and references.references_current(
                existing, compiled, out, compare
            ):
                progress.done()
                progress.say(
                    f"{out}: up to date (spec {spec_hash} and code unchanged); --force rebuilds"
                )
                return BuildResult(out, existing, up_to_date=True)
        staging = folder.start()
        write_text(staging / "spec.lock.yaml", lock_text(spec, compiled.graph))
        code.write(staging / "code")
        progress.done(f"-> {out / 'code'}")
        state = BuildState(compiled, staging, code, progress, compare=compare)
        run_lint(state)
        try:
            _run_stages(state)
        except BuildError as exc:
            kept = folder.abandon()
            raise _moved(exc, staging, kept) from exc.__cause__
        except BaseException:
            folder.abandon()
            raise
        folder.commit()
    if state.failed_pass is not None:
        raise BuildError("passes", str(state.failed_pass)) from state.failed_pass
    return BuildResult(out, state.metrics, up_to_date=False)


def _run_stages(state: BuildState) -> None:
    """The heavy stages, then the report; each adds its result to `state`."""
    with native_stderr_to(state.out / "build.log", state.progress):
        _heavy_stages(state)
    state.metrics = _report(state)


def _heavy_stages(state: BuildState) -> None:
    from . import stages

    for stage in (
        stages.train,
        stages.export,
        stages.verify,
        partial(references.build_baseline, heavy=_heavy_stages, report=_report),
        stages.run_passes,
        stages.compare,
    ):
        stage(state)


def _moved(error: BuildError, staging: Path, kept: Path | None) -> BuildError:
    """The same error, with paths into the staging folder pointing where it was kept."""
    if kept is None:
        return error

    def moved(text: str | None) -> str | None:
        return text.replace(str(staging), str(kept)) if text else text

    hint = moved(error.hint) or ""
    where = f"the failed build is kept in {kept}"
    return BuildError(
        error.stage, moved(error.message) or "", f"{hint}; {where}" if hint else where
    )


def _report(state: BuildState) -> dict[str, Any]:
    """Render the report files from the state, then write `metrics.json`, last."""
    from .report import metrics_document, render

    state.progress.start("report")
    metrics = metrics_document(state, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    artifacts = render(state, metrics)
    state.progress.done()
    timings = {**metrics["timings"], "report": state.progress.timings["report"]}
    stages = [s for s in state.progress.stages if s in timings]
    timings["total"] = round(sum(timings[s] for s in stages), 3)
    # what a build costs besides training itself and the TensorFlow import
    timings["besides_training"] = round(
        timings["total"] - timings["fit"] - timings.get("import", 0.0), 3
    )
    metrics["timings"] = timings
    metrics["artifacts"] = artifacts
    with atomic_path(state.out / "metrics.json") as tmp:
        tmp.write_text(json.dumps(metrics, indent=2) + "\n")
    return metrics
