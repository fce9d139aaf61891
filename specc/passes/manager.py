"""Run the passes of one phase in the order the spec lists them.

Each pass gets a `PassContext` naming the passes that ran before it; a failure is re-raised as a
`PassError` that names them too, so "pass `quantize` (after `prune`): ..." says where a chain
broke. The manager returns the typed results; it writes no report itself.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from specc.excinfo import reason

from .base import PassContext, PassError, PassResult, Phase
from .registry import get

__all__ = ["prepare", "run_phase"]


def _contexts(spec: Any, build_dir: Path, spec_dir: Path | None):
    """(PassInfo, PassContext) of every pass of the spec, in spec order."""
    for index, entry in enumerate(spec.passes):
        settings = getattr(entry, entry.kind)
        yield get(entry.kind), PassContext(build_dir, spec, settings, index, spec_dir=spec_dir)


def prepare(spec: Any, build_dir: Path, spec_dir: Path | None = None) -> None:
    """Run the `prepare` step of every pass that has one, in spec order, before training.
    Raises `PassError` naming the pass that failed."""
    for info, context in _contexts(spec, build_dir, spec_dir):
        if info.prepare is None:
            continue
        try:
            info.prepare(context)
        except PassError:
            raise
        except Exception as exc:
            raise PassError(info.kind, reason(exc)) from exc


def run_phase(
    phase: Phase,
    spec: Any,
    build_dir: Path,
    *,
    on_start: Callable[[str, Any], None] | None = None,
    on_done: Callable[[PassResult], None] | None = None,
    spec_dir: Path | None = None,
) -> list[PassResult]:
    """Run every pass of `spec.passes` whose phase is `phase`; return their results in order.

    `on_start(kind, settings)` and `on_done(result)` let a caller show progress. Raises
    `PassError` at the first failing pass; its `completed` holds the results before it.
    """
    results: list[PassResult] = []
    for index, entry in enumerate(spec.passes):
        info = get(entry.kind)
        if info.phase is not phase:
            continue
        settings = getattr(entry, entry.kind)
        ran_before = tuple(r.kind for r in results)
        context = PassContext(build_dir, spec, settings, index, ran_before, spec_dir)
        if on_start is not None:
            on_start(info.kind, settings)
        try:
            result = info.run(context)
        except PassError as exc:
            raise exc.after(tuple(results)) from exc
        except Exception as exc:  # a library failure inside the pass: still name the pass
            raise PassError(info.kind, reason(exc), completed=tuple(results)) from exc
        results.append(result)
        if on_done is not None:
            on_done(result)
    return results
