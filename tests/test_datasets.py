"""The built-in dataset records (`specc.spec.datasets`) against the real scikit-learn loaders
and the schema, and the one CSV header reader (`specc.spec.csvfile`)."""

from __future__ import annotations

import typing
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from specc.spec.csvfile import CsvHeaderError, feature_names, read_header
from specc.spec.datasets import BUILTIN_DATASETS, DATASETS, SEQ2SEQ_VOCAB, dataset
from specc.spec.schema import BuiltinData
from specc.spec.tasks import TASK_KINDS


def test_every_dataset_of_the_schema_has_a_record() -> None:
    names = typing.get_args(BuiltinData.model_fields["dataset"].annotation)
    assert set(names) == set(DATASETS) == set(BUILTIN_DATASETS)
    for record in DATASETS.values():
        assert record.task in TASK_KINDS
    with pytest.raises(ValueError, match="unknown built-in dataset 'sklearn:mnist'"):
        dataset("sklearn:mnist")


SKLEARN = [name for name in BUILTIN_DATASETS if name.startswith("sklearn:")]


@pytest.mark.parametrize("name", SKLEARN)
def test_sklearn_records_match_the_loader(name: str) -> None:
    datasets = pytest.importorskip("sklearn.datasets")
    record = DATASETS[name]
    bunch = eval(f"datasets.{record.loader_call}", {"datasets": datasets})  # noqa: S307
    defaults = BuiltinData(type="builtin", dataset=name)
    (array,) = record.arrays(defaults)
    assert array.name == "x"
    assert bunch.data.shape == (record.examples, *array.shape)
    assert record.max_samples(defaults) == record.examples
    if record.classes is None:
        assert record.task == "regression" and record.outputs == 1
        assert bunch.target.ndim == 1 and np.unique(bunch.target).size > 10
    else:
        assert np.unique(bunch.target).tolist() == list(range(record.classes))
        assert tuple(str(n) for n in bunch.target_names) == record.class_names
    if name == "sklearn:diabetes":
        assert bunch.data.max() > 1  # raw measurements, not scikit-learn's scaled ones


def test_synthetic_records() -> None:
    addition = DATASETS["synthetic:addition"]
    data = SimpleNamespace(digits=2, length=5, random_length=False)
    assert [(a.name, a.shape, a.dtype) for a in addition.arrays(data)] == [
        ("encoder_input", (5,), "int32"),
        ("decoder_input", (3,), "int32"),
    ]
    assert addition.max_samples(data) == 10**4
    # random_length: a+b and b+a count once, and at most half of those questions are drawn
    drawn = SimpleNamespace(digits=2, random_length=True)
    assert (
        addition.max_samples(drawn) == len({(a, b) for a in range(100) for b in range(a, 100)}) // 2
    )
    reverse = DATASETS["synthetic:reverse"]
    assert [a.shape for a in reverse.arrays(data)] == [(5,), (5,)]
    assert reverse.max_samples(data) == 10**5
    assert addition.vocab == reverse.vocab == SEQ2SEQ_VOCAB and len(SEQ2SEQ_VOCAB) == 13
    assert addition.synthetic and not DATASETS["sklearn:iris"].synthetic


def test_csv_header_bom_quotes_and_delimiter(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes('\ufeff"height (cm)";"a;b" ;label\n1;2;x\n'.encode())
    assert read_header(path, ";") == ["height (cm)", "a;b", "label"]
    path.write_text("x,y\n", encoding="utf-8")
    assert read_header(path) == ["x", "y"]


def test_csv_header_errors(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(CsvHeaderError, match="empty.csv has no header row"):
        read_header(empty)
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\xff\xfe\x00a")
    with pytest.raises(CsvHeaderError, match="cannot read the header of binary.csv"):
        read_header(binary)
    with pytest.raises(CsvHeaderError, match="cannot read the header of missing.csv"):
        read_header(tmp_path / "missing.csv")


def test_feature_names(tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text("a,b,c,t\n", encoding="utf-8")
    data = SimpleNamespace(path="d.csv", delimiter=",", target="t", features=None)
    assert feature_names(data, tmp_path) == ["a", "b", "c"]
    data = SimpleNamespace(path="d.csv", delimiter=",", target=["t", "a"], features=None)
    assert feature_names(data, tmp_path) == ["b", "c"]
    data = SimpleNamespace(path="d.csv", delimiter=",", target="t", features=["c", "a"])
    assert feature_names(data, tmp_path) == ["c", "a"]
