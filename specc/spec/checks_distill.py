"""Checks of a `distill` pass: the teacher exists, can be read, and fits the student.

The teacher (a spec or a `.keras` file, `spec.teacher`) is read without TensorFlow. The student
and the teacher must take the same inputs (names, shapes, dtypes) and classify into the same
number of classes; only multiclass students distill (the distillation loss compares softmax
distributions). A teacher spec is checked with the normal machinery (its own errors are quoted,
located in its file), and must not be distilled itself, so no chain or cycle of teachers forms.
Every error is located at `passes[i].distill.teacher`. A missing file, a name that is neither
`.yaml` nor `.keras`, and a regression task are refused by `checks_model.passes_fit`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from .errors import SpecError, SpecErrors
from .schema import Spec
from .teacher import KERAS_SUFFIX, SPEC_SUFFIXES, TeacherError, TeacherInfo, read_teacher, visiting

__all__ = ["SUPPORTED_TASKS", "is_teacher_spec", "teacher_errors", "teacher_spec_error"]

SUPPORTED_TASKS = ("multiclass",)
KNOWN_SUFFIXES = (*SPEC_SUFFIXES, KERAS_SUFFIX)


def _inputs(items) -> str:
    return ", ".join(f"{n} {list(s)} {d}" for n, s, d in items) or "none"


def teacher_errors(spec: Spec, base_dir: Path, load: Callable[[Path], Any]) -> Iterator[SpecError]:
    """Every problem of the spec's distill teachers; `load` loads a teacher spec (`load_spec`,
    passed in by `load.py`, which calls this after the registered checks: a teacher spec is
    loaded with the same machinery, and no module of `specc.spec` imports another in a cycle)."""
    entries = [(i, e.distill) for i, e in enumerate(spec.passes) if e.distill is not None]
    if not entries:
        return
    for i, settings in entries:
        where = ("passes", i, "distill", "teacher")
        if spec.task.type not in SUPPORTED_TASKS:
            if spec.task.type != "regression":  # `checks_model.passes_fit` refuses regression
                yield SpecError(
                    ("passes", i, "distill"),
                    f"distillation needs a multiclass task, this spec is {spec.task.type}",
                    "the distillation loss compares the softmax distributions of teacher and "
                    "student; remove this pass",
                )
            continue
        if visiting():  # read as a teacher: the student refuses a distilled teacher itself
            continue
        path = base_dir / settings.teacher
        if not path.is_file() or not settings.teacher.endswith(KNOWN_SUFFIXES):
            continue  # `checks_model.passes_fit` says so
        try:
            teacher = read_teacher(path, load)
        except TeacherError as exc:
            yield SpecError(where, exc.message, exc.hint)
            continue
        except SpecErrors as exc:
            yield teacher_spec_error(where, path, exc)
            continue
        yield from _compare(spec, teacher, where)


def _compare(spec: Spec, teacher: TeacherInfo, where: tuple) -> Iterator[SpecError]:
    if teacher.distills_from:
        yield SpecError(
            where,
            f"the teacher spec has a distill pass itself (teacher {teacher.distills_from[0]})",
            "train the teacher without distillation: chains and cycles of teachers are refused",
        )
        return
    if teacher.kind == "spec" and teacher.name == spec.name:
        yield SpecError(
            where,
            f"the teacher spec has the same name as this spec (`{spec.name}`)",
            "a teacher spec is built into `<build folder>/../<its name>`: rename one of them",
        )
    for problem in teacher.problems:
        yield SpecError(
            where, problem, "the build copies the teacher's model and loads it in safe mode"
        )
    mine = tuple((i.name, tuple(i.shape), i.dtype) for i in spec.model.inputs)
    if teacher.inputs != mine:
        yield SpecError(
            where,
            f"the teacher's inputs differ from this model's: teacher {_inputs(teacher.inputs)}; "
            f"this model {_inputs(mine)}",
            "teacher and student read the same batches: same input names, shapes and dtypes",
        )
    classes = spec.task.classes
    if teacher.task != "multiclass" or teacher.classes is None:
        what = "a spec" if teacher.kind == "spec" else "a model"
        yield SpecError(
            where,
            f"the teacher is {what} of task {teacher.task}; this model is multiclass with "
            f"{classes} classes",
            "the teacher must end in a softmax over the same classes",
        )
    elif teacher.classes != classes:
        yield SpecError(
            where,
            f"the teacher has {teacher.classes} classes, this model {classes}",
            "teacher and student must classify into the same classes",
        )


def teacher_spec_error(where: tuple, path: Path, errors: SpecErrors) -> SpecError:
    """One error at the student's `teacher` field quoting the first of a teacher spec's own."""
    first = errors.errors[0].format() if errors.errors else "?"
    n = len(errors.errors)
    return SpecError(
        where,
        f"the teacher spec has {n} error{'s' if n != 1 else ''}; first: {first}",
        f"run `specc validate {path}`",
    )


def is_teacher_spec(teacher: str) -> bool:
    """Whether a `distill.teacher` value names a spec (to build) rather than a Keras file."""
    return Path(teacher).suffix.lower() in SPEC_SUFFIXES
