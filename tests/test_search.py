"""`specc search`: values written into spec text with comments kept, search files checked with
located errors, and real Optuna studies of real (tiny) builds: results, the best spec, resuming,
failed trials with their reason, pruning, and two worker processes sharing one storage."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import optuna
import pytest

from specc.search.config import load_search
from specc.search.edit import parse_path, set_values
from specc.search.run import _TrialProgress, best_spec_path, run_search
from specc.spec import SpecErrors, parse_spec

ROOT = Path(__file__).resolve().parent.parent

SPEC = """\
specc: 1
name: iris_search  # the name stays
seed: 3
task: {type: multiclass, classes: 3}
data: {type: builtin, dataset: "sklearn:iris", split: {validation: 0.25, test: 0.2}}
model:
  inputs:
    - {name: features, shape: [4]}
  layers:
    - {type: dense, units: 16}   # hidden layer
    - type: dropout
      rate: 0.1
    - {type: dense, units: 3}
training:
  epochs: 3
  batch_size: 16
"""

SEARCH = """\
spec: iris.yaml
trials: {trials}
seed: 1
parameters:
  training.optimizer.learning_rate: {{loguniform: [1.0e-3, 1.0e-1]}}
  model.layers[0].units: {{int: [4, 32], log: true}}
  model.layers[1].rate: {{uniform: [0.0, 0.5]}}
