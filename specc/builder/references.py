"""The models a build trains besides its own: distillation teachers and the `--compare` baseline.

- `build_teachers`: a `distill` pass whose teacher is a spec builds that spec first, into its
  own build folder beside this one (`<out>/../<teacher name>`), reusing it while it is up to
  date (the ordinary build decides that from its spec and code hashes);
- `references_current`: a finished build is up to date only if it was distilled from the
  teacher that is there now (`passes.distill.teacher.fingerprint`) and, for `--compare`, it
  holds the baseline;
- `build_baseline`: with `--compare`, the same spec without its passes is trained, exported and
  verified into `<out>/baseline/` (a complete sub-build with its code, `model.onnx` and
  `metrics.json`), so the passes and the closing table compare against it.

The runner hands in its own `build` and stage functions, so this module imports neither.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from specc.atomic import write_text
from specc.passes.distill import BASELINE_DIR, BASELINE_ROW, fingerprint, teacher_folder
from specc.pipeline import Compiled
from specc.spec import lock_text
from specc.spec.checks_distill import is_teacher_spec

from .errors import BuildError
from .progress import Progress
from .state import BuildState

__all__ = ["baseline_row", "build_baseline", "build_teachers", "references_current"]


def _teachers(compiled: Compiled) -> list[str]:
    return [e.distill.teacher for e in compiled.spec.passes if e.distill is not None]


def build_teachers(
    compiled: Compiled, out: Path, build: Callable[..., Any], progress: Progress
) -> None:
    """Build (or reuse) every teacher spec of the spec's distill passes."""
    base = compiled.loaded.base_dir
    for teacher in _teachers(compiled):
        if not is_teacher_spec(teacher):
            continue
        folder = teacher_folder(base / teacher, out)
        progress.say(f"      teacher {base / teacher} -> {folder}")
        started = time.perf_counter()
        try:
            result = build(base / teacher, folder, progress=Progress(quiet=True))
        except BuildError as exc:
            raise BuildError(
                "train",
                f"the teacher {base / teacher} failed to build: {exc}",
                f"build it alone to see why: `specc build {base / teacher} -o {folder}`",
            ) from exc
        test = result.metrics.get("metrics", {}).get("test", {})
        shown = ", ".join(f"{k} {v:.4f}" for k, v in test.items() if isinstance(v, float))
        how = "up to date" if result.up_to_date else "built"
        progress.say(f"      teacher {how} in {time.perf_counter() - started:.1f} s ({shown})")


def references_current(
    metrics: dict[str, Any], compiled: Compiled, out: Path, compare: bool
) -> bool:
    """Whether a finished build's teacher is still the one there, and its baseline is there
    when `compare` asks for one."""
    baseline = compare and bool(compiled.spec.passes)  # without passes there is none
    if baseline and not (out / BASELINE_DIR / "metrics.json").is_file():
        return False
    teachers = _teachers(compiled)
    if not teachers:
        return True
    recorded = ((metrics.get("passes") or {}).get("distill") or {}).get("teacher") or {}
    now = fingerprint(compiled.loaded.base_dir, teachers[0], out)
    return now is not None and recorded.get("fingerprint") == now


def build_baseline(
    state: BuildState,
    *,
    heavy: Callable[[BuildState], None],
    report: Callable[[BuildState], dict[str, Any]],
) -> None:
    """With `--compare`: the same spec without its passes, built into `<out>/baseline/`."""
    from specc.codegen import generate

    progress = state.progress
    if state.compare and not state.spec.passes:
        progress.say("      --compare: this spec has no passes, so there is nothing to compare")
    if not state.compare or not state.spec.passes:
        return
    plain = state.spec.model_copy(update={"passes": []})
    loaded = dataclasses.replace(state.compiled.loaded, spec=plain)
    compiled = Compiled(loaded, state.compiled.graph)
    code = generate(loaded, compiled.graph)
    out = state.out / BASELINE_DIR
    out.mkdir()
    write_text(out / "spec.lock.yaml", lock_text(plain, compiled.graph))
    code.write(out / "code")
    progress.say(f"      baseline: the same spec without its passes -> {BASELINE_DIR}/")
    started = time.perf_counter()
    sub = BuildState(compiled, out, code, Progress(quiet=True))
    try:
        heavy(sub)
    except BuildError as exc:
        raise BuildError(exc.stage, f"the baseline (--compare): {exc.message}", exc.hint) from exc
    sub.metrics = report(sub)
    test = sub.metrics["metrics"].get("test", {})
    shown = ", ".join(f"{k} {v:.4f}" for k, v in test.items() if isinstance(v, float))
    seconds = time.perf_counter() - started
    progress.record("baseline", seconds)
    progress.say(f"      baseline done in {seconds:.1f} s ({shown})")


def baseline_row(out: Path) -> list[tuple[str, str]]:
    """The closing table's row of the baseline, when the build has one."""
    onnx = Path(BASELINE_DIR) / "model.onnx"
    return [(BASELINE_ROW, onnx.as_posix())] if (out / onnx).is_file() else []
