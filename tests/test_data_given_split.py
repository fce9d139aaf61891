"""A given test split (`data.test`), npz archives checked by `validate`, and the warning for
arrays a spec does not read.

Archives and CSV files are written into a temporary folder per test; the generated `spec_data.py`
is rendered, linted and imported (helpers of `test_codegen_data`), and `specc validate` runs
through the real CLI.
"""

from __future__ import annotations

import collections
import csv
import textwrap
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner
from test_codegen_data import generate, rows

from specc.cli import cli
from specc.spec import SpecErrors, parse_spec
from specc.spec.lock import lock_text
from specc.spec.npzfile import NpzFileError, read_arrays
from specc.spec.npzfile import test_array_name as array_for_test  # not a test

ROOT = Path(__file__).resolve().parents[1]


def write_spec(folder: Path, text: str) -> Path:
    path = folder / "spec.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def load(folder: Path, text: str):
    return parse_spec(textwrap.dedent(text), folder / "spec.yaml")


def validate(path: Path):
    return CliRunner().invoke(cli, ["validate", str(path)])


def keras_style(folder: Path, train: int = 60, test: int = 24, extra: bool = False) -> dict:
    """An archive like keras.datasets': x_train, y_train, x_test, y_test (3 classes)."""
    rng = np.random.default_rng(1)
    arrays = {
        "x_train": rng.normal(size=(train, 4)).astype(np.float32),
        "y_train": np.arange(train) % 3,
        "x_test": rng.normal(size=(test, 4)).astype(np.float32) + 10.0,
        "y_test": np.arange(test) % 3,
    }
    if extra:
        arrays["notes"] = np.zeros(train)
    np.savez(folder / "data.npz", **arrays)
    return arrays


KERAS_SPEC = """
    specc: 1
    name: given
    seed: 3
    task: {{type: multiclass, classes: 3}}
    data: {{type: npz, path: data.npz, target: y_train, test: {{}}, split: {split}}}
    model:
      inputs: [{{name: signal, shape: [4], source: x_train}}]
      layers: [{{type: dense, units: 3}}]
"""


# --------------------------------------------------------------------------- the split


def test_npz_given_test_split_from_the_same_archive(tmp_path: Path) -> None:
    arrays = keras_style(tmp_path)
    loaded = load(tmp_path, KERAS_SPEC.format(split="{validation: 0.25}"))
    module = generate(loaded, tmp_path)
    assert not hasattr(module, "TEST_FRACTION")
    assert module.TEST_INPUT_ARRAYS == {"signal": "x_test"} and module.TEST_TARGET_ARRAY == "y_test"
    dataset = module.load_data()
    # the test split is the given one, in its order
    np.testing.assert_array_equal(dataset.test[0]["signal"], arrays["x_test"])
    np.testing.assert_array_equal(dataset.test[1], arrays["y_test"])
    # train and validation partition the training arrays, with no test example among them
    train_rows = rows({"signal": arrays["x_train"]}, arrays["y_train"].astype(np.int32))
    got = rows(*dataset.train) + rows(*dataset.validation)
    assert collections.Counter(got) == collections.Counter(train_rows)
    assert not set(got) & set(rows(*dataset.test))
    assert len(dataset.validation[1]) == round(0.25 * len(arrays["y_train"]))
    # stratified: each class 5 of the 15 validation examples
    assert np.bincount(dataset.validation[1]).tolist() == [5, 5, 5]
    # statistics from the training split only (the test inputs are shifted by 10)
    mean, _ = dataset.preprocessing["signal"]
    np.testing.assert_allclose(mean, dataset.train[0]["signal"].mean(axis=0), rtol=1e-5)


def test_npz_given_test_split_from_another_archive(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(30, 2, 3)).astype(np.float32), np.arange(30) % 2
    np.savez(tmp_path / "train.npz", x=x, y=y)
    np.savez(tmp_path / "test.npz", x=x[:7] + 1, y=y[:7])
    loaded = load(
        tmp_path,
        """
        specc: 1
        name: other
        task: {type: binary}
        data:
          type: npz
          path: train.npz
          test: {path: test.npz}
          split: {validation: 0, shuffle: false}
        model:
          inputs: [{name: signal, shape: [2, 3]}]
          layers: [{type: flatten}, {type: dense, units: 1}]
        """,
    )
    module = generate(loaded, tmp_path)
    assert module.TEST_INPUT_ARRAYS == {"signal": "x"} and module.TEST_TARGET_ARRAY == "y"
    dataset = module.load_data()
    np.testing.assert_array_equal(dataset.train[0]["signal"], x)  # every example, in order
    assert dataset.validation[1].shape == (0, 1)
    np.testing.assert_array_equal(dataset.test[0]["signal"], x[:7] + 1)
    assert dataset.test[1].shape == (7, 1) and dataset.test[1].dtype == np.float32


