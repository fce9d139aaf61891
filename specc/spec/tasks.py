"""What each task kind means, in one place: one frozen record per kind (regression, binary,
multiclass, multilabel, seq2seq).

A record answers every task question the compiler asks: the output width and activation, the
losses that fit and the default one, the default metrics, the class names, the number of target
columns and class ids, a phrase for summaries, and the numpy test metrics (in
`specc.spec.task_metrics`, imported only when computed). The spec checks, the IR, code
generation, the builder and the runtime ask these records instead of keeping their own tables.
No heavy import here: `specc validate` reads this module.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = [
    "TASK_KINDS",
    "TaskKind",
    "class_names",
    "decoder_input",
    "resolved_loss",
    "resolved_metrics",
    "task_kind",
]


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _numbered(count: int) -> list[str]:
    return [str(i) for i in range(count)]


@dataclass(frozen=True)
class TaskKind:
    """One task kind. Functions take the task section of a spec (`spec.task`)."""

    name: str
    activation: str
    """Output activation an `auto` output layer gets."""
    activations: frozenset[str]
    """Output activations that fit (`auto` included)."""
    default_loss: str
    """Keras loss of `training.loss: auto`."""
    losses: frozenset[str]
    """Keras losses that fit."""
    default_metric: str
    """Metric `auto` in `training.metrics` stands for."""
    tracked_metrics: tuple[str, ...]
    """Metrics compiled into every model of this kind, whatever the spec asks."""
    allowed_metrics: tuple[str, ...]
    """Metrics `training.metrics` may name for this kind."""
    headline: str
    """The test metric a quantization's allowed drop applies to."""
    class_targets: bool
    """Targets are class ids (one label column; the split can be stratified; class weights
    apply)."""
    names_field: str | None
    """The task field that names the classes, labels or outputs (e.g. `class_names`)."""
    count_field: str | None
    """The task field that counts them, when the spec sets it (e.g. `classes`)."""
    width_what: str
    """What the output width counts, for messages."""
    width: Callable[[Any], int]
    """Units of the output layer (per step for seq2seq)."""
    classes: Callable[[Any], int | None]
    """Number of class ids the targets hold, or None (real or 0/1-per-label targets)."""
    target_columns: Callable[[Any], int | None]
    """Target columns a CSV file provides, or None when a CSV cannot hold the targets."""
    names: Callable[[Any, str | None], list[str]]
    """Class (label) names; seq2seq: the tokens of the vocabulary, if known."""
    phrase: Callable[[Any], str]
    """What the network does, e.g. `classifies into 10 classes`."""
    target_doc: Callable[[Any], str]
    """The targets array, e.g. `multiclass, 10 classes -> class ids, int32 (n,)`."""

    def metrics(self, y: Any, pred: Any, threshold: float = 0.5) -> dict[str, float]:
        """Test metrics of `pred` (the primary model output) against targets `y` (numpy)."""
        import numpy as np

        from . import task_metrics

        return getattr(task_metrics, self.name)(np.asarray(y), np.asarray(pred), threshold)


def _regression_phrase(task: Any) -> str:
    names = f" ({', '.join(task.target_names)})" if task.target_names else ""
    return f"predicts {task.outputs} real value{'s' if task.outputs > 1 else ''}{names}"


def _binary_phrase(task: Any) -> str:
    names = f" ({' vs '.join(task.class_names)})" if task.class_names else ""
    return f"classifies into two classes{names}"


_SOFTMAX = frozenset({"auto", "softmax"})
_SIGMOID = frozenset({"auto", "sigmoid"})

