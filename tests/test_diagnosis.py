"""The reading of the learning curves (`specc.builder.diagnosis`) on planted histories: each fit
class, the figures that decided it, oscillation and its causes; then two planted real builds
(slow): a tiny model on a hard task underfits, a huge unregularised one on few samples overfits."""

from __future__ import annotations

import json
import math

import pytest

from specc.builder.diagnosis import ADVICE, GAP, HIGH_ERROR, diagnose, diagnosis_markdown
from specc.spec import parse_spec
from tools.lint_examples import spec_text

IRIS = parse_spec(spec_text({})).spec  # 3 classes: guessing errs 2/3 of the time
CHANCE = 2 / 3


def _metrics(train_acc: float, val_acc: float | None) -> dict:
    return {
        "train": {"accuracy": train_acc, "loss": 0.1},
        "validation": {} if val_acc is None else {"accuracy": val_acc, "loss": 0.2},
        "test": {"accuracy": 0.9},
    }


def _falling(n: int, start: float = 1.0, end: float = 0.1) -> list[float]:
    return [start * (end / start) ** (i / (n - 1)) for i in range(n)]


def _run(history, metrics, spec=IRIS, params=67, samples=106):
    return diagnose(history, metrics, spec, params=params, train_samples=samples)


def test_good_fit() -> None:
    history = {"loss": _falling(10), "val_loss": _falling(10, 1.1, 0.15)}
    d = _run(history, _metrics(0.97, 0.95))
    assert d.fit == "good fit" and d.oscillation is None
    assert d.figures["train_error"] == pytest.approx(0.03)
    assert d.figures["gap"] == pytest.approx(0.02)


def test_underfitting_when_training_error_is_high() -> None:
    train_acc = 1 - (HIGH_ERROR * CHANCE + 0.05)  # just above the threshold
    history = {"loss": _falling(10, 1.1, 0.9), "val_loss": _falling(10, 1.1, 0.95)}
    d = _run(history, _metrics(train_acc, train_acc - 0.02))
    assert d.fit == "underfitting" and d.advice == ADVICE["underfitting"]
    assert f"training error {1 - train_acc:.3f}" in d.summary
    just_below = 1 - (HIGH_ERROR * CHANCE - 0.05)
    assert _run(history, _metrics(just_below, just_below - 0.02)).fit != "underfitting"


def test_a_model_at_chance_underfits_even_if_validation_is_a_little_better() -> None:
    history = {"loss": _falling(3, 1.3, 1.2), "val_loss": _falling(3, 1.3, 1.15)}
    d = _run(history, _metrics(0.33, 0.40))  # both near guessing (1/3)
    assert d.fit == "underfitting"


def test_overfitting_by_the_gap() -> None:
    history = {"loss": _falling(10), "val_loss": _falling(10, 1.1, 0.5)}
    d = _run(history, _metrics(1.0, 1.0 - GAP * CHANCE - 0.05))
    assert d.fit == "overfitting" and "validation error is" in d.summary
    assert d.advice == ADVICE["overfitting"]


def test_overfitting_by_a_growing_gap() -> None:
    val = [1.0, 0.6, 0.4, 0.35, 0.38, 0.42, 0.47]  # lowest at epoch 4, then rises 34%
    history = {"loss": _falling(7), "val_loss": val}
    d = _run(history, _metrics(0.98, 0.96))  # restored best epoch: small gap in the metrics
    assert d.fit == "overfitting"
    assert d.figures["best_epoch"] == 4
    assert d.figures["val_loss_rise"] == pytest.approx((0.47 - 0.35) / 0.35, abs=1e-4)
    assert "lowest at epoch 4" in d.summary and "growing gap" in d.summary


def test_validation_better_than_training_is_unknown() -> None:
    history = {"loss": _falling(10), "val_loss": _falling(10, 0.8, 0.05)}
    d = _run(history, _metrics(0.80, 0.95))
    assert d.fit == "unknown fit" and "check the split" in d.advice[0]


def test_a_difference_within_the_noise_of_a_small_validation_split_is_no_finding() -> None:
    history = {"loss": _falling(10), "val_loss": _falling(10, 1.1, 0.15)}
    metrics = _metrics(1 - 0.089, 1 - 0.037)  # one error in 27 validation examples
    assert _run(history, metrics).fit == "unknown fit"  # no size known: no noise assumed
    d = diagnose(history, metrics, IRIS, params=67, train_samples=124, validation_samples=27)
    assert d.fit == "good fit" and "within the noise of 27 validation examples" in d.summary
    assert d.figures["noise"] == pytest.approx(2 * math.sqrt(0.037 * 0.963 / 27), abs=1e-3)
    # the same rates over 2,700 validation examples are a real difference
    d = diagnose(history, metrics, IRIS, params=67, train_samples=124, validation_samples=2700)
    assert d.fit == "unknown fit"


def test_no_validation_split() -> None:
    d = _run({"loss": _falling(5)}, _metrics(0.9, None))
    assert d.fit == "no validation" and d.figures["validation_error"] is None


def test_diverged_loss() -> None:
    d = _run({"loss": [1.0, 3.0, math.nan], "val_loss": [1.0, 2.0, math.nan]}, _metrics(0.3, 0.3))
    assert d.fit == "diverged" and d.figures["first_bad_epoch"] == 3
    assert "lower the learning rate" in d.advice
    json.dumps(d.to_json(), allow_nan=False)  # no NaN reaches metrics.json


