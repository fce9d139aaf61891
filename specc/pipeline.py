"""The compiler front end shared by every command: spec file -> validated Spec -> Graph."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from specc.ir import Graph
from specc.spec import LoadedSpec, SpecError, SpecErrors, load_spec, parse_spec

__all__ = ["Compiled", "compile_spec"]


@dataclass(frozen=True)
class Compiled:
    loaded: LoadedSpec
    graph: Graph

    @property
    def spec(self):
        return self.loaded.spec


def compile_spec(path: str | Path, text: str | None = None) -> Compiled:
    """Validate the spec at `path` and lower it; raise `SpecErrors` (located) on any problem.
    With `text`, that text is the spec, read as if it were the file at `path` (relative paths
    in it are resolved against `path`'s folder)."""
    try:
        loaded = load_spec(path) if text is None else parse_spec(text, path)
    except SpecErrors as errors:
        if errors.spec is None:  # the schema itself failed: nothing to lower
            raise
        # report shape problems in the same run as the cross-field ones, but not a second
        # message for a place (or a part of it) that already has one. Lowering assumes those
        # rules hold (a layer reading an input that does not exist, say); where it cannot
        # proceed, the cross-field errors already say what to fix.
        try:
            shapes = _lower(errors.spec)[1]
        except Exception:  # a consequence of an error already reported
            shapes = []
        reported = [e.path for e in errors.errors]
        shapes = [e for e in shapes if not any(_nested(e.path, p) for p in reported)]
        raise SpecErrors([*errors.errors, *shapes]) from None
    graph, problems = _lower(loaded)
    problems += _teacher_shapes(loaded)
    if problems:
        raise SpecErrors(problems)
    return Compiled(loaded, graph)


def _teacher_shapes(loaded: LoadedSpec) -> list[SpecError]:
    """Shape errors of the spec's distillation teachers (their schema and cross-field errors
    are found when the spec loads), located at the student's `teacher` field."""
    from specc.spec.checks_distill import is_teacher_spec, teacher_spec_error

    problems = []
    for i, entry in enumerate(loaded.spec.passes):
        if entry.distill is None or not is_teacher_spec(entry.distill.teacher):
            continue
        path = loaded.base_dir / entry.distill.teacher
        try:
            compile_spec(path)
        except SpecErrors as errors:
            where = ("passes", i, "distill", "teacher")
            problems.append(loaded.locate(teacher_spec_error(where, path, errors)))
    return problems


def _lower(loaded: LoadedSpec) -> tuple[Graph | None, list[SpecError]]:
    """The graph of `loaded`, or None and the shape errors, located in the spec file."""
    from specc.ir import lower

    try:
        return lower(loaded.spec), []
    except SpecErrors as errors:
        return None, [loaded.locate(e) for e in errors.errors]


def _nested(a: tuple, b: tuple) -> bool:
    """Whether one of two spec paths lies inside the other (or they are equal)."""
    n = min(len(a), len(b))
    return a[:n] == b[:n]
