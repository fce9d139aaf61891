"""The lint in a build: every rule, data rules included, run before training; its findings are
printed at the start and recorded in `metrics.json` (`lint`) and `report.md` (`## Lint`)."""

from __future__ import annotations

import time
from typing import Any

from .state import BuildState

__all__ = ["lint_json", "lint_markdown", "run_lint"]


def run_lint(state: BuildState) -> None:
    """Lint the spec with its real data; print the errors and warnings, count the notes."""
    from specc.lint import run

    compiled = state.compiled
    started = time.perf_counter()
    state.lint = run(compiled.loaded, compiled.graph, data=True)
    state.progress.record("lint", time.perf_counter() - started)  # metrics.json timings.lint
    notes = 0
    for diagnostic in state.lint:
        if diagnostic.severity == "info":
            notes += 1
        else:
            state.progress.say(f"      lint: {diagnostic.format()}")
    if notes:
        state.progress.say(f"      lint: {notes} more note{'s' if notes != 1 else ''} in report.md")


def lint_json(state: BuildState) -> list[dict[str, Any]]:
    """The `lint` list of `metrics.json`."""
    return [d.to_json() for d in state.lint]


def lint_markdown(state: BuildState) -> list[str]:
    """The `## Lint` section of `report.md`: one line per finding, or a line saying none."""
    lines = ["## Lint", ""]
    if not state.lint:
        return [*lines, "No lint rule fired (`specc lint --data`).", ""]
    for d in state.lint:
        hint = f" ({d.hint})" if d.hint else ""
        where = f"`{d.field}`: " if d.field else ""
        lines.append(f"- {d.rule} {d.severity}: {where}{d.message}{hint}")
    return [*lines, "", "Rules and how to silence one: docs/lint.md.", ""]
