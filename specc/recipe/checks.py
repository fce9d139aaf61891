"""`specc check`: the sanity checks a practitioner runs before a long training, with figures.

Each check trains briefly on the spec's own code and data (`harness.py`) and says PASS or FAIL,
the figure that decided it and what a failure usually means:

1. `init_loss`: the loss of the untrained model (regularisation off) on the training split is
   close to what a model that knows nothing scores: log(C) for the C classes the labels hold
   (the cross-entropy of the uniform guess), log(2) per label for binary and multi-label tasks,
   at most twice that; for regression, no more than a few times the variance of the targets
   (an output on the wrong scale fails).
2. `overfit_batch`: with regularisation off, the model drives the loss on one small batch
   (16 examples) to near zero within a bounded number of steps. A model that cannot memorise
   16 examples has a bug (wrong loss or output activation, a learning rate that diverges, a
   broken layer).
3. `shuffled_labels`: trained on labels shuffled at random, the model may learn the training
   examples by heart but its validation score stays at chance. Above chance: information leaks
   from the inputs into the labels by another path, or validation overlaps training.
4. `zero_inputs`: the model trained on its real inputs beats the same model trained on inputs
   set to zero (which can only learn the label frequencies). When it does not, the inputs carry
   no signal the model can use: labels that do not belong to their inputs, a data bug.
5. `repeatable`: two short runs from the same seed give identical losses.

Thresholds are named constants below with the reasoning beside them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .harness import Harness

__all__ = ["CHECKS", "CheckResult", "run_checks"]

INIT_LOSS_TOLERANCE = 1.0
"""How far above the know-nothing loss an untrained model may start and pass: Keras' default
(Glorot) initialisation of a wide last layer gives logits of standard deviation about 1, which
puts the loss up to about 1.6 times log(C); an output wider than the classes, or on the wrong
scale, goes well past twice."""
INIT_LOSS_NOTE = 0.25
"""Above log(C) by more than this (and still passing), the result notes it."""
REGRESSION_INIT_FACTOR = 4.0
"""An untrained regressor may miss by its output's random scale, not by orders of magnitude."""
OVERFIT_EXAMPLES = 16
OVERFIT_STEPS = 1000
OVERFIT_CHUNK = 50
"""Steps per compiled call; the loss is checked between calls and the check stops once met."""
OVERFIT_FRACTION = 0.05
"""Near zero: the final loss on the batch is at most this fraction of its initial loss..."""
OVERFIT_FLOOR = 0.02
"""... or below this absolute value, whichever is larger."""
OVERFIT_FIRST_STEPS = 20
OVERFIT_JUMP = 3.0
"""On the way down, the loss of the first steps (recorded one by one) may not jump above this
multiple of its initial value: a rate that throws the weights around (say 10 for Adam) can
still end on a memorised batch by saturating the outputs, but not without such a jump."""
SHORT_STEPS = 300
"""Optimizer steps of the short runs (in whole epochs, at most the spec's epochs): enough for a
small model at the spec's own learning rate to show what it learns from its inputs."""
CHANCE_MARGIN_SIGMAS = 3.0
"""Shuffled labels pass while validation accuracy is within 3 standard errors of chance (plus
0.02), the spread of a guess on that many examples."""
SIGNAL_MARGIN_SIGMAS = 3.0
"""Real inputs must beat zeroed inputs by 3 standard errors of an accuracy on that many
examples (for regression: R^2 by 0.05), so that a lucky draw on a small split does not pass."""


@dataclass(frozen=True)
class CheckResult:
    name: str
    passed: bool
    figure: str
    """The numbers that decided it."""
    meaning: str
    """What the result says about the recipe."""

    def line(self) -> str:
        return f"{'PASS' if self.passed else 'FAIL'}  {self.name}: {self.figure}. {self.meaning}"


def _subset(x: dict[str, np.ndarray], y: np.ndarray, n: int) -> tuple[dict, np.ndarray]:
    return {k: v[:n] for k, v in x.items()}, y[:n]


def _loss(model: Any, x: dict, y: np.ndarray) -> float:
    return float(model.evaluate(x, y, verbose=0, return_dict=True, batch_size=256)["loss"])


def _short_fit(h: Harness, model: Any, x: dict, y: np.ndarray, validation: bool = True) -> Any:
    per_epoch = math.ceil(len(y) / h.batch_size)
    epochs = max(1, min(h.spec.training.epochs, math.ceil(SHORT_STEPS / per_epoch)))
    kwargs: dict[str, Any] = {}
    if validation and len(h.data.validation[1]):
        vx, vy = h.data.validation
        kwargs["validation_data"] = (vx, h.targets(vy))
    return model.fit(
        x, h.targets(y), batch_size=h.batch_size, epochs=epochs, verbose=0, **kwargs
    ).history


