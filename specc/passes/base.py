"""What a pass is: when it runs, what it reads and writes, and the typed result it returns.

A pass is one module of `specc.passes` with one entry point, `run(context) -> PassResult`, and a
`PASS` record that declares it:

- `phase`: `training` passes shape the training itself (callbacks, the loss, model transforms:
  the generated `train.py` shows what they do); `after_export` passes turn the verified
  `model.onnx` into another ONNX model. Every pass's `run` is called after the verified export,
  training passes first: a training pass measures there what its change to training produced.
- `prepare` (optional): called before training, in the build folder, to put in place what the
  generated training code reads (say, the teacher model of a distillation).
- `reads` / `writes`: the build artifacts it needs and the ones it adds (relative to the build
  folder). A pass writes nothing else; `metrics.json` and `report.md` are rendered once, at the
  end of the build, from the results of every pass (`PassResult.metrics`, `.markdown`).

A failing pass raises `PassError`, which names the pass and the passes that ran before it, and
may carry the result measured up to the failure (its report section says what went wrong).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["PassContext", "PassError", "PassInfo", "PassResult", "Phase", "jsonable"]


def jsonable(value: Any) -> Any:
    """`value` with numpy scalars as Python numbers and NaN as None, ready for `json.dumps`."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if hasattr(value, "item") and callable(value.item):
        value = value.item()
    if isinstance(value, float) and value != value:  # NaN
        return None
    return value


class Phase(str, enum.Enum):
    """When a pass runs in a build."""

    TRAINING = "training"
    AFTER_EXPORT = "after_export"


@dataclass(frozen=True)
class PassResult:
    """What a pass produced: its artifacts and its sections of `metrics.json` and `report.md`."""

    kind: str
    passed: bool
    modified: bool
    """Whether the pass produced a new model (False: it only measured, or it failed)."""
    artifacts: tuple[str, ...] = ()
    """Files the pass wrote, relative to the build folder."""
    metrics: Mapping[str, Any] = field(default_factory=dict)
    """Its section of `metrics.json` (under `passes.<kind>`): plain data; the build makes it
    JSON-ready with `jsonable` (numpy scalars, NaN) when it writes the file."""
    markdown: str = ""
    """Its section of `report.md` (a `## ...` heading and what follows)."""
    summary: str = ""
    """One line for the build's progress output."""
    stages: tuple[tuple[str, str], ...] = ()
    """Models this pass adds to the build's closing comparison of every stage: (row name, ONNX
    file relative to the build folder). Rows of training passes (a teacher, a model trained
    without the pass) come before the build's own `model.onnx`, rows of passes after export
    (`model.int8.onnx`) after it."""


class PassError(Exception):
    """A pass failed. `result`, when present, is what it measured before failing;
    `completed` holds the results of the passes that ran before it."""

    def __init__(
        self,
        kind: str,
        message: str,
        *,
        result: PassResult | None = None,
        completed: tuple[PassResult, ...] = (),
    ) -> None:
        self.kind, self.message, self.result, self.completed = kind, message, result, completed
        ran = ", ".join(f"`{r.kind}`" for r in completed)
        super().__init__(f"pass `{kind}`" + (f" (after {ran})" if ran else "") + f": {message}")

    @property
    def ran_before(self) -> tuple[str, ...]:
        """Kinds of the passes that completed before this one failed."""
        return tuple(r.kind for r in self.completed)

    def after(self, completed: tuple[PassResult, ...]) -> PassError:
        """The same error, naming the passes that completed before this one."""
        return PassError(self.kind, self.message, result=self.result, completed=completed)


@dataclass(frozen=True)
class PassContext:
    """What a pass may read: the build folder, the whole spec, and its own settings."""

    build_dir: Path
    spec: Any
    """The validated `Spec`."""
    settings: Any
    """The pass's own section of the spec (say, the `Quantize` model)."""
    index: int
    """Its position in the spec's `passes` list."""
    ran_before: tuple[str, ...] = ()
    """Kinds of the passes that ran before it in this build, in order."""
    spec_dir: Path | None = None
    """The folder the spec's relative paths resolve against (a distillation teacher)."""


@dataclass(frozen=True)
class PassInfo:
    """The declaration of a pass, `PASS` in its module."""

    kind: str
    """The key in the spec's `passes` entries."""
    phase: Phase
    reads: tuple[str, ...]
    writes: tuple[str, ...]
    description: str
    run: Callable[[PassContext], PassResult]
    prepare: Callable[[PassContext], None] | None = None
    """Called before training (see the module docstring); None: nothing to prepare."""