def test_no_history() -> None:
    d = _run({}, _metrics(0.9, 0.9))
    assert d.fit == "no history" and diagnosis_markdown(d.to_json())[2].startswith("**no history**")


def test_regression_reads_r2() -> None:
    spec = parse_spec(
        spec_text(
            {
                "task": {"type": "regression", "classes": None},
                "data": {"dataset": "sklearn:diabetes"},
                "model": {
                    "inputs": [{"name": "x", "shape": [10]}],
                    "layers": [{"type": "dense", "units": 8}, {"type": "dense", "units": 1}],
                },
            }
        )
    ).spec
    metrics = {"train": {"r2": 0.3}, "validation": {"r2": 0.25}}
    history = {"loss": _falling(6), "val_loss": _falling(6)}
    d = _run(history, metrics, spec=spec)
    assert d.fit == "underfitting" and d.figures["error"] == "1 - r2"
    assert d.figures["chance_error"] == 1.0


def test_oscillation_and_its_causes() -> None:
    spec = parse_spec(
        spec_text(
            {"training": {"batch_size": 4, "optimizer": {"type": "adam", "learning_rate": 0.05}}}
        )
    ).spec
    loss = [1.0, 0.7, 0.9, 0.6, 0.8, 0.5, 0.75, 0.45, 0.7, 0.4]
    history = {"loss": loss, "val_loss": _falling(10)}
    d = _run(history, _metrics(0.97, 0.95), spec=spec, params=50_000, samples=106)
    osc = d.oscillation
    assert osc is not None and osc["rises"] == 4 and osc["epochs"] == 9
    assert osc["summary"].startswith("The training loss rose in 4 of 9 epochs")
    applies = {c["cause"]: c["applies"] for c in osc["causes"]}
    assert applies == {
        "batch too small": True,
        "learning rate too high": True,
        "large network on small data": True,
    }
    # the same curve with a sound recipe: still oscillating, but no cause applies
    calm = _run(history, _metrics(0.97, 0.95)).oscillation
    assert calm is not None and not any(c["applies"] for c in calm["causes"])
    text = "\n".join(diagnosis_markdown(d.to_json()))
    assert "it oscillates. Usual causes:" in text and "batch size 4 (this run)" in text


def test_a_smooth_or_short_loss_does_not_oscillate() -> None:
    assert (
        _run({"loss": _falling(20), "val_loss": _falling(20)}, _metrics(0.97, 0.95)).oscillation
        is None
    )
    wobbly_but_short = {"loss": [1.0, 1.2, 0.9, 1.1], "val_loss": [1.0, 1.0, 1.0, 1.0]}
    assert _run(wobbly_but_short, _metrics(0.97, 0.95)).oscillation is None


def test_markdown_section() -> None:
    d = _run({"loss": _falling(10), "val_loss": _falling(10, 1.1, 0.15)}, _metrics(0.97, 0.95))
    lines = diagnosis_markdown(d.to_json())
    assert lines[:3] == ["## Diagnosis", "", f"**good fit**. {d.summary}"]
    assert "- keep the recipe; compare changes against this run" in lines


# --------------------------------------------------------------------------- planted real cases

UNDERFIT = {  # one linear unit between 64 pixels and 10 classes, a tiny rate, 3 epochs
    "task": {"type": "multiclass", "classes": 10},
    "data": {"dataset": "sklearn:digits"},
    "model": {
        "inputs": [{"name": "pixels", "shape": [64]}],
        "layers": [
            {"type": "dense", "units": 1, "activation": "linear"},
            {"type": "dense", "units": 10},
        ],
    },
    "training": {"epochs": 3, "optimizer": {"type": "adam", "learning_rate": 1e-4}},
}


def _overfit_csv(path) -> None:
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 8))
    y = rng.integers(0, 2, size=60)  # random labels: nothing to learn but the examples
    rows = "".join(
        ",".join(f"{v:.5f}" for v in xi) + f",{yi}\n" for xi, yi in zip(x, y, strict=True)
    )
    path.write_text(",".join(f"f{i}" for i in range(8)) + ",label\n" + rows, encoding="utf-8")


OVERFIT = {  # 256x256 units, no regularisation, 42 training examples with random labels
    "task": {"type": "binary", "classes": None},
    "data": {"type": "csv", "dataset": None, "path": "data.csv", "target": "label"},
    "model": {
        "inputs": [{"name": "x", "shape": [8]}],
        "layers": [
            {"type": "dense", "units": 256},
            {"type": "dense", "units": 256},
            {"type": "dense", "units": 1},
        ],
    },
    "training": {"epochs": 60, "optimizer": {"type": "adam", "learning_rate": 3e-3}},
}


@pytest.mark.slow
@pytest.mark.parametrize(("change", "fit"), [(UNDERFIT, "underfitting"), (OVERFIT, "overfitting")])
def test_planted_builds(tmp_path, change, fit) -> None:
    from specc.builder import build

    _overfit_csv(tmp_path / "data.csv")
    spec = tmp_path / "spec.yaml"
    spec.write_text(spec_text(change), encoding="utf-8")
    result = build(spec, tmp_path / "out")
    diagnosis = json.loads((result.output_dir / "metrics.json").read_text())["diagnosis"]
    assert diagnosis["fit"] == fit, diagnosis
    report = (result.output_dir / "report.md").read_text()
    assert f"## Diagnosis\n\n**{fit}**. {diagnosis['summary']}" in report
