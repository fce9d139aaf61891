"""The task records (`specc.spec.tasks`): one per task kind of the schema, and each agrees with
what Keras does with its activation, losses and metrics."""

from __future__ import annotations

import os
import typing

import numpy as np
import pytest

from specc.spec.schema import Task
from specc.spec.tasks import TASK_KINDS, class_names, task_kind

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _schema_task_kinds() -> set[str]:
    union = typing.get_args(Task)[0]  # Annotated[A | B | ..., Field(discriminator="type")]
    return {typing.get_args(m.model_fields["type"].annotation)[0] for m in typing.get_args(union)}


def test_every_task_kind_of_the_schema_has_a_record() -> None:
    assert _schema_task_kinds() == set(TASK_KINDS)


def test_lookup_by_name_task_or_spec_and_a_clear_error() -> None:
    assert task_kind("binary") is TASK_KINDS["binary"]

    class _Task:
        type = "multiclass"

    class _Spec:
        task = _Task()

    assert task_kind(_Task()) is TASK_KINDS["multiclass"]
    assert task_kind(_Spec()) is TASK_KINDS["multiclass"]
    with pytest.raises(ValueError, match="unknown task kind 'ranking'; the kinds are regression"):
        task_kind("ranking")


def test_class_names() -> None:
    class _Task:
        type = "seq2seq"
        vocab_size = 3

    class _Spec:
        task = _Task()

    assert class_names(_Spec(), "ab ") == ["a", "b", " "]
    assert class_names(_Spec()) == []


def test_records_are_consistent() -> None:
    for kind in TASK_KINDS.values():
        assert kind.activation in kind.activations and "auto" in kind.activations
        assert kind.default_loss in kind.losses
        assert kind.headline in ("r2", "accuracy")


@pytest.fixture(scope="module")
def keras():
    return pytest.importorskip("keras")


def test_activations_and_losses_are_keras_names(keras) -> None:
    for kind in TASK_KINDS.values():
        for activation in kind.activations - {"auto"}:
            assert callable(keras.activations.get(activation)), activation
        for loss in kind.losses:
            assert callable(keras.losses.get(loss)), loss
        assert keras.metrics.get(kind.default_metric) is not None


def test_numpy_metrics_agree_with_keras(keras) -> None:
    rng = np.random.default_rng(0)
    n = 64
    logits = rng.normal(size=(n, 5)).astype(np.float32)
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    ids = rng.integers(0, 5, size=n)
    got = task_kind("multiclass").metrics(ids, probs)
    want = keras.losses.sparse_categorical_crossentropy(ids, probs)
    assert got["loss"] == pytest.approx(float(np.mean(want)), rel=1e-4)
    assert got["accuracy"] == pytest.approx(float(np.mean(probs.argmax(1) == ids)))
    one_hot = np.eye(5)[ids]
    assert task_kind("multiclass").metrics(one_hot, probs) == got

    p = rng.uniform(0.01, 0.99, size=(n, 1)).astype(np.float32)
    y = rng.integers(0, 2, size=(n, 1)).astype(np.float32)
    got = task_kind("binary").metrics(y, p)
    acc = keras.metrics.BinaryAccuracy()
    acc.update_state(y, p)
    assert got["accuracy"] == pytest.approx(float(acc.result()))
    bce = float(keras.losses.BinaryCrossentropy()(y, p))
    assert got["loss"] == pytest.approx(bce, rel=1e-4)

    yr = rng.normal(size=(n, 2)).astype(np.float32)
    pr = yr + rng.normal(scale=0.3, size=(n, 2)).astype(np.float32)
    got = task_kind("regression").metrics(yr, pr)
    r2 = keras.metrics.R2Score(class_aggregation="uniform_average")
    r2.update_state(yr, pr)
    assert got["r2"] == pytest.approx(float(r2.result()), rel=1e-4)
    mae = np.mean(keras.losses.mean_absolute_error(yr, pr))
    mse = np.mean(keras.losses.mean_squared_error(yr, pr))
    assert got["mae"] == pytest.approx(float(mae), rel=1e-5)
    assert got["mse"] == pytest.approx(float(mse), rel=1e-5)


def test_runtime_evaluate_is_a_front_of_the_records() -> None:
    from specc.runtime.evaluate import headline_metric, task_metrics

    assert headline_metric("regression") == "r2" and headline_metric("seq2seq") == "accuracy"
    y = np.array([[1.0], [0.0]])
    assert task_metrics("multilabel", y, np.array([[0.9], [0.2]]))["accuracy"] == 1.0
    with pytest.raises(ValueError, match="unknown task kind"):
        task_metrics("ranking", y, y)


def test_record_fields_name_schema_fields_and_metrics_codegen_knows() -> None:
    from specc.codegen.train_context import _METRIC_CODE

    models = {
        typing.get_args(m.model_fields["type"].annotation)[0]: m
        for m in typing.get_args(typing.get_args(Task)[0])
    }
    for name, kind in TASK_KINDS.items():
        for field in (kind.names_field, kind.count_field):
            assert field is None or field in models[name].model_fields, (name, field)
        assert set(kind.allowed_metrics) <= set(_METRIC_CODE), name
        assert kind.default_metric in kind.allowed_metrics
        assert set(kind.tracked_metrics) <= set(kind.allowed_metrics)
