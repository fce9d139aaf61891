"""Run the passes of one phase in the order the spec lists them.

Each pass gets a `PassContext` naming the passes that ran before it; a failure is re-raised as a
`PassError` that names them too, so "pass `quantize` (after `prune`): ..." says where a chain
broke. The manager returns the typed results; it writes no report itself.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from .base import PassContext, PassError, PassResult, Phase
from .registry import get

__all__ = ["run_phase"]


def run_phase(
    phase: Phase,
    spec: Any,
    build_dir: Path,
    *,
    on_start: Callable[[str, Any], None] | None = None,
    on_done: Callable[[PassResult], None] | None = None,
) -> list[PassResult]:
    """Run every pass of `spec.passes` whose phase is `phase`; return their results in order.

    `on_start(kind, settings)` and `on_done(result)` let a caller show progress. Raises
    `PassError` at the first failing pass; its `completed` holds the results before it.
    """
    results: list[PassResult] = []
    ran: tuple[str, ...] = ()
    for index, entry in enumerate(spec.passes):
        info = get(entry.kind)
        if info.phase is not phase:
            continue
        settings = getattr(entry, entry.kind)
        context = PassContext(build_dir, spec, settings, index, ran)
        if on_start is not None:
            on_start(info.kind, settings)
        try:
            result = info.run(context)
        except PassError as exc:
            raise exc.after(tuple(results)) from exc
        except Exception as exc:  # a library failure inside the pass: still name the pass
            first = (str(exc).strip().splitlines() or [""])[0]
            raise PassError(
                info.kind, f"{type(exc).__name__}: {first}"[:500], completed=tuple(results)
            ) from exc
        results.append(result)
        ran = (*ran, info.kind)
        if on_done is not None:
            on_done(result)
    return results