def _score(h: Harness, model: Any, x: dict, y: np.ndarray) -> float:
    """Accuracy for classifiers, R^2 for regression (higher is better)."""
    from specc.spec.tasks import task_kind

    pred = model.predict(x, verbose=0, batch_size=256)
    return float(task_kind(h.spec.task.type).metrics(y, pred, 0.5)[_headline(h)])


def _headline(h: Harness) -> str:
    from specc.spec.tasks import task_kind

    return task_kind(h.spec.task.type).headline


def init_loss(h: Harness) -> CheckResult:
    x, y = _subset(*h.data.train, 2048)
    model = h.model(regularized=False)
    loss = _loss(model, x, h.targets(y))
    task = h.spec.task.type
    if task == "regression":
        variance = float(np.mean(np.var(y.reshape(len(y), -1), axis=0)))
        bound = REGRESSION_INIT_FACTOR * max(variance, 1e-12)
        return CheckResult(
            "init_loss",
            math.isfinite(loss) and loss <= bound,
            f"loss at initialisation {loss:.4g}, target variance {variance:.4g} "
            f"(bound {REGRESSION_INIT_FACTOR:g}x)",
            "the untrained output is on the scale of the targets"
            if loss <= bound
            else "the untrained output is far off the targets' scale: check the output "
            "activation, target scaling and initialisation",
        )
    # C: the classes the training labels hold, which an output wider than that (a task that
    # declares more classes than the data has) does not match
    width = int(model.outputs[0].shape[-1])
    classes = len(np.unique(y)) if task in ("multiclass", "seq2seq") else 2
    expected = math.log(2) if task in ("binary", "multilabel") else math.log(max(classes, 2))
    what = (
        "log(2) per label"
        if task in ("binary", "multilabel")
        else f"log({classes}) for the {classes} classes in the labels (output width {width})"
    )
    high = (1 + INIT_LOSS_TOLERANCE) * expected
    low = (1 - INIT_LOSS_TOLERANCE) * expected
    ok = math.isfinite(loss) and loss <= high
    if not ok:
        meaning = (
            "the untrained model is confidently wrong: check the output layer's width and "
            "activation against the loss, and the scale of the last layer's initialisation"
        )
    elif loss < low:
        meaning = (
            "below the uniform guess: the untrained model already separates the classes "
            "somewhat (easy features); not a bug, but check that no label leaks into an input"
        )
    elif loss > (1 + INIT_LOSS_NOTE) * expected:
        meaning = (
            f"{loss / expected - 1:.0%} above the uniform guess: the last layer's initial "
            "weights are on the large side (training recovers; a smaller initialisation of the "
            "output layer starts closer)"
        )
    else:
        meaning = "the untrained model guesses uniformly, as it should"
    return CheckResult(
        "init_loss",
        ok,
        f"loss at initialisation {loss:.4f}, expected {what} = {expected:.4f} (at most {high:.4f})",
        meaning,
    )


def overfit_batch(h: Harness) -> CheckResult:
    x, y = _subset(*h.data.train, OVERFIT_EXAMPLES)
    t = h.targets(y)
    model = h.model(regularized=False, steps_per_execution=OVERFIT_CHUNK)
    start = _loss(model, x, t)
    target = max(OVERFIT_FRACTION * start, OVERFIT_FLOOR)
    first = [float(model.train_on_batch(x, t, return_dict=True)["loss"])]
    while len(first) < OVERFIT_FIRST_STEPS and math.isfinite(first[-1]):
        first.append(float(model.train_on_batch(x, t, return_dict=True)["loss"]))
    worst = max(first) if all(math.isfinite(v) for v in first) else math.inf
    repeated = {k: np.concatenate([v] * OVERFIT_CHUNK) for k, v in x.items()}
    repeated_t = np.concatenate([t] * OVERFIT_CHUNK)
    steps, end = len(first), _loss(model, x, t)
    while steps < OVERFIT_STEPS and math.isfinite(end) and end > target:
        model.fit(repeated, repeated_t, batch_size=len(y), epochs=1, shuffle=False, verbose=0)
        steps += OVERFIT_CHUNK
        end = _loss(model, x, t)
    rate = h.spec.training.optimizer.learning_rate
    if worst > OVERFIT_JUMP * start:
        return CheckResult(
            "overfit_batch",
            False,
            f"loss on {len(y)} examples jumped from {start:.4g} to {worst:.4g} within the first "
            f"{len(first)} steps (learning rate {rate:g})",
            "the learning rate is too high: updates throw the weights around instead of "
            "descending (lower it; `specc lr-find` suggests one)",
        )
    ok = math.isfinite(end) and end <= target
    return CheckResult(
        "overfit_batch",
        ok,
        f"loss on {len(y)} examples {start:.4g} -> {end:.4g} after {steps} steps "
        f"(target <= {target:.3g}, learning rate {rate:g})",
        "the model can memorise a small batch"
        if ok
        else "the model cannot fit 16 examples with regularisation off: the loss diverges "
        "(learning rate too high), creeps (too low for this many steps), or the output cannot "
        "express the targets",
    )