def test_test_array_names() -> None:
    assert array_for_test("x_train", True) == "x_test"
    assert array_for_test("x", True) == "x_test"
    assert array_for_test("train_x", True) == "train_x_test"
    assert array_for_test("x_train", False) == "x_train"


def _write_csv(path: Path, header: list[str], body: list[list]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as file:
        csv.writer(file).writerows([header, *body])


CSV_SPEC = """
    specc: 1
    name: flowers
    task: {{type: multiclass, classes: 3}}
    data:
      type: csv
      path: train.csv
      target: kind
      missing: {missing}
      test: {{path: test.csv}}
      split: {{validation: 0.2}}
    model:
      inputs: [{{name: flower, shape: [2]}}]
      layers: [{{type: dense, units: 3}}]
"""


def test_csv_given_test_file(tmp_path: Path) -> None:
    kinds = ["a", "b", "c"]
    train = [[i, i * 2, kinds[i % 3]] for i in range(30)]
    # the test file lacks class `a`, has its columns in another order and a missing cell
    test = [[i * 2, "" if i == 4 else i, kinds[1 + i % 2]] for i in range(10)]
    _write_csv(tmp_path / "train.csv", ["u", "v", "kind"], train)
    _write_csv(tmp_path / "test.csv", ["v", "u", "kind"], test)
    module = generate(load(tmp_path, CSV_SPEC.format(missing="drop")), tmp_path)
    dataset = module.load_data()
    x_test, y_test = dataset.test
    kept = [row for row in test if row[1] != ""]
    assert len(y_test) == len(kept) == 9
    # labels get the training file's ids (b = 1, c = 2), not ranks among the test labels
    assert y_test.tolist() == [kinds.index(row[2]) for row in kept]
    np.testing.assert_array_equal(x_test["flower"], [[row[1], row[0]] for row in kept])
    assert len(dataset.train[1]) + len(dataset.validation[1]) == 30
    assert len(dataset.validation[1]) == 6


def test_csv_test_label_unknown_to_training_is_a_clear_error(tmp_path: Path) -> None:
    _write_csv(tmp_path / "train.csv", ["u", "v", "kind"], [[i, i, "ab"[i % 2]] for i in range(20)])
    _write_csv(tmp_path / "test.csv", ["u", "v", "kind"], [[1, 2, "a"], [3, 4, "z"]])
    module = generate(load(tmp_path, CSV_SPEC.format(missing="error")), tmp_path)
    with pytest.raises(ValueError, match=r"test.csv: column 'kind' holds labels the training file"):
        module.load_data()


def test_lock_writes_the_resolved_split_and_arrays(tmp_path: Path) -> None:
    keras_style(tmp_path)
    spec_path = write_spec(tmp_path, KERAS_SPEC.format(split="{validation: 0.25}"))
    from specc.pipeline import compile_spec

    compiled = compile_spec(spec_path)
    text = lock_text(compiled.spec, compiled.graph)
    lock = yaml.safe_load(text)
    assert lock["data"]["split"]["test"] == 0.0
    assert lock["data"]["test"] == {"path": "data.npz"}
    assert lock["model"]["inputs"][0]["source"] == "x_train"
    again = parse_spec(text, tmp_path / "spec.lock.yaml")  # the lock is a valid spec again
    assert lock_text(again.spec, compiled.graph) == text


# --------------------------------------------------------------------------- validate


def test_single_input_reads_x_whatever_its_name(tmp_path: Path) -> None:
    """The issue's case: input `signal`, an archive of x and y; docs and behaviour agree."""
    np.savez(tmp_path / "data.npz", x=np.ones((8, 3), np.float32), y=np.zeros(8, np.float32))
    text = """
        specc: 1
        name: signal
        task: {type: regression}
        data: {type: npz, path: data.npz}
        model:
          inputs: [{name: signal, shape: [3]}]
          layers: [{type: dense, units: 1}]
    """
    result = validate(write_spec(tmp_path, text))
    first = result.output.splitlines()[0]  # lint lines may follow
    assert result.exit_code == 0 and first.endswith("spec.yaml: ok"), result.output
    module = generate(load(tmp_path, text), tmp_path)
    assert module.INPUT_ARRAYS == {"signal": "x"}
    x, _ = module.load_examples()
    np.testing.assert_array_equal(x["signal"], np.ones((8, 3)))


def test_several_inputs_read_their_own_names(tmp_path: Path) -> None:
    np.savez(tmp_path / "data.npz", a=np.ones((8, 2)), b=np.ones((8, 3)), y=np.zeros(8))
    loaded = load(
        tmp_path,
        """
        specc: 1
        name: two
        task: {type: regression}
        data: {type: npz, path: data.npz}
        model:
          inputs: [{name: a, shape: [2]}, {name: b, shape: [3]}]
          layers: [{type: concatenate, inputs: [a, b]}, {type: dense, units: 1}]
        """,
    )
    assert loaded.warnings == ()
    assert generate(loaded, tmp_path).INPUT_ARRAYS == {"a": "a", "b": "b"}


def test_object_arrays_are_refused_without_unpickling(tmp_path: Path) -> None:
    objects = np.empty(6, dtype=object)
    objects[:] = [{"a": 1}] * 6
    np.savez(tmp_path / "data.npz", x=objects, y=np.zeros(6))  # saving pickles the objects
    with pytest.raises(SpecErrors) as info:
        load(
            tmp_path,
            """
            specc: 1
            name: objects
            task: {type: regression}
            data: {type: npz, path: data.npz}
            model:
              inputs: [{name: signal, shape: [1]}]
              layers: [{type: dense, units: 1}]
            """,
        )
    (error,) = info.value.errors
    assert error.path == ("model", "inputs", 0, "name")
    assert "holds object values, not numbers" in error.message


def test_header_reader_reads_no_data(tmp_path: Path) -> None:
    """Shapes and dtypes come from the headers: a big array costs nothing to list."""
    big = np.lib.format.open_memmap(
        tmp_path / "x.npy", mode="w+", dtype=np.float32, shape=(10**6, 64)
    )
    del big
    import zipfile

    with zipfile.ZipFile(tmp_path / "big.npz", "w") as archive:  # stored, not compressed
        archive.write(tmp_path / "x.npy", "x.npy")
    arrays = read_arrays(tmp_path / "big.npz")
    assert arrays["x"].shape == (10**6, 64) and arrays["x"].dtype == np.float32
    (tmp_path / "junk.npz").write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(NpzFileError, match="junk.npz is not a readable .npz archive"):
        read_arrays(tmp_path / "junk.npz")


@pytest.mark.parametrize(
    ("labels", "task", "message"),
    [
        (np.array([0, 1, 2, 1]), "{type: binary}", "holds 2: binary labels are 0 or 1"),
        (np.array([[0, 1], [1, 1], [2, 0], [0, 0]]), "{type: multilabel, labels: 2}", "holds 2"),
        (np.array([-1, 0, 1, 2]), "{type: multiclass, classes: 3}", "class ids -1..2"),
        (np.zeros((4, 3)), "{type: multiclass, classes: 3}", "reads one label per example"),
    ],
)
def test_targets_must_fit_the_task(tmp_path: Path, labels, task, message) -> None:
    np.savez(tmp_path / "data.npz", x=np.zeros((4, 2)), y=labels)
    units = 2 if "multilabel" in task else 3 if "multiclass" in task else 1
    with pytest.raises(SpecErrors) as info:
        load(
            tmp_path,
            f"""
            specc: 1
            name: labels
            task: {task}
            data: {{type: npz, path: data.npz}}
            model:
              inputs: [{{name: signal, shape: [2]}}]
              layers: [{{type: dense, units: {units}}}]
            """,
        )
    (error,) = info.value.errors
    assert error.path == ("data", "target") and message in error.message, error.message


# --------------------------------------------------------------------------- warnings


def test_unread_arrays_are_named_in_a_warning(tmp_path: Path) -> None:
    keras_style(tmp_path, extra=True)
    result = validate(write_spec(tmp_path, KERAS_SPEC.format(split="{validation: 0.2}")))
    assert result.exit_code == 0, result.output
    warning, ok = result.output.splitlines()
    assert warning.startswith(f"warning: {tmp_path / 'spec.yaml'}:6:")
    assert "data.path: data.npz holds 1 array this spec does not read, ignored: notes" in warning
    assert ok.endswith("spec.yaml: ok")


def test_an_unread_test_set_is_pointed_at_data_test(tmp_path: Path) -> None:
    """The issue's workaround-free case: x_test/y_test left unread get a hint to `test: {}`."""
    keras_style(tmp_path)
    text = KERAS_SPEC.format(split="{validation: 0.2}").replace(", test: {{}}", "")
    text = text.replace("test: {}, ", "")
    loaded = load(tmp_path, text)
    (warning,) = loaded.warnings
    assert "ignored: x_test, y_test" in warning.message
    assert warning.hint == "`test: {}` reads x_test, y_test as the test split"
    assert warning.format_warning().startswith("warning: ")


def test_no_warning_when_every_array_is_read(tmp_path: Path) -> None:
    keras_style(tmp_path)
    result = validate(write_spec(tmp_path, KERAS_SPEC.format(split="{validation: 0.2}")))
    assert result.exit_code == 0 and "warning:" not in result.output, result.output


def test_the_example_spec_validates_without_warnings() -> None:
    result = CliRunner().invoke(cli, ["validate", str(ROOT / "specs/digits_given_test.yaml")])
    assert result.exit_code == 0 and "warning:" not in result.output, result.output


def test_the_training_archive_under_another_name_is_refused(tmp_path: Path) -> None:
    keras_style(tmp_path)
    (tmp_path / "link.npz").symlink_to(tmp_path / "data.npz")
    text = KERAS_SPEC.format(split="{validation: 0.2}").replace("test: {{}}", "")
    text = text.replace("test: {}", "test: {path: link.npz}")
    with pytest.raises(SpecErrors) as info:
        load(tmp_path, text)
    (error,) = info.value.errors
    assert error.path == ("data", "test", "path")
    assert "the test archive is the training archive, data.npz, under another name" in error.message
    # `./data.npz` is the training archive itself: it reads x_test, y_test
    same = load(tmp_path, text.replace("link.npz", "./data.npz"))
    assert generate(same, tmp_path).TEST_INPUT_ARRAYS == {"signal": "x_test"}


def test_csv_test_columns_training_does_not_read_are_a_warning(tmp_path: Path) -> None:
    _write_csv(tmp_path / "train.csv", ["u", "v", "kind"], [[i, i, "ab"[i % 2]] for i in range(20)])
    _write_csv(tmp_path / "test.csv", ["u", "v", "kind", "w"], [[1, 2, "a", 0], [3, 4, "b", 1]])
    loaded = load(tmp_path, CSV_SPEC.format(missing="error"))
    (warning,) = loaded.warnings
    assert warning.path == ("data", "test", "path")
    assert "test.csv has 1 column the training does not read, ignored: w" in warning.message


# --------------------------------------------------------------------------- end to end


@pytest.mark.slow
def test_build_with_a_given_test_split_matches_standalone_train_py(tmp_path: Path) -> None:
    """`specc build` of the example spec (its archive plus one array it does not read): the
    warning is printed, the test split is the archive's own, no calibration inputs are written
    without a static quantize pass, and `python train.py` alone gives the same test metrics."""
    import json
    import os
    import shutil
    import subprocess
    import sys

    folder = tmp_path / "spec"
    (folder / "data").mkdir(parents=True)
    shutil.copy(ROOT / "specs" / "digits_given_test.yaml", folder / "digits.yaml")
    arrays = dict(np.load(ROOT / "specs" / "data" / "digits_split.npz"))
    np.savez(folder / "data" / "digits_split.npz", **arrays, writer_ids=np.zeros(3))
    out = tmp_path / "build"
    result = CliRunner().invoke(cli, ["build", str(folder / "digits.yaml"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "warning: " in result.output and "ignored: writer_ids" in result.output

    metrics = json.loads((out / "metrics.json").read_text())
    train = len(arrays["y_train"])
    validation = round(0.15 * train)
    sizes = {"train": train - validation, "validation": validation, "test": len(arrays["y_test"])}
    assert metrics["data"] == sizes
    with np.load(out / "test_data.npz") as test:
        np.testing.assert_array_equal(test["pixels"], arrays["x_test"].astype(np.float32))
        np.testing.assert_array_equal(test["y"], arrays["y_test"])
    assert not (out / "calib_data.npz").exists()
    report = (out / "report.md").read_text()
    assert f"{len(arrays['y_test'])} test (given: data.test)." in report
    assert "calib_data.npz" not in metrics["artifacts"]
    lock = yaml.safe_load((out / "spec.lock.yaml").read_text())
    assert lock["data"]["split"]["test"] == 0.0 and lock["data"]["test"]["path"]

    done = subprocess.run(
        [sys.executable, str(out / "code" / "train.py"), "--quiet", "--output-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": "", "TF_CPP_MIN_LOG_LEVEL": "3"},
        cwd=tmp_path,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    test_line = next(line for line in done.stdout.splitlines() if line.startswith("test:"))
    accuracy = float(test_line.split("accuracy")[1].split(",")[0])
    assert accuracy == pytest.approx(metrics["metrics"]["test"]["accuracy"], abs=5e-5)
