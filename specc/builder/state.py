"""The typed state of one build: each stage reads it and adds its own result.

    validate -> codegen -> train -> export -> verify -> passes -> compare -> report

`metrics.json` and `report.md` are rendered once, at the end, from this state; no file is used
to pass data between stages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from specc.codegen import GeneratedCode
from specc.passes.base import PassError, PassResult
from specc.pipeline import Compiled

from .progress import Progress

__all__ = ["BuildState", "Exported", "Trained"]


@dataclass(frozen=True)
class Trained:
    """What the generated `train()` produced."""

    model: Any
    """The trained Keras model."""
    history: dict[str, list[float]]
    metrics: dict[str, dict[str, float]]
    """Per split (`train`, `validation`, `test`): metric name -> value."""
    epochs_run: int
    fit_seconds: float
    sizes: dict[str, int]
    """Examples per split."""
    x_test: dict[str, Any]
    y_test: Any
    preprocessing: dict[str, tuple[Any, Any]]
    """Input name -> (mean, variance) of the normalisation built into the model."""
    vocab: str | None
    """The token vocabulary of a sequence task (it names the output classes)."""


@dataclass(frozen=True)
class Exported:
    """The verified ONNX model."""

    path: Path
    size_bytes: int
    parity: dict[str, Any]


@dataclass
class BuildState:
    """One build in progress: the inputs, then each stage's result as it completes."""

    compiled: Compiled
    out: Path
    code: GeneratedCode
    progress: Progress
    trained: Trained | None = None
    exported: Exported | None = None
    passes: list[PassResult] = field(default_factory=list)
    failed_pass: PassError | None = None
    """A pass that failed: the build still renders its report, then fails."""
    stages: list[Any] = field(default_factory=list)
    """The closing comparison of every stage's model (`passes.measure.StageFigures`)."""
    metrics: dict[str, Any] = field(default_factory=dict)
    """The `metrics.json` document, once the report stage has rendered it."""
    lint: list[Any] = field(default_factory=list)
    """The lint's findings (`specc.lint.Diagnostic`), run with the data before training."""
    compare: bool = False
    """`specc build --compare`: also train the spec without its passes (`references.py`)."""

    @property
    def spec(self) -> Any:
        return self.compiled.spec