"""


def _files(tmp_path: Path, trials: int = 2, search: str = SEARCH) -> Path:
    (tmp_path / "iris.yaml").write_text(SPEC)
    path = tmp_path / "iris.search.yaml"
    path.write_text(search.format(trials=trials))
    return path


# --------------------------------------------------------------------------- text edits


def test_values_are_written_into_the_text_with_comments_kept():
    text = set_values(
        SPEC,
        {
            parse_path("model.layers[0].units"): 64,
            parse_path("model.layers[1].rate"): 0.25,
            parse_path("training.batch_size"): 32,
            parse_path("training.shuffle"): False,
            parse_path("training.optimizer.learning_rate"): 0.01,
        },
        {parse_path("training.optimizer.type"): "adam"},
    )
    assert "# the name stays" in text and "# hidden layer" in text
    assert "- {type: dense, units: 64}   # hidden layer" in text
    assert "      rate: 0.25\n" in text
    assert "  batch_size: 32\n" in text and "  shuffle: false" in text
    assert 'optimizer: {type: "adam", learning_rate: 0.01}' in text
    spec = parse_spec(text, "iris.yaml").spec
    assert spec.model.layers[0].units == 64 and spec.model.layers[1].rate == 0.25
    assert spec.training.optimizer.learning_rate == 0.01 and spec.training.shuffle is False


def test_a_written_section_type_is_left_as_it_is():
    text = "training:\n  optimizer: {type: sgd}  # plain\n"
    out = set_values(
        text,
        {parse_path("training.optimizer.momentum"): 0.9},
        {parse_path("training.optimizer.type"): "adam"},
    )
    assert out == "training:\n  optimizer: {type: sgd, momentum: 0.9}  # plain\n"


@pytest.mark.parametrize(
    ("path", "why"),
    [("model.layers[7].units", "is not written"), ("model.layers", "holds a sequence")],
)
def test_paths_that_cannot_be_set_say_why(path, why):
    with pytest.raises(KeyError, match=why):
        set_values(SPEC, {parse_path(path): 1})


# --------------------------------------------------------------------------- the search file


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        (
            SEARCH.replace("model.layers[0].units", "model.layers[0].unit"),
            "iris.search.yaml:6:25: parameters.model.layers[0].unit: not a value of the spec: "
            "`model.layers[0]` has no field `unit`; did you mean `units`?",
        ),
        (
            SEARCH.replace("model.layers[1].rate", "model.layers[9].rate"),
            "parameters.model.layers[9].rate: not a value of the spec: `model.layers` has no "
            "item [9] (3 items)",
        ),
        (
            SEARCH.replace("model.layers[1].rate", "training.optimizer"),
            "parameters.training.optimizer: not a value of the spec: it names a section",
        ),
        (
            SEARCH.replace("{uniform: [0.0, 0.5]}", "{uniform: [0.5, 0.0]}"),
            "needs [low, high] with finite low < high",
        ),
        (
            SEARCH.replace("{loguniform: [1.0e-3, 1.0e-1]}", "{loguniform: [0, 1]}"),
            "`loguniform` needs low > 0",
        ),
        (SEARCH + "metric: test.accuracy\n", "metric: the test split is held out"),
        (SEARCH + "metric: validation.auc\n", "a metric of this task (loss, accuracy)"),
        (SEARCH.replace("spec: iris.yaml", "spec: nowhere.yaml"), "the spec nowhere.yaml is not"),
        (SEARCH + "trails: 3\n", "did you mean `trials`?"),
    ],
)
def test_search_file_errors_are_located(tmp_path, search, expected):
    path = _files(tmp_path, search=search)
    with pytest.raises(SpecErrors) as caught:
        load_search(path)
    text = str(caught.value)
    assert expected in text
    assert text.startswith(str(path)) or "nowhere.yaml" in text


def test_the_metric_defaults_to_the_validation_headline(tmp_path):
    search = load_search(_files(tmp_path))
    assert (search.split, search.metric, search.direction) == ("validation", "accuracy", "maximize")
    assert search.discriminators == {
        ("training", "optimizer", "type"): "adam",
        ("model", "layers", 0, "type"): "dense",
        ("model", "layers", 1, "type"): "dropout",
    }


def test_the_example_search_file_is_valid():
    search = load_search(ROOT / "specs/search/breast_cancer_mlp.yaml")
    assert search.spec.spec.name == "breast_cancer_mlp" and search.config.sampler == "random"


# --------------------------------------------------------------------------- real studies


def test_a_search_runs_trials_writes_results_and_resumes(tmp_path):
    path = _files(tmp_path, trials=2)
    lines: list[str] = []
    summary = run_search(load_search(path), tmp_path / "out", say=lines.append)
    assert [t["state"] for t in summary.trials] == ["complete", "complete"]
    assert lines[-1].startswith("trial 1 (2 of 2): validation.accuracy ")
    with open(tmp_path / "out" / "results.csv", newline="") as file:
        rows = list(csv.DictReader(file))
    assert [r["number"] for r in rows] == ["0", "1"]
    assert all(4 <= int(r["param:model.layers[0].units"]) <= 32 for r in rows)
    best = best_spec_path(load_search(path))
    assert best == tmp_path / "iris.best.yaml"
    text = best.read_text()
    assert text.startswith("# The best trial") and "# hidden layer" in text
    loaded = parse_spec(text, best)
    values = {float(r["value"]): r for r in rows}
    row = values[max(values)]
    assert loaded.spec.model.layers[0].units == int(row["param:model.layers[0].units"])
    assert (tmp_path / "out" / "search.png").stat().st_size > 0
    for number in ("0000", "0001"):  # every trial is a complete build
        assert (tmp_path / "out" / "trials" / number / "model.onnx").is_file()
    # again, with one more trial: the study resumes from its storage
    again = run_search(load_search(path), tmp_path / "out", trials=3)
    assert [t["number"] for t in again.trials] == [0, 1, 2]


def test_invalid_combinations_are_failed_trials_with_their_reason(tmp_path):
    search = SEARCH.replace("{int: [4, 32], log: true}", "{choice: [0]}")
    path = _files(tmp_path, trials=1, search=search)
    summary = run_search(load_search(path), tmp_path / "out")
    (trial,) = summary.trials
    assert trial["state"] == "fail" and summary.best is None
    assert "invalid spec: model.layers[0].units" in trial["reason"]


def test_a_trial_is_pruned_from_its_per_epoch_metric(tmp_path):
    pytest.importorskip("keras")
    study = optuna.create_study(direction="maximize", pruner=optuna.pruners.ThresholdPruner(0.9))
    trial = study.ask()
    callback = _TrialProgress(trial, "val_accuracy").keras_callback(epochs=5)
    callback.on_epoch_end(0, {"val_accuracy": 0.95})  # above the threshold: goes on
    with pytest.raises(optuna.TrialPruned, match="after epoch 2"):
        callback.on_epoch_end(1, {"val_accuracy": 0.4})


@pytest.mark.slow
def test_two_workers_share_one_study_without_duplicate_work(tmp_path):
    path = _files(tmp_path, trials=4)
    storage = f"sqlite:///{tmp_path / 'shared.db'}"
    command = [sys.executable, "-m", "specc.cli", "search", str(path), "--storage", storage]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    workers = [
        subprocess.Popen(
            [*command, "-o", str(tmp_path / f"worker{i}")],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for i in (1, 2)
    ]
    outputs = [w.communicate(timeout=900) for w in workers]
    assert [w.returncode for w in workers] == [0, 0], outputs
    study = optuna.load_study(study_name="specc-iris", storage=storage)
    numbers = [t.number for t in study.trials]
    assert sorted(numbers) == list(range(len(numbers))) and 4 <= len(numbers) <= 5
    ran = {
        i: sorted(p.name for p in (tmp_path / f"worker{i}" / "trials").iterdir()) for i in (1, 2)
    }
    assert ran[1] and ran[2], "both workers ran trials"
    assert not set(ran[1]) & set(ran[2]), "no trial ran twice"
    params = [tuple(sorted(t.params.items())) for t in study.trials]
    assert len(set(params)) == len(params), "each worker drew its own values"
