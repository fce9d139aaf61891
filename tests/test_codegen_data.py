"""The generated `data.py`: lint-clean standalone code that loads, splits and scales correctly.

Every test renders `templates/data.py.j2` for a real spec into a temporary folder, checks it with
`ruff check` and `ruff format --check`, imports it from the file and exercises it.
"""

from __future__ import annotations

import ast
import collections
import fnmatch
import importlib.util
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from specc.codegen.data_context import data_context
from specc.codegen.env import environment
from specc.spec import LoadedSpec, SpecErrors, load_spec, parse_spec
from specc.spec.datasets import DATASETS, SEQ2SEQ_VOCAB

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
EXAMPLE_SPECS = sorted((ROOT / "specs").glob("*.yaml"))
RUFF = [sys.executable, "-m", "ruff"]
RUFF_SETTINGS = ["--isolated", "--line-length", "100", "--target-version", "py310"]
ALLOWED_THIRD_PARTY = {"numpy", "sklearn"}


# --------------------------------------------------------------------------- helpers


def generate(loaded: LoadedSpec, folder: Path) -> ModuleType:
    """Render data.py for `loaded` into `folder`, lint it, and import it from the file."""
    path = folder / f"data_{loaded.spec.name}.py"
    context = data_context(loaded.spec, loaded.base_dir)
    path.write_text(environment().get_template("data.py.j2").render(**context), encoding="utf-8")
    assert_clean(path)
    module_name = f"generated_{loaded.spec.name}_{abs(hash(str(path)))}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses look their module up while the class is built
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[module_name]
    return module


