"""Reading the learning curves of a build: underfitting, overfitting, a good fit, or a fit that
cannot be read (validation better than training), with the figures that decided it and the
advice for each case; and whether the training loss oscillates, with its usual causes.

Pure Python over the history (`loss`, `val_loss` per epoch) and the metrics the generated code
measured on each split after training (`accuracy`, or `r2` for regression). An error is
`1 - accuracy` or `1 - r2`; "high" is measured against the error of guessing (chance), so the
same thresholds serve every task. The reading follows Ng's bias/variance recipe (Machine
Learning Yearning, 2018): a high training error is bias (underfitting); a validation error well
above the training error is variance (overfitting).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

__all__ = ["Diagnosis", "diagnose", "diagnosis_markdown", "diagnosis_of"]

# A training error above this fraction of chance error: the model has not got even halfway from
# guessing to perfect on the data it trains on (high bias).
HIGH_ERROR = 0.5
# Validation error more than this fraction of chance error above training error: high variance.
GAP = 0.1
# Validation error this fraction of chance error *below* training error: the curves cannot be
# read (a leak, a tiny or easy validation split).
BETTER_VALIDATION = 0.05
# A difference between two error rates within this many standard errors of the validation error
# rate (binomial: sqrt(e(1 - e) / n) over n validation examples) is noise, not a gap: one
# misclassified example in a validation split of 27 moves its error by 0.037.
NOISE_SE = 2.0
# Validation loss ending this much above its minimum while the training loss kept falling: the
# gap grows (overfitting set in at the minimum).
VAL_RISE = 0.10
# Oscillation: the training loss rises (by more than RISE_TOL) in at least this fraction of the
# epochs, over at least MIN_EPOCHS epochs. A healthy epoch-level loss rarely rises.
OSCILLATION = 0.25
RISE_TOL = 0.01
MIN_EPOCHS = 5
# Causes worth naming: a batch this small is noisy; a learning rate above these is high for its
# optimizer (Karpathy 2019: 3e-4 for Adam; SGD with momentum is usually run at 0.1 or below);
# more parameters per training example than this is a large network on small data.
SMALL_BATCH = 8
HIGH_LR = {"adam": 3e-3, "adamw": 3e-3, "rmsprop": 3e-3, "sgd": 0.1}
PARAMS_PER_SAMPLE = 10

ADVICE = {
    "underfitting": [
        "train longer (more epochs, or a higher learning rate)",
        "a larger model (wider or deeper layers)",
        "less regularisation (dropout, weight penalties)",
        "better features or preprocessing",
    ],
    "overfitting": [
        "more data (or augmentation, for images)",
        "regularise: dropout, weight penalties, early stopping",
        "a smaller model",
    ],
    "good fit": ["keep the recipe; compare changes against this run"],
    "unknown fit": [
        "check the split: examples shared between splits (`specc lint --data`), a validation "
        "split too small or easier than the training split",
        "dropout and augmentation act only on the training split: compare without them",
    ],
    "no validation": ["set `data.split.validation` above 0 to read the curves"],
    "diverged": [
        "lower the learning rate",
        "clip gradients (`training.gradient_clipping`)",
        "check the data for extreme values",
    ],
}


@dataclass(frozen=True)
class Diagnosis:
    fit: str
    """`underfitting`, `overfitting`, `good fit`, `unknown fit`, `no validation`, `diverged` or
    `no history`."""
    summary: str
    """One sentence with the figures that decided it."""
    figures: dict[str, Any]
    advice: list[str]
    oscillation: dict[str, Any] | None = None
    """`rises`, `epochs`, `mean_rise`, `summary` and `causes` when the training loss oscillates."""

    def to_json(self) -> dict[str, Any]:
        return {
            "fit": self.fit,
            "summary": self.summary,
            "figures": self.figures,
            "advice": self.advice,
            "oscillation": self.oscillation,
        }


def _chance_error(spec: Any) -> float:
    """The error of guessing: 1 - 1/k for k classes (per label, per token), 1 for regression
    (an r2 of 0 is predicting the mean)."""
    task = spec.task
    classes = {
        "binary": 2,
        "multilabel": 2,
        "multiclass": getattr(task, "classes", 2),
        "seq2seq": getattr(task, "vocab_size", 2),
    }.get(task.type)
    return 1.0 if classes is None else 1.0 - 1.0 / classes


def _error(split: dict[str, float] | None, regression: bool) -> float | None:
    if not split:
        return None
    value = split.get("r2") if regression else split.get("accuracy", split.get("token_accuracy"))
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return 1.0 - float(value)


def _finite(values: list[float] | None) -> bool:
    return bool(values) and all(isinstance(v, (int, float)) and math.isfinite(v) for v in values)


def diagnose(
    history: dict[str, list[float]],
    metrics: dict[str, dict[str, float]],
    spec: Any,
    *,
    params: int,
    train_samples: int,
    validation_samples: int | None = None,
) -> Diagnosis:
    """Classify the fit of one training run; see the module docstring. `validation_samples`
    sizes the noise of a classification error rate (none assumed without it)."""
    regression = spec.task.type == "regression"
    what = "1 - r2" if regression else "1 - accuracy"
    loss, val_loss = history.get("loss") or [], history.get("val_loss") or []
    if not loss:
        return Diagnosis("no history", "No learning curves were recorded.", {}, [])
    oscillation = _oscillation(loss, spec, params, train_samples) if _finite(loss) else None
    if not _finite(loss) or (val_loss and not _finite(val_loss)):
        bad = next((i + 1 for i, v in enumerate(loss) if not math.isfinite(v)), None)
        where = f" from epoch {bad}" if bad else ""
        return Diagnosis(
            "diverged",
            f"The loss is not finite{where} (NaN or inf): training diverged.",
            {"first_bad_epoch": bad},
            ADVICE["diverged"],
        )
    chance = _chance_error(spec)
    train_err = _error(metrics.get("train"), regression)
    val_err = _error(metrics.get("validation"), regression)
    figures: dict[str, Any] = {
        "error": what,
        "chance_error": round(chance, 4),
        "train_error": None if train_err is None else round(train_err, 4),
        "validation_error": None if val_err is None else round(val_err, 4),
        "epochs": len(loss),
    }
    if train_err is None or val_err is None or not val_loss:
        return Diagnosis(
            "no validation",
            "No validation split: the curves cannot tell overfitting from a good fit.",
            figures,
            ADVICE["no validation"],
            oscillation,
        )
    best = min(range(len(val_loss)), key=val_loss.__getitem__)
    rise = (val_loss[-1] - val_loss[best]) / max(abs(val_loss[best]), 1e-12)
    growing = best < len(val_loss) - 1 and rise > VAL_RISE and loss[-1] < loss[best]
    figures.update(
        gap=round(val_err - train_err, 4),
        best_epoch=best + 1,
        best_val_loss=round(val_loss[best], 6),
        last_val_loss=round(val_loss[-1], 6),
        val_loss_rise=round(rise, 4),
    )
    errors = (
        f"training error {train_err:.3f}, validation error {val_err:.3f} ({what}; guessing: "
        f"{chance:.3f})"
    )
    noise = 0.0
    if not regression and validation_samples:
        rate = min(max(val_err, 1.0 / validation_samples), 1.0 - 1.0 / validation_samples)
        noise = NOISE_SE * math.sqrt(rate * (1.0 - rate) / validation_samples)
    figures["noise"] = round(noise, 4)
    high = HIGH_ERROR * chance
    both_high = train_err > high and val_err > high
    if not both_high and val_err < train_err - max(BETTER_VALIDATION * chance, noise):
        fit, summary = "unknown fit", f"Validation is better than training: {errors}."
    elif train_err > high:
        fit = "underfitting"
        summary = (
            f"Training and validation error are both high: {errors}; the training error is above "
            f"{HIGH_ERROR:g}x the error of guessing."
        )
    elif val_err - train_err > max(GAP * chance, noise) or growing:
        fit = "overfitting"
        reasons = []
        if val_err - train_err > max(GAP * chance, noise):
            reasons.append(f"validation error is {val_err - train_err:.3f} above training error")
        if growing:
            reasons.append(
                f"validation loss was lowest at epoch {best + 1} ({val_loss[best]:.4g}) and rose "
                f"{rise:.0%} by the last epoch ({val_loss[-1]:.4g}) while training loss kept "
                "falling: a growing gap"
            )
        summary = f"{errors[0].upper()}{errors[1:]}; " + "; ".join(reasons) + "."
    else:
        fit = "good fit"
        within = f" (within the noise of {validation_samples} validation examples)" if noise else ""
        summary = f"{errors[0].upper()}{errors[1:]}; low training error and a small gap{within}."
    return Diagnosis(fit, summary, figures, ADVICE[fit], oscillation)


def _oscillation(
    loss: list[float], spec: Any, params: int, train_samples: int
) -> dict[str, Any] | None:
    steps = len(loss) - 1
    if steps < MIN_EPOCHS - 1:
        return None
    rises = [
        (loss[i + 1] - loss[i]) / max(abs(loss[i]), 1e-12)
        for i in range(steps)
        if loss[i + 1] > loss[i] * (1 + RISE_TOL)
    ]
    if len(rises) < OSCILLATION * steps:
        return None
    training = spec.training
    batch, optimizer = training.batch_size, training.optimizer
    per_sample = params / train_samples if train_samples else 0.0
    limit = HIGH_LR.get(optimizer.type, 3e-3)
    causes = [
        {
            "cause": "batch too small",
            "applies": batch != "full" and batch <= SMALL_BATCH,
            "figure": f"batch size {batch}",
        },
        {
            "cause": "learning rate too high",
            "applies": optimizer.learning_rate > limit,
            "figure": f"{optimizer.type} learning rate {optimizer.learning_rate:g}",
        },
        {
            "cause": "large network on small data",
            "applies": per_sample > PARAMS_PER_SAMPLE,
            "figure": f"{params:,} parameters for {train_samples:,} training examples",
        },
    ]
    if training.schedule.type in ("cyclical", "one_cycle"):
        causes.append(
            {
                "cause": "a cyclical learning-rate schedule (by design)",
                "applies": True,
                "figure": f"schedule {training.schedule.type}",
            }
        )
    mean_rise = sum(rises) / len(rises)
    return {
        "rises": len(rises),
        "epochs": steps,
        "mean_rise": round(mean_rise, 4),
        "summary": (
            f"The training loss rose in {len(rises)} of {steps} epochs (by {mean_rise:.0%} on "
            "average): it oscillates."
        ),
        "causes": causes,
    }


def diagnosis_of(state: Any) -> Diagnosis:
    """The diagnosis of a trained build state (`BuildState` after the train stage)."""
    trained = state.trained
    return diagnose(
        trained.history,
        trained.metrics,
        state.spec,
        params=state.compiled.graph.trainable_params,
        train_samples=trained.sizes.get("train", 0),
        validation_samples=trained.sizes.get("validation"),
    )


def diagnosis_markdown(diagnosis: dict[str, Any]) -> list[str]:
    """The `## Diagnosis` section of `report.md`, from `Diagnosis.to_json()`."""
    lines = ["## Diagnosis", "", f"**{diagnosis['fit']}**. {diagnosis['summary']}", "", "Advice:"]
    lines += ["", *(f"- {item}" for item in diagnosis["advice"]), ""]
    osc = diagnosis["oscillation"]
    if osc is not None:
        lines += [osc["summary"] + " Usual causes:", ""]
        for cause in osc["causes"]:
            mark = " (this run)" if cause["applies"] else ""
            lines.append(f"- {cause['cause']}: {cause['figure']}{mark}")
        lines.append("")
    return lines
