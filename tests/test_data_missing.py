"""`data.missing`: empty, NaN and inf values in CSV and NPZ data are an error naming where they are,
dropped with a printed count, or imputed with the training-split mean; never silent garbage.

Every test writes a real data file, renders the real `data.py` for a spec that reads it (linted
and imported by `test_codegen_data.generate`) and runs it. The slow tests build a model end to end.
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import numpy as np
import pytest
from test_codegen_data import DATA, generate, spec_from_text

from specc.spec import SpecErrors, parse_spec

# --------------------------------------------------------------------------- CSV

CSV_SPEC = """
    specc: 1
    name: {name}
    task: {{type: regression, outputs: 1}}
    data: {{type: csv, path: table.csv, target: y, split: {{validation: 0.2, test: 0.2}}{missing}}}
    model:
      inputs: [{{name: x, shape: [3]}}]
      layers: [{{type: dense, units: 4}}, {{type: dense, units: 1}}]
    training: {{epochs: 3, batch_size: 16}}
"""

ROWS = 60


def write_table(folder: Path, holes: dict[tuple[int, int], str]) -> np.ndarray:
    """A CSV of `ROWS` data rows, columns a, b, c (features) and y (target), with the cells at
    `holes` {(row from 0, column index): text} replaced; returns the clean values (ROWS, 4)."""
    rng = np.random.default_rng(7)
    values = np.round(rng.normal(size=(ROWS, 4)) + [0, 5, -3, 1], 3)
    lines = ["a,b,c,y"]
    for row in range(ROWS):
        cells = [holes.get((row, col), str(values[row, col])) for col in range(4)]
        lines.append(",".join(cells))
    (folder / "table.csv").write_text("\n".join(lines) + "\n")
    return values


def csv_module(folder: Path, missing: str | None, name: str = "table"):
    text = CSV_SPEC.format(name=name, missing=f", missing: {missing}" if missing else "")
    return generate(spec_from_text(text, folder), folder)


# holes in features a (3 of them: empty, nan, inf), b (1: -inf) and c (1: NaN)
FEATURE_HOLES = {(2, 0): "", (7, 0): "nan", (11, 0): "inf", (7, 1): "-inf", (40, 2): "NaN"}


def test_csv_missing_values_are_an_error_by_default(tmp_path: Path) -> None:
    write_table(tmp_path, {**FEATURE_HOLES, (5, 3): ""})
    module = csv_module(tmp_path, None)
    with pytest.raises(ValueError) as error:
        module.load_data()
    message = str(error.value)
    assert message.startswith(f"{tmp_path / 'table.csv'}: empty, nan or inf cells in ")
    assert "column 'a': 3 (data rows 3, 8, 12); column 'b': 1 (data rows 8); " in message
    assert "column 'c': 1 (data rows 41); column 'y': 1 (data rows 6)" in message
    assert "set data.missing to drop" in message and "impute_mean" in message


def test_csv_error_lists_the_first_five_rows(tmp_path: Path) -> None:
    write_table(tmp_path, {(row, 1): "" for row in range(0, 30, 3)})
    with pytest.raises(ValueError, match=r"column 'b': 10 \(data rows 1, 4, 7, 10, 13, \.\.\.\)"):
        csv_module(tmp_path, "error").load_examples()


def test_csv_drop_drops_exactly_those_rows_and_says_so(tmp_path: Path, capsys) -> None:
    clean = write_table(tmp_path, {**FEATURE_HOLES, (5, 3): "inf"})
    module = csv_module(tmp_path, "drop")
    x, y = module.load_examples()
    printed = capsys.readouterr().out
    assert "dropped 5 of 60 rows with empty, nan or inf cells (data.missing: drop)" in printed
    assert "column 'a': 3 (data rows 3, 8, 12)" in printed
    assert "column 'y': 1 (data rows 6)" in printed
    kept = np.setdiff1d(np.arange(ROWS), [2, 5, 7, 11, 40])
    np.testing.assert_allclose(x["x"], clean[kept, :3].astype(np.float32))
    np.testing.assert_allclose(y[:, 0], clean[kept, 3].astype(np.float32))
    dataset = module.load_data()
    assert sum(len(getattr(dataset, s)[1]) for s in ("train", "validation", "test")) == 55


def test_csv_drop_of_a_missing_class_label(tmp_path: Path, capsys) -> None:
    lines = (DATA / "flowers.csv").read_text().splitlines()
    header, rows = lines[0], lines[1:]
    rows[4] = ",".join(rows[4].split(",")[:4] + [""])  # no label
    rows[9] = ",".join(["nan", *rows[9].split(",")[1:]])
    (tmp_path / "flowers.csv").write_text("\n".join([header, *rows]) + "\n")
    loaded = spec_from_text(
        """
        specc: 1
        name: flowers
        task: {type: multiclass, classes: 3}
        data: {type: csv, path: flowers.csv, target: species, missing: drop}
        model:
          inputs: [{name: flower, shape: [4]}]
          layers: [{type: dense, units: 3}]
        """,
        tmp_path,
    )
    x, y = generate(loaded, tmp_path).load_examples()
    assert "column 'sepal_length': 1 (data rows 10); column 'species': 1 (data rows 5)" in (
        capsys.readouterr().out
    )
    assert len(y) == len(rows) - 2 and set(y.tolist()) == {0, 1, 2}
    assert np.isfinite(x["flower"]).all()


def test_csv_drop_with_no_row_left_is_an_error(tmp_path: Path) -> None:
    write_table(tmp_path, {(row, 2): "" for row in range(ROWS)})
    with pytest.raises(ValueError, match=r"every row holds empty, nan or inf cells"):
        csv_module(tmp_path, "drop").load_examples()


def assert_imputed_with_training_means(module, inputs: list[str]) -> None:
    """Every split of `load_data` is the raw split with each non-finite value of `inputs`
    replaced by its feature's mean over the raw training split; no NaN or inf is left."""
    raw = module.split_examples(*module.load_examples())
    dataset = module.load_data()
    for name in inputs:
        train = raw["train"][0][name].astype(np.float64)
        means = np.nanmean(np.where(np.isfinite(train), train, np.nan), axis=0)
        assert np.isfinite(means).all()
        for split in ("train", "validation", "test"):
            before, after = raw[split][0][name], getattr(dataset, split)[0][name]
            assert np.isfinite(after).all() and after.dtype == before.dtype
            holes = ~np.isfinite(before)
            np.testing.assert_array_equal(after[~holes], before[~holes])
            expected = np.broadcast_to(means, before.shape)[holes]
            np.testing.assert_allclose(after[holes], expected, rtol=1e-6)
        for split in ("train", "validation", "test"):
            np.testing.assert_array_equal(getattr(dataset, split)[1], raw[split][1])