TASK_KINDS: dict[str, TaskKind] = {
    kind.name: kind
    for kind in (
        TaskKind(
            name="regression",
            activation="linear",
            activations=frozenset({"auto", "linear", "relu", "softplus"}),
            default_loss="mse",
            losses=frozenset({"mse", "mae", "huber"}),
            default_metric="mae",
            tracked_metrics=(),
            allowed_metrics=("mae", "mse", "rmse"),
            headline="r2",
            class_targets=False,
            names_field="target_names",
            count_field="outputs",
            width_what="outputs",
            width=lambda task: task.outputs,
            classes=lambda task: None,
            target_columns=lambda task: task.outputs,
            names=lambda task, vocab: [],
            phrase=_regression_phrase,
            target_doc=lambda task: (
                f"regression, {_plural(task.outputs, 'output')} -> float32 (n, {task.outputs})"
            ),
        ),
        TaskKind(
            name="binary",
            activation="sigmoid",
            activations=_SIGMOID,
            default_loss="binary_crossentropy",
            losses=frozenset({"binary_crossentropy"}),
            default_metric="accuracy",
            tracked_metrics=("accuracy",),
            allowed_metrics=("accuracy", "auc", "precision", "recall"),
            headline="accuracy",
            class_targets=True,
            names_field="class_names",
            count_field=None,
            width_what="binary (one sigmoid unit)",
            width=lambda task: 1,
            classes=lambda task: 2,
            target_columns=lambda task: 1,
            names=lambda task, vocab: list(task.class_names or _numbered(2)),
            phrase=_binary_phrase,
            target_doc=lambda task: "binary -> 0/1 labels, float32 (n, 1)",
        ),
        TaskKind(
            name="multiclass",
            activation="softmax",
            activations=_SOFTMAX,
            default_loss="sparse_categorical_crossentropy",
            losses=frozenset({"sparse_categorical_crossentropy", "categorical_crossentropy"}),
            default_metric="accuracy",
            tracked_metrics=("accuracy",),
            allowed_metrics=("accuracy",),
            headline="accuracy",
            class_targets=True,
            names_field="class_names",
            count_field="classes",
            width_what="classes",
            width=lambda task: task.classes,
            classes=lambda task: task.classes,
            target_columns=lambda task: 1,
            names=lambda task, vocab: list(task.class_names or _numbered(task.classes)),
            phrase=lambda task: f"classifies into {task.classes} classes",
            target_doc=lambda task: f"multiclass, {task.classes} classes -> class ids, int32 (n,)",
        ),
        TaskKind(
            name="multilabel",
            activation="sigmoid",
            activations=_SIGMOID,
            default_loss="binary_crossentropy",
            losses=frozenset({"binary_crossentropy"}),
            default_metric="accuracy",
            tracked_metrics=("accuracy",),
            allowed_metrics=("accuracy", "auc", "precision", "recall"),
            headline="accuracy",
            class_targets=False,
            names_field="label_names",
            count_field="labels",
            width_what="labels",
            width=lambda task: task.labels,
            classes=lambda task: None,
            target_columns=lambda task: task.labels,
            names=lambda task, vocab: list(task.label_names or _numbered(task.labels)),
            phrase=lambda task: f"predicts {task.labels} independent labels",
            target_doc=lambda task: (
                f"multilabel, {_plural(task.labels, 'label')} -> 0/1 per label, "
                f"float32 (n, {task.labels})"
            ),
        ),
        TaskKind(
            name="seq2seq",
            activation="softmax",
            activations=_SOFTMAX,
            default_loss="sparse_categorical_crossentropy",
            losses=frozenset({"sparse_categorical_crossentropy"}),
            default_metric="accuracy",
            tracked_metrics=("accuracy",),
            allowed_metrics=("accuracy",),
            headline="accuracy",
            class_targets=False,
            names_field=None,
            count_field=None,
            width_what="vocab_size",
            width=lambda task: task.vocab_size,
            classes=lambda task: None,
            target_columns=lambda task: None,
            names=lambda task, vocab: list(vocab) if vocab else [],
            phrase=lambda task: (
                f"maps token sequences to sequences over a vocabulary of {task.vocab_size}"
            ),
            target_doc=lambda task: "seq2seq -> target token ids, int32 (n, steps)",
        ),
    )
}


def task_kind(spec_or_name: Any) -> TaskKind:
    """The record of a task kind, given its name, a task section (`spec.task`) or a spec."""
    name = spec_or_name
    if hasattr(name, "task"):
        name = name.task
    if hasattr(name, "type"):
        name = name.type
    try:
        return TASK_KINDS[name]
    except (KeyError, TypeError):
        known = ", ".join(TASK_KINDS)
        raise ValueError(f"unknown task kind {name!r}; the kinds are {known}") from None


def decoder_input(spec: Any) -> str | None:
    """The model input of a seq2seq spec that reads the answer so far (teacher forcing), which
    greedy decoding fills with the start token and the tokens predicted before: the input that
    reads the `decoder_input` array, else the last of several inputs; None for a model with one
    input (RepeatVector-style: every answer token comes from the source alone) and other tasks."""
    if spec.task.type != "seq2seq":
        return None
    inputs = spec.model.inputs
    for inp in inputs:
        if (inp.source or inp.name) == "decoder_input":
            return inp.name
    return inputs[-1].name if len(inputs) > 1 else None


def class_names(spec: Any, vocab: str | None = None) -> list[str]:
    """Class (label) names of `spec`'s task for metadata; seq2seq: the tokens of `vocab`. A
    subset of a built-in dataset's classes (`data.classes`) keeps the dataset's names."""
    picked = getattr(getattr(spec, "data", None), "classes", None)
    if picked and spec.task.type == "multiclass" and not spec.task.class_names:
        from .datasets import DATASETS

        names = DATASETS[spec.data.dataset].class_names or ()
        return [names[c] if c < len(names) else str(c) for c in picked]
    return task_kind(spec).names(spec.task, vocab)


def resolved_loss(spec: Any) -> str:
    """The spec's loss with `auto` replaced by the task's default."""
    loss = spec.training.loss
    return task_kind(spec).default_loss if loss == "auto" else loss


def resolved_metrics(spec: Any) -> list[str]:
    """The spec's metrics with `auto` replaced by the task's default, in order, once each."""
    default = task_kind(spec).default_metric
    return list(dict.fromkeys(default if m == "auto" else m for m in spec.training.metrics))
