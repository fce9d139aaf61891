"""Lint diagnostics and the rule registry: one function per rule, registered with `@rule`.

A rule reads a `LintContext` (the validated spec, its lowered graph, the example counts and,
for data rules, the real data) and yields `Finding`s: a dotted spec path, a message and a hint.
`specc.lint.run` turns them into located `Diagnostic`s, with the rule's id and severity. No heavy
import here: `specc validate` and `specc lint` read this module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from specc.spec.errors import Location, dotted
from specc.spec.tasks import task_kind

if TYPE_CHECKING:
    from specc.ir import Graph
    from specc.spec import LoadedSpec

__all__ = [
    "RULES",
    "SEVERITIES",
    "Diagnostic",
    "Finding",
    "LintContext",
    "Rule",
    "Severity",
    "regularisation",
    "rule",
]

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[str, ...] = ("error", "warning", "info")


@dataclass(frozen=True)
class Finding:
    """What a rule found: where in the spec (a path such as ('training', 'batch_size')), what,
    and what to do. `severity` overrides the rule's own where one rule has two strengths."""

    path: tuple[str | int, ...]
    message: str
    hint: str | None = None
    severity: Severity | None = None


@dataclass(frozen=True)
class Diagnostic:
    """One located lint result."""

    rule: str
    """The rule id, e.g. `SPC201`."""
    severity: Severity
    path: tuple[str | int, ...]
    """The spec field the diagnostic is about (empty: the whole spec)."""
    message: str
    hint: str | None = None
    location: Location | None = None

    @property
    def field(self) -> str:
        return dotted(self.path)

    def format(self) -> str:
        """`FILE:LINE:COL: SPC201 warning training.batch_size: message (hint: ...)`."""
        where = f"{self.location}: " if self.location else ""
        path = f" {self.field}:" if self.path else ":"
        hint = f" (hint: {self.hint})" if self.hint else ""
        return f"{where}{self.rule} {self.severity}{path} {self.message}{hint}"

    def to_json(self) -> dict[str, Any]:
        loc = self.location
        return {
            "rule": self.rule,
            "severity": self.severity,
            "field": self.field,
            "message": self.message,
            "hint": self.hint,
            "file": loc.file if loc else None,
            "line": loc.line if loc else None,
            "col": loc.col if loc else None,
        }


@dataclass
class LintContext:
    """What rules read. `samples` is the number of examples before the split (None when it
    cannot be known without reading the data); `data` holds the data facts (`rules_data`)
    when data rules run."""

    loaded: LoadedSpec
    graph: Graph
    samples: int | None
    data: Any = None

    @property
    def spec(self) -> Any:
        return self.loaded.spec

    @property
    def train_samples(self) -> int | None:
        """Examples in the training split, rounded as the generated split rounds."""
        if self.samples is None:
            return None
        split = self.spec.data.split
        n = self.samples
        train = n - round(split.test * n) - round(split.validation * n)
        limit = getattr(self.spec.data, "limit_per_class", None)  # built-in datasets only
        if limit is not None:
            classes = task_kind(self.spec).classes(self.spec.task) or 2  # binary: 2 classes
            train = min(train, limit * classes)
        return train


def regularisation(ctx: LintContext) -> list[str]:
    """What in the spec fights overfitting, in words (the output layer's own dropout or penalty
    does not count: SPC105 says why)."""
    spec, found = ctx.spec, []
    outputs = {node.path for node in ctx.graph.output_nodes}
    layers = [
        layer for i, layer in enumerate(spec.model.layers) if ("model", "layers", i) not in outputs
    ]
    if any(layer.type == "dropout" or getattr(layer, "dropout", 0.0) > 0 for layer in layers):
        found.append("dropout")
    if any(getattr(layer, "regularizer", None) is not None for layer in layers):
        found.append("weight penalties")
    if getattr(spec.training.optimizer, "weight_decay", 0.0) > 0:
        found.append("weight decay")
    if spec.training.early_stopping is not None:
        found.append("early stopping")
    if any(entry.kind == "prune" for entry in spec.passes):
        found.append("pruning")  # it removes most of the weights it counts
    return found


Check = Callable[[LintContext], Iterable[Finding]]


@dataclass(frozen=True)
class Rule:
    """A registered rule: its id, default severity, a title, where its rule of thumb comes
    from, and whether it reads the real data."""

    id: str
    severity: Severity
    title: str
    why: str
    check: Check
    data: bool = False


RULES: dict[str, Rule] = {}


def rule(
    id: str, severity: Severity, title: str, why: str, *, data: bool = False
) -> Callable[[Check], Check]:
    """Register the decorated function as the rule `id` (ids are unique)."""

    def register(fn: Check) -> Check:
        if id in RULES:
            raise ValueError(f"lint rule {id} is registered twice")
        RULES[id] = Rule(id, severity, title, why, fn, data)
        return fn

    return register