def test_csv_impute_mean_uses_the_training_split_only(tmp_path: Path) -> None:
    write_table(tmp_path, FEATURE_HOLES)
    module = csv_module(tmp_path, "impute_mean")
    assert_imputed_with_training_means(module, ["x"])
    raw = module.split_examples(*module.load_examples())
    holes = {split: int((~np.isfinite(raw[split][0]["x"])).sum()) for split in raw}
    assert sum(holes.values()) == 5 and holes["train"] < 5  # some holes outside train too
    # the scaling statistics are fitted on the imputed training split
    mean, variance = module.load_data().preprocessing["x"]
    assert np.isfinite(mean).all() and np.isfinite(variance).all()


def test_csv_missing_target_is_an_error_under_impute_mean(tmp_path: Path) -> None:
    write_table(tmp_path, {**FEATURE_HOLES, (5, 3): "nan", (9, 3): ""})
    module = csv_module(tmp_path, "impute_mean")
    with pytest.raises(ValueError) as error:
        module.load_data()
    message = str(error.value)
    assert "column 'y': 2 (data rows 6, 10): only float features are imputed" in message
    assert "column 'a'" not in message  # features are fine: they are imputed
    assert "data.missing: drop drops those rows" in message


# --------------------------------------------------------------------------- NPZ

NPZ_SPEC = """
    specc: 1
    name: arrays
    task: {{type: binary}}
    data: {{type: npz, path: arrays.npz, missing: {missing}}}
    model:
      inputs:
        - {{name: image, shape: [2, 3], source: pixels}}
        - {{name: tokens, shape: [4], dtype: int32}}
      layers:
        - {{name: flat, type: flatten, inputs: [image]}}
        - {{name: embedded, type: embedding, input_dim: 9, output_dim: 2, inputs: [tokens]}}
        - {{name: pooled, type: global_pool, inputs: [embedded]}}
        - {{type: concatenate, inputs: [flat, pooled]}}
        - {{type: dense, units: 1}}
"""


def write_arrays(folder: Path, target_hole: bool = False) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(3)
    arrays = {
        "pixels": rng.normal(size=(50, 2, 3)).astype(np.float32),
        "tokens": rng.integers(0, 9, size=(50, 4)),
        "y": (np.arange(50) % 2).astype(np.float64),
    }
    arrays["pixels"][4, 1, 2] = np.nan
    arrays["pixels"][9, 0, 0] = np.inf
    arrays["pixels"][9, 1, 1] = np.nan
    arrays["pixels"][33, 0, 1] = -np.inf
    if target_hole:
        arrays["y"][30] = np.nan
    np.savez(folder / "arrays.npz", **arrays)
    return arrays