def assert_clean(path: Path) -> None:
    """Ruff-clean, formatted, and importing nothing but numpy, scikit-learn and the stdlib."""
    check = subprocess.run(
        [*RUFF, "check", *RUFF_SETTINGS, "--select", "E,F,W,I,B,UP", str(path)],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    fmt = subprocess.run(
        [*RUFF, "format", "--check", "--diff", *RUFF_SETTINGS, str(path)],
        capture_output=True,
        text=True,
    )
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr
    tree = ast.parse(path.read_text(encoding="utf-8"))
    modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            modules.add(node.module.split(".")[0])
    assert "specc" not in modules and "tensorflow" not in modules, modules
    assert modules <= ALLOWED_THIRD_PARTY | set(sys.stdlib_module_names), modules
    assert ast.get_docstring(tree), "the module has a docstring"


def spec_from_text(text: str, folder: Path = DATA) -> LoadedSpec:
    """A spec parsed as if it were a file in `folder` (data paths resolve against it)."""
    return parse_spec(textwrap.dedent(text), folder / "spec.yaml")


def rows(x: dict[str, np.ndarray], y: np.ndarray) -> list[bytes]:
    """One bytes key per example: every input's row and the target row."""
    arrays = [x[name] for name in sorted(x)] + [y]
    return [b"".join(np.ascontiguousarray(a[i]).tobytes() for a in arrays) for i in range(len(y))]


def assert_partition(module: ModuleType, dataset) -> None:
    """The three splits hold every example exactly once (with a given test split: train and
    validation hold every example of the training file, and the test split is the given one)."""
    x, y = module.load_examples()
    parts = [dataset.train, dataset.validation, dataset.test]
    if hasattr(module, "load_test_examples"):
        assert rows(*dataset.test) == rows(*module.load_test_examples())
        parts = parts[:2]
    assert sum(len(part[1]) for part in parts) == len(y)
    assert collections.Counter(sum((rows(*part) for part in parts), [])) == collections.Counter(
        rows(x, y)
    )


def assert_stats_from_train(module: ModuleType, dataset, preprocessing: str) -> None:
    """Statistics equal NumPy's over the training split, per last-axis channel."""
    x_train, _ = dataset.train
    names = [n for n in x_train if x_train[n].dtype == np.float32]
    if preprocessing == "none":
        assert dataset.preprocessing == {}
        return
    assert sorted(dataset.preprocessing) == sorted(names)
    for name in names:
        values = x_train[name].reshape(-1, x_train[name].shape[-1]).astype(np.float64)
        mean, variance = dataset.preprocessing[name]
        assert mean.dtype == variance.dtype == np.float32
        assert mean.shape == variance.shape == (x_train[name].shape[-1],)
        if preprocessing == "standardize":
            expected_mean, expected_variance = values.mean(axis=0), values.var(axis=0)
        else:
            expected_mean = values.min(axis=0)
            expected_variance = (values.max(axis=0) - expected_mean) ** 2
        expected_variance = np.where(expected_variance > 0, expected_variance, 1.0)
        np.testing.assert_allclose(mean, expected_mean, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(variance, expected_variance, rtol=1e-5, atol=1e-6)


def expected_y(loaded: LoadedSpec) -> tuple[type, tuple[int, ...]]:
    task = loaded.spec.task
    return {
        "multiclass": (np.int32, ()),
        "binary": (np.float32, (1,)),
        "multilabel": (np.float32, (getattr(task, "labels", 0),)),
        "regression": (np.float32, (getattr(task, "outputs", 0),)),
        "seq2seq": (np.int32, None),
    }[task.type]


def assert_shapes(loaded: LoadedSpec, module: ModuleType, dataset) -> None:
    spec = loaded.spec
    input_names = [inp.name for inp in spec.model.inputs]
    assert module.SEED == spec.seed
    y_dtype, y_tail = expected_y(loaded)
    for split in (dataset.train, dataset.validation, dataset.test):
        x, y = split
        assert list(x) == input_names
        for inp in spec.model.inputs:
            assert x[inp.name].dtype == np.dtype(inp.dtype)
            assert x[inp.name].shape[1:] == tuple(inp.shape)
            assert len(x[inp.name]) == len(y)
        assert y.dtype == y_dtype
        if y_tail is not None:
            assert y.shape[1:] == y_tail


def assert_split_sizes(loaded: LoadedSpec, dataset) -> None:
    split = loaded.spec.data.split
    if getattr(loaded.spec.data, "test", None) is not None:  # validation: of the training file
        count = len(dataset.train[1]) + len(dataset.validation[1])
        assert len(dataset.validation[1]) == round(split.validation * count)
        return
    count = sum(len(part[1]) for part in (dataset.train, dataset.validation, dataset.test))
    assert len(dataset.test[1]) == round(split.test * count)
    assert len(dataset.validation[1]) == round(split.validation * count)


def assert_class_proportions(dataset, y_all: np.ndarray) -> None:
    """Every class's count in every split is within 2 of its share of the whole dataset."""
    labels_all = y_all.reshape(len(y_all), -1)[:, 0]
    classes = np.unique(labels_all)
    share = np.array([(labels_all == c).mean() for c in classes])
    for _, y in (dataset.train, dataset.validation, dataset.test):
        labels = y.reshape(len(y), -1)[:, 0]
        counts = np.array([(labels == c).sum() for c in classes])
        assert np.all(np.abs(counts - share * len(labels)) <= 2), (counts, share * len(labels))


# --------------------------------------------------------------------------- example specs


@pytest.mark.parametrize("spec_path", EXAMPLE_SPECS, ids=lambda p: p.stem)
def test_example_spec_generates_working_data_module(spec_path: Path, tmp_path: Path) -> None:
    loaded = load_spec(spec_path)
    module = generate(loaded, tmp_path)
    dataset = module.load_data()

    assert_shapes(loaded, module, dataset)
    assert_split_sizes(loaded, dataset)
    assert_partition(module, dataset)
    assert_stats_from_train(module, dataset, loaded.spec.data.preprocessing)
    if loaded.spec.task.type == "regression":
        _, y_train = dataset.train
        mean, std = dataset.target_scaling
        np.testing.assert_allclose(mean, y_train.mean(axis=0), rtol=1e-5)
        np.testing.assert_allclose(std, y_train.std(axis=0), rtol=1e-5)
    else:
        assert dataset.target_scaling is None

    # the same seed gives identical splits, another seed a different one
    again = module.load_data()
    for split in ("train", "validation", "test"):
        (x1, y1), (x2, y2) = getattr(dataset, split), getattr(again, split)
        np.testing.assert_array_equal(y1, y2)
        for name in x1:
            np.testing.assert_array_equal(x1[name], x2[name])
    other = module.load_data(seed=module.SEED + 1)
    if hasattr(module, "load_test_examples"):  # the given test split does not depend on the seed
        assert rows(*other.test) == rows(*dataset.test)
        assert rows(*other.validation) != rows(*dataset.validation)
    else:
        assert rows(*other.test) != rows(*dataset.test)


@pytest.mark.parametrize("name", ["digits_cnn", "breast_cancer_mlp"])
def test_stratified_split_keeps_class_proportions(name: str, tmp_path: Path) -> None:
    module = generate(load_spec(ROOT / "specs" / f"{name}.yaml"), tmp_path)
    _, y_all = module.load_examples()
    assert_class_proportions(module.load_data(), y_all)


def test_statistics_come_from_the_training_split_only(tmp_path: Path) -> None:
    module = generate(load_spec(ROOT / "specs" / "digits_transformer.yaml"), tmp_path)
    dataset = module.load_data()
    x_all, _ = module.load_examples()
    mean, variance = dataset.preprocessing["rows"]
    all_rows = x_all["rows"].reshape(-1, 8).astype(np.float64)
    assert mean.shape == (8,)  # one channel per pixel column of a row
    assert not np.allclose(mean, all_rows.mean(axis=0), rtol=1e-6, atol=0)
    train_rows = dataset.train[0]["rows"].reshape(-1, 8).astype(np.float64)
    np.testing.assert_allclose(mean, train_rows.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(variance, train_rows.var(axis=0), rtol=1e-5)


def test_digits_pixels_are_raw_and_reshaped(tmp_path: Path) -> None:
    from sklearn.datasets import load_digits

    module = generate(load_spec(ROOT / "specs" / "digits_cnn.yaml"), tmp_path)
    x, y = module.load_examples()
    digits = load_digits()
    np.testing.assert_array_equal(x["pixels"], digits.images[..., None].astype(np.float32))
    np.testing.assert_array_equal(y, digits.target)
    # one channel: a single (mean, variance) over every pixel of the training images
    mean, variance = module.load_data().preprocessing["pixels"]
    assert mean.shape == variance.shape == (1,)


def test_diabetes_features_are_unscaled(tmp_path: Path) -> None:
    module = generate(load_spec(ROOT / "specs" / "diabetes_regression.yaml"), tmp_path)
    x, y = module.load_examples()
    age = x["features"][:, 0]
    assert 40 < age.mean() < 60 and age.min() >= 18  # years, not sklearn's scaled values
    assert y.shape == (442, 1) and y.dtype == np.float32


# --------------------------------------------------------------------------- split options

IRIS_SPEC = """
    specc: 1
    name: iris_{name}
    seed: 3
    task: {{type: multiclass, classes: 3}}
    data:
      type: builtin
      dataset: sklearn:iris
      split: {split}
      preprocessing: {preprocessing}
    model:
      inputs: [{{name: measurements, shape: [4]}}]
      layers: [{{type: dense, units: 3}}]
"""


def iris(name: str, split: str, preprocessing: str = "standardize") -> LoadedSpec:
    return spec_from_text(IRIS_SPEC.format(name=name, split=split, preprocessing=preprocessing))


def test_zero_validation_gives_an_empty_split_of_the_right_shape(tmp_path: Path) -> None:
    module = generate(iris("no_validation", "{validation: 0, test: 0.2}"), tmp_path)
    dataset = module.load_data()
    x_val, y_val = dataset.validation
    assert x_val["measurements"].shape == (0, 4) and x_val["measurements"].dtype == np.float32
    assert y_val.shape == (0,) and y_val.dtype == np.int32
    assert len(dataset.train[1]) == 120 and len(dataset.test[1]) == 30


def test_unshuffled_split_keeps_example_order(tmp_path: Path) -> None:
    module = generate(iris("ordered", "{shuffle: false, validation: 0.2, test: 0.2}"), tmp_path)
    x, y = module.load_examples()
    dataset = module.load_data()
    np.testing.assert_array_equal(dataset.train[1], y[:90])
    np.testing.assert_array_equal(dataset.validation[1], y[90:120])
    np.testing.assert_array_equal(dataset.test[0]["measurements"], x["measurements"][120:])
    # iris is sorted by class: an ordered split is not stratified, and the seed does not matter
    assert set(dataset.test[1].tolist()) == {2}
    np.testing.assert_array_equal(module.load_data(seed=99).test[1], dataset.test[1])


def test_unstratified_shuffled_split(tmp_path: Path) -> None:
    module = generate(iris("unstratified", "{stratify: false}"), tmp_path)
    text = Path(module.__file__).read_text()
    assert "stratify=" not in text
    dataset = module.load_data()
    assert_partition(module, dataset)


def test_minmax_statistics(tmp_path: Path) -> None:
    module = generate(iris("minmax", "{}", preprocessing="minmax"), tmp_path)
    dataset = module.load_data()
    assert_stats_from_train(module, dataset, "minmax")
    low, variance = dataset.preprocessing["measurements"]
    x_train = dataset.train[0]["measurements"]
    scaled = (x_train - low) / np.sqrt(variance)  # what keras.layers.Normalization computes
    np.testing.assert_allclose(scaled.min(axis=0), 0.0, atol=1e-6)
    np.testing.assert_allclose(scaled.max(axis=0), 1.0, atol=1e-6)


def test_no_preprocessing_returns_no_statistics(tmp_path: Path) -> None:
    module = generate(iris("unscaled", "{}", preprocessing="none"), tmp_path)
    assert module.load_data().preprocessing == {}
    assert "SCALED_INPUTS" not in Path(module.__file__).read_text()


# --------------------------------------------------------------------------- synthetic seq2seq

SEQ2SEQ_SPEC = """
    specc: 1
    name: {name}
    seed: 2
    task: {{type: seq2seq, vocab_size: 13}}
    data: {{type: builtin, dataset: "synthetic:{dataset}", samples: {samples}, {size}}}
    model:
      inputs:
        - {{name: question, shape: [{question}], dtype: int32, source: encoder_input}}
        - {{name: decoder_input, shape: [{answer}], dtype: int64}}
      layers:
        - {{name: q, type: embedding, input_dim: 13, output_dim: 8, inputs: [question]}}
        - {{name: enc, type: lstm, units: 8, return_state: true}}
        - {{name: a, type: embedding, input_dim: 13, output_dim: 8, inputs: [decoder_input]}}
        - {{name: dec, type: lstm, units: 8, return_sequences: true, initial_state: enc}}
        - {{type: dense, units: 13}}
"""


def seq2seq(dataset: str, samples: int, size: str, question: int, answer: int) -> LoadedSpec:
    return spec_from_text(
        SEQ2SEQ_SPEC.format(
            name=f"{dataset}_{samples}",
            dataset=dataset,
            samples=samples,
            size=size,
            question=question,
            answer=answer,
        )
    )


def assert_teacher_forcing(module: ModuleType, x: dict, y: np.ndarray) -> None:
    assert np.all(x["decoder_input"][:, 0] == module.START_TOKEN)
    np.testing.assert_array_equal(x["decoder_input"][:, 1:], y[:, :-1])


def test_seq2seq_vocabulary_matches_the_dataset_table() -> None:
    assert DATASETS["synthetic:addition"].vocab == SEQ2SEQ_VOCAB
    assert DATASETS["synthetic:reverse"].vocab == SEQ2SEQ_VOCAB


def test_addition_examples_are_correct_sums(tmp_path: Path) -> None:
    loaded = load_spec(ROOT / "specs" / "addition_seq2seq.yaml")
    n, digits = loaded.spec.data.samples, loaded.spec.data.digits
    module = generate(loaded, tmp_path)
    assert len(module.VOCAB) == 13 and module.VOCAB[11] == " "
    assert module.START_TOKEN == 12 and module.VOCAB[:10] == "0123456789"
    x, y = module.load_examples()
    assert x["encoder_input"].shape == (n, 2 * digits + 1) and y.shape == (n, digits + 1)
    for question, answer in zip(x["encoder_input"], y, strict=True):
        text = module.decode(question)
        assert len(text) == 2 * digits + 1 and text.rstrip() == text.strip() and "+" in text
        assert eval(text) == int(module.decode(answer))  # noqa: S307 - digits and "+" only
        assert module.decode(answer) == module.decode(answer).strip().ljust(digits + 1)
    assert_teacher_forcing(module, x, y)
    questions = [q.tobytes() for q in x["encoder_input"]]
    assert len(set(questions)) == len(questions)  # distinct: no question in two splits
    dataset = module.load_data()
    train = {q.tobytes() for q in dataset.train[0]["encoder_input"]}
    assert not train & {q.tobytes() for q in dataset.test[0]["encoder_input"]}
    assert dataset.preprocessing == {} and dataset.target_scaling is None


def test_addition_with_every_pair_uses_each_once(tmp_path: Path) -> None:
    module = generate(seq2seq("addition", 100, "digits: 1", 3, 2), tmp_path)
    x, y = module.load_examples()
    assert x["question"].dtype == np.int32 and x["decoder_input"].dtype == np.int64
    for question, answer in zip(x["question"], y, strict=True):
        assert eval(module.decode(question)) == int(module.decode(answer))  # noqa: S307
    assert len({q.tobytes() for q in x["question"]}) == 100  # all 100 one-digit pairs, once
    assert_teacher_forcing(module, x, y)


@pytest.mark.parametrize(
    ("dataset", "size", "question"), [("addition", "digits: 1", 3), ("reverse", "length: 2", 2)]
)
def test_more_samples_than_distinct_examples_is_refused(
    dataset: str, size: str, question: int
) -> None:
    with pytest.raises(SpecErrors) as caught:
        seq2seq(dataset, 101, size, question, 2)
    (error,) = caught.value.errors
    assert error.path == ("data", "samples")
    assert "only 100 distinct examples" in error.message and "got samples: 101" in error.message


@pytest.mark.parametrize(
    ("samples", "length"), [(2000, 8), (100, 2), (300, 30)], ids=["distinct", "all", "long"]
)
def test_reverse_examples_are_reversed(samples: int, length: int, tmp_path: Path) -> None:
    module = generate(seq2seq("reverse", samples, f"length: {length}", length, length), tmp_path)
    x, y = module.load_examples()
    assert x["question"].shape == y.shape == (samples, length)
    for question, answer in zip(x["question"], y, strict=True):
        text = module.decode(question)
        assert text.isdigit() and module.decode(answer) == text[::-1]
    assert_teacher_forcing(module, x, y)
    assert len(module.load_data().test[1]) == round(0.15 * samples)
    assert len({q.tobytes() for q in x["question"]}) == samples


# --------------------------------------------------------------------------- CSV

CSV_SPEC = """
    specc: 1
    name: {name}
    task: {task}
    data:
      type: csv
      path: {path}
      target: {target}
      {features}
      split: {{validation: 0.2, test: 0.2}}
    model:
      inputs: [{{name: flower, shape: {shape}}}]
      layers: [{{type: dense, units: {units}}}]
"""


def csv_spec(
    task: str,
    target: str = "species",
    features: str = "",
    shape: str = "[4]",
    units: int = 3,
    path: str = "flowers.csv",
    folder: Path = DATA,
    name: str = "flowers",
) -> LoadedSpec:
    return spec_from_text(
        CSV_SPEC.format(
            name=name,
            task=task,
            path=path,
            target=target,
            features=features,
            shape=shape,
            units=units,
        ),
        folder,
    )


def csv_species() -> tuple[list[str], np.ndarray]:
    lines = (DATA / "flowers.csv").read_text().splitlines()[1:]
    species = [line.split(",")[-1] for line in lines]
    features = np.array([[float(v) for v in line.split(",")[:4]] for line in lines])
    return species, features


def test_csv_maps_labels_by_class_names(tmp_path: Path) -> None:
    names = ["virginica", "setosa", "versicolor"]
    module = generate(
        csv_spec(f"{{type: multiclass, classes: 3, class_names: [{', '.join(names)}]}}"),
        tmp_path,
    )
    x, y = module.load_examples()
    species, features = csv_species()
    assert y.dtype == np.int32
    assert y.tolist() == [names.index(s) for s in species]
    np.testing.assert_allclose(x["flower"], features.astype(np.float32))
    dataset = module.load_data()
    assert_class_proportions(dataset, y)
    assert_partition(module, dataset)
    assert_stats_from_train(module, dataset, "standardize")


def test_csv_maps_labels_in_sorted_order(tmp_path: Path) -> None:
    # no class names, and class names the column does not hold: both sort the labels
    without = generate(csv_spec("{type: multiclass, classes: 3}", name="a"), tmp_path)
    other = generate(
        csv_spec("{type: multiclass, classes: 3, class_names: [a, b, c]}", name="b"), tmp_path
    )
    species, _ = csv_species()
    expected = [sorted(set(species)).index(s) for s in species]
    assert without.load_examples()[1].tolist() == expected
    assert other.load_examples()[1].tolist() == expected


def test_csv_numeric_labels_sort_numerically(tmp_path: Path) -> None:
    lines = ["a,b,grade"] + [f"{i},{i % 7},{[10, 2, 9][i % 3]}" for i in range(30)]
    (tmp_path / "grades.csv").write_text("\n".join(lines) + "\n")
    loaded = csv_spec(
        "{type: multiclass, classes: 3}",
        target="grade",
        shape="[2]",
        path="grades.csv",
        folder=tmp_path,
    )
    module = generate(loaded, tmp_path)
    _, y = module.load_examples()
    assert y.tolist() == [[2, 0, 1][i % 3] for i in range(30)]  # 2 < 9 < 10


def test_csv_binary_labels(tmp_path: Path) -> None:
    lines = ["x1,x2,sick"] + [f"{i / 10},{i % 5},{'yes' if i % 3 else 'no'}" for i in range(40)]
    (tmp_path / "patients.csv").write_text("\n".join(lines) + "\n")
    loaded = csv_spec(
        "{type: binary, class_names: ['no', 'yes']}",
        target="sick",
        shape="[2]",
        units=1,
        path="patients.csv",
        folder=tmp_path,
    )
    module = generate(loaded, tmp_path)
    dataset = module.load_data()
    _, y = module.load_examples()
    assert y.dtype == np.float32 and y.shape == (40, 1)
    assert y[:, 0].tolist() == [1.0 if i % 3 else 0.0 for i in range(40)]
    assert_class_proportions(dataset, y)


def test_csv_regression_targets_and_statistics(tmp_path: Path) -> None:
    loaded = csv_spec(
        "{type: regression, outputs: 1}",
        target="petal_width",
        features="features: [sepal_length, sepal_width, petal_length]",
        shape="[3]",
        units=1,
    )
    module = generate(loaded, tmp_path)
    _, features = csv_species()
    x, y = module.load_examples()
    np.testing.assert_allclose(y[:, 0], features[:, 3].astype(np.float32))
    np.testing.assert_allclose(x["flower"], features[:, :3].astype(np.float32))
    dataset = module.load_data()
    y_train = dataset.train[1]
    mean, std = dataset.target_scaling
    assert mean.shape == std.shape == (1,) and mean.dtype == np.float32
    np.testing.assert_allclose(mean, y_train.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(std, y_train.std(axis=0), rtol=1e-5)


def test_csv_non_numeric_feature_is_a_clear_error(tmp_path: Path) -> None:
    # the default features are every column but the target, so `species` becomes a feature
    loaded = csv_spec("{type: regression, outputs: 1}", target="petal_width", units=1)
    module = generate(loaded, tmp_path)
    with pytest.raises(ValueError, match=r"column 'species', data row 1: 'setosa' is not a number"):
        module.load_examples()


def test_csv_spec_problems_found_at_validation() -> None:
    with pytest.raises(SpecErrors, match=r"reads one target column \(the labels\), got 2"):
        csv_spec("{type: multiclass, classes: 3}", target="[species, petal_width]", shape="[3]")
    with pytest.raises(SpecErrors, match="4 feature columns do not fill shape"):
        csv_spec("{type: multiclass, classes: 3}", shape="[5]")


def test_long_data_paths_stay_within_the_line_length(tmp_path: Path) -> None:
    folder = tmp_path / ("long_folder_name_" * 5) / ("another_long_folder_name_" * 4)
    folder.mkdir(parents=True)
    shutil.copy(DATA / "flowers.csv", folder / "flowers.csv")
    module = generate(csv_spec("{type: multiclass, classes: 3}", folder=folder), tmp_path)
    assert Path(module.CSV_PATH) == folder / "flowers.csv"
    assert len(module.load_examples()[1]) == 60


# --------------------------------------------------------------------------- NPZ

NPZ_SPEC = """
    specc: 1
    name: shapes
    seed: 4
    task: {{type: multiclass, classes: 3}}
    data: {{type: npz, path: shapes.npz, target: {target}, preprocessing: minmax}}
    model:
      inputs:
        - {{name: image, shape: [4, 4, 1], source: pixels}}
        - {{name: meta, shape: [{meta}]}}
      layers:
        - {{name: flat, type: flatten, inputs: [image]}}
        - {{type: concatenate, inputs: [flat, meta]}}
        - {{type: dense, units: 3}}
"""


def test_npz_inputs_by_source_and_name(tmp_path: Path) -> None:
    module = generate(spec_from_text(NPZ_SPEC.format(target="label", meta=3)), tmp_path)
    archive = np.load(DATA / "shapes.npz")
    x, y = module.load_examples()
    np.testing.assert_array_equal(x["image"], archive["pixels"].reshape(-1, 4, 4, 1))
    np.testing.assert_array_equal(x["meta"], archive["meta"])
    assert y.dtype == np.int32 and y.tolist() == archive["label"].tolist()
    dataset = module.load_data()
    assert_partition(module, dataset)
    assert_class_proportions(dataset, y)
    assert_stats_from_train(module, dataset, "minmax")
    assert dataset.preprocessing["image"][0].shape == (1,)
    assert dataset.preprocessing["meta"][0].shape == (3,)


def test_npz_missing_arrays_are_found_by_validate() -> None:
    with pytest.raises(SpecErrors) as info:
        spec_from_text(NPZ_SPEC.format(target="y", meta=3))
    (error,) = info.value.errors
    assert error.path == ("data", "target")
    assert "shapes.npz has no array `y`, read for the targets" in error.message
    assert "label [90] int64" in error.hint


def test_npz_array_that_does_not_fit_its_input_is_found_by_validate() -> None:
    with pytest.raises(SpecErrors) as info:
        spec_from_text(NPZ_SPEC.format(target="label", meta=4))
    (error,) = info.value.errors
    assert error.path == ("model", "inputs", 1, "shape")
    assert "array `meta` of shapes.npz has shape [90, 3]" in error.message
    assert error.hint == "set `shape: [3]`"


def test_npz_archive_changed_after_validation_is_a_clear_error(tmp_path: Path) -> None:
    """The generated code checks the arrays again: the archive may change after `validate`."""
    shutil.copy(DATA / "shapes.npz", tmp_path / "shapes.npz")
    module = generate(spec_from_text(NPZ_SPEC.format(target="label", meta=3), tmp_path), tmp_path)
    archive = dict(np.load(tmp_path / "shapes.npz"))
    np.savez(tmp_path / "shapes.npz", **{**archive, "meta": archive["meta"][:, :2]})
    with pytest.raises(ValueError, match=r"array 'meta' of shape \(90, 2\) does not fit"):
        module.load_examples()
    del archive["label"]
    np.savez(tmp_path / "shapes.npz", **archive)
    with pytest.raises(ValueError, match=r"no array label; it holds pixels, meta"):
        module.load_examples()


def test_npz_variable_length_axis(tmp_path: Path) -> None:
    tokens = np.arange(40 * 6).reshape(40, 6) % 13
    # a single input reads array `x` by default, whatever its name
    np.savez(tmp_path / "tokens.npz", x=tokens, y=(np.arange(40) % 2).astype(np.float32))
    loaded = spec_from_text(
        """
        specc: 1
        name: tokens
        task: {type: binary}
        data: {type: npz, path: tokens.npz}
        model:
          inputs: [{name: tokens, shape: [null], dtype: int32}]
          layers:
            - {type: embedding, input_dim: 13, output_dim: 4}
            - {type: global_pool}
            - {type: dense, units: 1}
        """,
        tmp_path,
    )
    module = generate(loaded, tmp_path)
    x, y = module.load_examples()
    assert x["tokens"].shape == (40, 6) and x["tokens"].dtype == np.int32
    assert y.shape == (40, 1) and y.dtype == np.float32
    dataset = module.load_data()
    assert dataset.preprocessing == {}  # token ids are never scaled
    assert_class_proportions(dataset, y)


def test_every_template_ships_in_the_wheel() -> None:
    """pyproject's package data lists every template, and the loader finds each of them."""
    import tomllib

    from specc.codegen.env import templates_root

    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = pyproject["tool"]["setuptools"]["package-data"]["specc.templates"]
    folder = ROOT / "templates"
    names = sorted(p.relative_to(folder).as_posix() for p in folder.glob("**/*.j2"))
    assert "data/csv.py.j2" in names
    for name in names:
        assert any(
            fnmatch.fnmatch(name, pattern) and name.count("/") == pattern.count("/")
            for pattern in patterns
        ), name
        assert templates_root().joinpath(*name.split("/")).is_file(), name