def shuffled_labels(h: Harness) -> CheckResult:
    x, y = h.data.train
    vx, vy = h.data.validation
    if not len(vy):
        return CheckResult("shuffled_labels", True, "skipped", "the spec has no validation split")
    rng = np.random.default_rng(h.spec.seed)
    model = h.model()
    _short_fit(h, model, x, y[rng.permutation(len(y))], validation=False)
    score = _score(h, model, vx, vy)
    if h.spec.task.type == "regression":
        # R^2 of a know-nothing model scatters around 0 by about 1/sqrt(n) on n examples
        bound = max(0.1, 2 / math.sqrt(len(vy)))
        ok = score <= bound
        return CheckResult(
            "shuffled_labels",
            ok,
            f"validation R^2 {score:.3f} after training on shuffled targets; chance 0 "
            f"(bound {bound:.3f} on {len(vy)} examples)",
            "nothing is learnt from targets that do not belong to their inputs"
            if ok
            else "the model predicts validation targets it never saw paired with their "
            "inputs: look for leakage or overlap between the splits",
        )
    chance = _chance(vy)
    bound = chance + CHANCE_MARGIN_SIGMAS * math.sqrt(chance * (1 - chance) / len(vy)) + 0.02
    ok = score <= bound
    return CheckResult(
        "shuffled_labels",
        ok,
        f"validation accuracy {score:.3f} after training on shuffled labels; chance "
        f"{chance:.3f} (bound {bound:.3f})",
        "nothing is learnt from labels that do not belong to their inputs"
        if ok
        else "validation accuracy is above chance with shuffled labels: information leaks "
        "from the inputs into the labels, or validation overlaps training",
    )


def _chance(y: np.ndarray) -> float:
    """Accuracy of always guessing the most frequent class (per label for multi-label)."""
    labels = np.asarray(y)
    if labels.ndim == 1 or labels.shape[-1] == 1:
        _, counts = np.unique(labels.reshape(-1), return_counts=True)
        return float(counts.max() / counts.sum())
    frequency = labels.mean(axis=0)
    return float(np.mean(np.maximum(frequency, 1 - frequency)))


def zero_inputs(h: Harness) -> CheckResult:
    x, y = h.data.train
    split = h.data.validation if len(h.data.validation[1]) else h.data.test
    real = h.model()
    _short_fit(h, real, x, y, validation=False)
    zeroed = h.model()
    _short_fit(h, zeroed, {k: np.zeros_like(v) for k, v in x.items()}, y, validation=False)
    vx, vy = split
    real_score = _score(h, real, vx, vy)
    zero_score = _score(h, zeroed, {k: np.zeros_like(v) for k, v in vx.items()}, vy)
    metric = _headline(h)
    if h.spec.task.type == "regression":
        margin = 0.05
    else:
        p = min(max(zero_score, 0.05), 0.95)
        margin = max(0.02, SIGNAL_MARGIN_SIGMAS * math.sqrt(p * (1 - p) / len(vy)))
    ok = real_score >= zero_score + margin
    return CheckResult(
        "zero_inputs",
        ok,
        f"{metric} {real_score:.3f} with real inputs, {zero_score:.3f} with inputs set to zero "
        f"on {len(vy)} examples (needs a margin of {margin:.3f})",
        "the inputs carry signal the model uses"
        if ok
        else "the model learns no more from the real inputs than from zeros: the labels may "
        "not belong to their inputs, or the inputs are broken",
    )


def repeatable(h: Harness) -> CheckResult:
    x, y = _subset(*h.data.train, 512)
    runs = []
    for _ in range(2):
        model = h.model()
        history = model.fit(x, h.targets(y), batch_size=h.batch_size, epochs=2, verbose=0)
        runs.append([float(v) for v in history.history["loss"]])
    ok = runs[0] == runs[1]
    return CheckResult(
        "repeatable",
        ok,
        "losses " + " / ".join(", ".join(f"{v:.6g}" for v in run) for run in runs),
        "the same seed gives the same run"
        if ok
        else "two runs from one seed differ: some randomness is not seeded",
    )


CHECKS: dict[str, Callable[[Harness], CheckResult]] = {
    "init_loss": init_loss,
    "overfit_batch": overfit_batch,
    "shuffled_labels": shuffled_labels,
    "zero_inputs": zero_inputs,
    "repeatable": repeatable,
}


def run_checks(
    h: Harness, names: list[str] | None = None, on_result: Callable[[CheckResult], None] = print
) -> list[CheckResult]:
    """Run the named checks (all by default) in order, reporting each as it completes."""
    results = []
    for name in names or list(CHECKS):
        result = CHECKS[name](h)
        on_result(result)
        results.append(result)
    return results
