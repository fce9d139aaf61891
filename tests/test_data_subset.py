"""`data.classes` and `data.limit_per_class` on built-in datasets: the generated `data.py` keeps
the picked classes relabelled in order, and limits only the training split."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits
from test_codegen_data import generate

from specc.spec import parse_spec
from specc.spec.tasks import class_names


def _spec(tmp_path: Path, data: str, task: str = "{type: multiclass, classes: 5}"):
    text = textwrap.dedent(
        f"""\
        specc: 1
        name: subset
        seed: 3
        task: {task}
        data: {data}
        model:
          inputs: [{{name: pixels, shape: [{30 if "cancer" in data else 64}]}}]
          layers: [{{type: dense, units: {1 if "cancer" in data else 5}}}]
        """
    )
    return parse_spec(text, tmp_path / "subset.yaml")


def test_classes_are_kept_in_order_and_relabelled(tmp_path):
    loaded = _spec(tmp_path, "{type: builtin, dataset: 'sklearn:digits', classes: [7, 2, 9, 0, 5]}")
    module = generate(loaded, tmp_path)
    x, y = module.load_examples()
    digits = load_digits()
    picked = [7, 2, 9, 0, 5]
    assert len(y) == int(np.isin(digits.target, picked).sum())
    assert set(np.unique(y)) == set(range(5))
    # every example's pixels are those of a digit of the class its new label stands for
    rows = digits.data[np.isin(digits.target, picked)].astype(np.float32)
    np.testing.assert_array_equal(x["pixels"], rows)
    original = digits.target[np.isin(digits.target, picked)]
    np.testing.assert_array_equal(np.asarray(picked)[y], original)
    assert class_names(loaded.spec) == [str(c) for c in picked]


def test_limit_applies_to_the_training_split_only(tmp_path):
    loaded = _spec(
        tmp_path,
        "{type: builtin, dataset: 'sklearn:digits', classes: [5, 6, 7, 8, 9], limit_per_class: 20}",
    )
    limited = generate(loaded, tmp_path).load_data()
    whole = generate(
        _spec(tmp_path, "{type: builtin, dataset: 'sklearn:digits', classes: [5, 6, 7, 8, 9]}"),
        tmp_path,
    ).load_data()
    assert np.bincount(limited.train[1]).tolist() == [20] * 5
    for split in ("validation", "test"):  # honest metrics: every example of these splits stays
        np.testing.assert_array_equal(getattr(limited, split)[1], getattr(whole, split)[1])
    # the kept training examples are the first of each class in the unlimited training split
    first = np.concatenate([np.flatnonzero(whole.train[1] == c)[:20] for c in range(5)])
    np.testing.assert_array_equal(
        limited.train[0]["pixels"], whole.train[0]["pixels"][np.sort(first)]
    )
    # the statistics are fitted on the examples training sees
    mean = limited.train[0]["pixels"].astype(np.float64).mean(axis=0)
    np.testing.assert_allclose(limited.preprocessing["pixels"][0], mean, rtol=1e-5, atol=1e-5)


def test_limit_on_binary_targets(tmp_path):
    loaded = _spec(
        tmp_path,
        "{type: builtin, dataset: 'sklearn:breast_cancer', limit_per_class: 7}",
        task="{type: binary}",
    )
    data = generate(loaded, tmp_path).load_data()
    assert data.train[1].shape == (14, 1)
    assert np.bincount(data.train[1][:, 0].astype(int)).tolist() == [7, 7]
    total = len(load_breast_cancer().target)
    assert len(data.validation[1]) + len(data.test[1]) == round(0.15 * total) * 2