def npz_module(folder: Path, missing: str):
    return generate(spec_from_text(NPZ_SPEC.format(missing=missing), folder), folder)


def test_npz_missing_values_are_an_error_naming_the_arrays(tmp_path: Path) -> None:
    write_arrays(tmp_path, target_hole=True)
    with pytest.raises(ValueError) as error:
        npz_module(tmp_path, "error").load_examples()
    message = str(error.value)
    assert "NaN or inf values in array 'pixels': 3 (indices 4, 9, 33); " in message
    assert "; array 'y': 1 (indices 30); set data.missing to drop" in message
    assert "tokens" not in message


def test_npz_drop(tmp_path: Path, capsys) -> None:
    arrays = write_arrays(tmp_path, target_hole=True)
    x, y = npz_module(tmp_path, "drop").load_examples()
    assert "dropped 4 of 50 rows with NaN or inf values (data.missing: drop)" in (
        capsys.readouterr().out
    )
    kept = np.setdiff1d(np.arange(50), [4, 9, 30, 33])
    np.testing.assert_array_equal(x["image"], arrays["pixels"][kept])
    np.testing.assert_array_equal(x["tokens"], arrays["tokens"][kept])
    np.testing.assert_array_equal(y[:, 0], arrays["y"][kept])


def test_npz_impute_mean(tmp_path: Path) -> None:
    arrays = write_arrays(tmp_path)
    module = npz_module(tmp_path, "impute_mean")
    assert module.IMPUTED_INPUTS == ["image"]  # token ids are never imputed
    assert_imputed_with_training_means(module, ["image"])
    dataset = module.load_data()
    tokens = np.concatenate([getattr(dataset, s)[0]["tokens"] for s in ("train", "test")])
    assert set(tokens.ravel()) <= set(arrays["tokens"].ravel())


def test_npz_missing_target_is_an_error_under_impute_mean(tmp_path: Path) -> None:
    write_arrays(tmp_path, target_hole=True)
    with pytest.raises(ValueError, match=r"in array 'y': 1 \(indices 30\): only float features"):
        npz_module(tmp_path, "impute_mean").load_examples()


# --------------------------------------------------------------------------- the spec


def test_missing_on_a_builtin_dataset_is_refused_with_its_location() -> None:
    text = textwrap.dedent(
        """\
        specc: 1
        name: iris
        task: {type: multiclass, classes: 3}
        data:
          type: builtin
          dataset: sklearn:iris
          missing: drop
        model:
          inputs: [{name: x, shape: [4]}]
          layers: [{type: dense, units: 3}]
        """
    )
    with pytest.raises(SpecErrors) as errors:
        parse_spec(text, Path("iris.yaml"))
    message = str(errors.value)
    assert "iris.yaml:7:3: data.missing: unknown field `missing`" in message


def test_an_unknown_policy_is_refused() -> None:
    text = CSV_SPEC.format(name="table", missing=", missing: zero")
    with pytest.raises(
        SpecErrors, match=r"data.missing: expected one of `error`, `drop`, `impute_mean`"
    ):
        spec_from_text(text, DATA)


# --------------------------------------------------------------------------- end to end


@pytest.mark.slow
def test_build_imputes_missing_csv_values_and_passes_parity(tmp_path: Path) -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from specc.builder import build

    write_table(tmp_path, FEATURE_HOLES)
    text = CSV_SPEC.format(name="table", missing=", missing: impute_mean")
    (tmp_path / "table.yaml").write_text(textwrap.dedent(text))
    result = build(tmp_path / "table.yaml", tmp_path / "build")
    assert result.metrics["parity"]["passed"]
    assert all(np.isfinite(v) for v in result.metrics["metrics"]["test"].values())


@pytest.mark.slow
def test_build_with_missing_csv_values_fails_with_the_columns_named(tmp_path: Path) -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from specc.builder import BuildError, build

    write_table(tmp_path, FEATURE_HOLES)
    (tmp_path / "table.yaml").write_text(textwrap.dedent(CSV_SPEC.format(name="t", missing="")))
    with pytest.raises(BuildError) as error:
        build(tmp_path / "table.yaml", tmp_path / "build")
    assert "empty, nan or inf cells in column 'a': 3 (data rows 3, 8, 12)" in error.value.message
    assert "set data.missing to drop" in error.value.message
