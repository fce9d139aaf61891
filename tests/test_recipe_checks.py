"""`specc check` and `specc lr-find` on real (tiny) trainings: a sound recipe passes every check,
and each planted bug fails the check that is meant to catch it; the range test's suggestion
rules, its plot, and `--write` keeping the spec's comments."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from sklearn.datasets import load_iris

from specc.cli import cli as specc_cli
from specc.pipeline import compile_spec
from specc.recipe.checks import run_checks
from specc.recipe.harness import open_harness
from specc.recipe.lrfind import _suggest, lr_find

ROOT = Path(__file__).resolve().parent.parent

SPEC = """\
specc: 1
name: iris_recipe
seed: 5
task: {{type: multiclass, classes: {classes}}}
data: {{type: csv, path: iris.csv, target: species, split: {{validation: 0.25, test: 0.2}}}}
model:
  inputs:
    - {{name: features, shape: [4]}}
  layers:
    - {{type: dense, units: 32}}   # hidden
    - {{type: dense, units: {classes}}}
training:
  optimizer: {{type: adam, learning_rate: {rate}}}
  epochs: 5
  batch_size: 16
"""


def _spec(tmp_path, *, rate=0.01, classes=3, shuffle_labels=False):
    data = load_iris()
    y = data.target.copy()
    if shuffle_labels:
        y = np.random.default_rng(0).permutation(y)
    rows = ["a,b,c,d,species"] + [
        ",".join(f"{v:.2f}" for v in x) + f",{t}" for x, t in zip(data.data, y, strict=True)
    ]
    (tmp_path / "iris.csv").write_text("\n".join(rows) + "\n")
    path = tmp_path / "iris.yaml"
    path.write_text(SPEC.format(rate=rate, classes=classes))
    return path


def _checks(path, names=None):
    with open_harness(compile_spec(path)) as harness:
        return {r.name: r for r in run_checks(harness, names, on_result=lambda r: None)}


@pytest.mark.slow
def test_a_sound_recipe_passes_every_check(tmp_path):
    results = _checks(_spec(tmp_path))
    assert {name: r.passed for name, r in results.items()} == {
        "init_loss": True,
        "overfit_batch": True,
        "shuffled_labels": True,
        "zero_inputs": True,
        "repeatable": True,
    }, "\n".join(r.line() for r in results.values())
    assert "log(3) for the 3 classes in the labels" in results["init_loss"].figure


def test_labels_shuffled_in_the_data_fail_the_zero_inputs_check(tmp_path):
    result = _checks(_spec(tmp_path, shuffle_labels=True), ["zero_inputs"])["zero_inputs"]
    assert not result.passed, result.line()
    assert "no more from the real inputs than from zeros" in result.meaning


def test_a_learning_rate_of_ten_fails_the_overfit_check(tmp_path):
    result = _checks(_spec(tmp_path, rate=10.0), ["overfit_batch"])["overfit_batch"]
    assert not result.passed, result.line()


def test_an_output_wider_than_the_classes_fails_the_init_loss_check(tmp_path):
    result = _checks(_spec(tmp_path, classes=40), ["init_loss"])["init_loss"]
    assert not result.passed, result.line()
    assert "3 classes in the labels (output width 40)" in result.figure


def test_check_command_exit_code_and_lines(tmp_path):
    path = _spec(tmp_path, rate=10.0)
    result = CliRunner().invoke(specc_cli, ["check", str(path), "--only", "overfit_batch"])
    assert result.exit_code == 1, result.output
    assert result.output.startswith("FAIL  overfit_batch: loss on 16 examples")
    assert result.output.rstrip().endswith("0 of 1 checks passed; failed: overfit_batch")


def test_suggestion_rules_on_a_known_curve():
    rates = list(np.logspace(-6, 0, 100))
    logs = np.log10(rates)
    # flat, then falling fastest at 1e-3, a minimum at 1e-1, then diverging
    curve = 2.0 - 1.5 / (1 + np.exp(-(logs + 3) * 3)) + np.where(logs > -1, (logs + 1) * 20, 0)
    result = _suggest(rates, list(curve), list(curve), "diverged")
    assert result.rule == "steepest"
    assert 10**-3.2 <= result.suggestion <= 10**-2.8
    at_min = rates[int(np.argmin(curve))]
    assert result.min_over_10 == pytest.approx(at_min / 10)


def test_a_curve_that_diverges_at_once_is_an_error():
    with pytest.raises(ValueError, match="start the sweep lower"):
        _suggest([1e-3, 1e-2, 1e-1], [1.0, 5.0, 50.0], [1.0, 5.0, 50.0], "diverged")


def test_lr_find_writes_the_plot_and_the_rate_keeping_comments(tmp_path):
    path = _spec(tmp_path)
    plot = tmp_path / "lr.png"
    result = CliRunner().invoke(
        specc_cli, ["lr-find", str(path), "--steps", "60", "-o", str(plot), "--write"]
    )
    assert result.exit_code == 0, result.output
    assert plot.stat().st_size > 0
    line = next(x for x in result.output.splitlines() if x.startswith("suggested learning rate"))
    value = float(line.split(": ")[1].split(" ")[0])
    text = path.read_text()
    assert "# hidden" in text
    assert compile_spec(path).spec.training.optimizer.learning_rate == pytest.approx(value)


def test_the_sweep_stops_when_the_loss_diverges(tmp_path):
    with open_harness(compile_spec(_spec(tmp_path))) as harness:
        result = lr_find(harness, low=1e-4, high=1e3, steps=80)
    assert result.stopped == "diverged" and len(result.smoothed) < 80
    assert 1e-4 <= result.suggestion < result.rates[-1]


@pytest.mark.slow
def test_training_with_the_suggested_rate_keeps_the_test_metric(tmp_path):
    """The range test's suggestion, written into an example spec, trains a model whose test
    accuracy is at least 0.95 of the one the spec's own rate gives."""
    from specc.builder import build
    from specc.search.edit import set_values

    source = ROOT / "specs" / "breast_cancer_mlp.yaml"
    original = tmp_path / "original.yaml"
    original.write_text(source.read_text())
    with open_harness(compile_spec(original)) as harness:
        suggestion = lr_find(harness).suggestion
    suggested = tmp_path / "suggested.yaml"
    rate = float(f"{suggestion:.3g}")
    suggested.write_text(
        set_values(original.read_text(), {("training", "optimizer", "learning_rate"): rate})
    )
    own = build(original, tmp_path / "own").metrics["metrics"]["test"]["accuracy"]
    found = build(suggested, tmp_path / "found").metrics["metrics"]["test"]["accuracy"]
    assert found >= 0.95 * own, f"rate {rate}: test accuracy {found:.4f} vs {own:.4f}"
