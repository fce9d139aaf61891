"""Hardening of the deployment runtime against careless and hostile inputs: NaN/inf inputs,
empty and corrupt input and model files, CSV header pitfalls, `-o` of `specc predict` and the
terminal noise of `specc bench`. Real builds (tests/runtime_fixtures.py), real onnxruntime."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from runtime_fixtures import invoke

from specc.runtime import (
    InputFileError,
    ModelLoadError,
    NonFiniteInputError,
    PredictorInputError,
    load,
)


def _data(build: Path) -> dict[str, np.ndarray]:
    with np.load(build / "test_data.npz") as d:
        return {k: d[k] for k in d.files}


def _assert_clean_error(r, *needles: str) -> None:
    assert r.exit_code == 2, r.output
    assert r.stderr.startswith("error: "), r.stderr
    assert "Traceback" not in r.output and "Aborted" not in r.output
    for needle in needles:
        assert needle in r.stderr, r.stderr


def _feature_names(build: Path) -> list[str]:
    import onnx

    props = {p.key: p.value for p in onnx.load(str(build / "model.onnx")).metadata_props}
    return json.loads(props["specc.feature_names"])


def _without_feature_names(build: Path, dst: Path) -> Path:
    """A copy of the build's model.onnx whose metadata lists no feature names."""
    import onnx

    model = onnx.load(str(build / "model.onnx"))
    for prop in model.metadata_props:
        if prop.key == "specc.feature_names":
            prop.value = "[]"
    onnx.save(model, str(dst))
    return dst


# --------------------------------------------------------------------------- NaN / inf inputs


@pytest.mark.filterwarnings("ignore:overflow encountered in cast:RuntimeWarning")
def test_nonfinite_inputs_are_refused_by_the_api(cnn_build, reg_build, tmp_path):
    m = load(cnn_build, device="cpu")
    x = _data(cnn_build)["pixels"][:6].copy()
    x[2, 0, 0, 0] = np.nan
    x[4, 1, 1, 0] = np.inf
    x[4, 2, 2, 0] = -np.inf
    with pytest.raises(NonFiniteInputError) as info:  # the fast path (float32, one input)
        m.predict(x)
    text = str(info.value)
    assert "`pixels`" in text and "3 non-finite value(s) (1 NaN, 2 inf)" in text
    assert "2 of 6 row(s) (first: row 2)" in text and "allow_nonfinite=True" in text
    assert isinstance(info.value, PredictorInputError) and isinstance(info.value, ValueError)
    with pytest.raises(NonFiniteInputError, match="1 NaN, 2 inf"):
        m.predict(x.astype(np.float64))  # cast on the fast path, then checked
    with pytest.raises(NonFiniteInputError, match="1 NaN, 2 inf"):
        load(cnn_build, device="cpu", batch_size=4).run(x)  # chunked: the checked path
    np.save(tmp_path / "nan.npy", x[:3])
    with pytest.raises(NonFiniteInputError, match="1 NaN, 0 inf"):
        m.predict_file(tmp_path / "nan.npy")
    with pytest.raises(NonFiniteInputError, match="0 NaN, 1 inf"):
        big = _data(cnn_build)["pixels"][:2].astype(np.float64)
        big[1, 0, 0, 0] = 1e300  # finite in float64, inf once cast to the model's float32
        m.predict(big)

    p = m.predict(x, allow_nonfinite=True)
    assert np.isnan(p.probabilities[2]).all() and np.isfinite(p.probabilities[0]).all()
    assert len(m.run(x, allow_nonfinite=True)["digit"]) == 6

    r = load(reg_build, device="cpu")
    d = _data(reg_build)
    feed = {"clinical": d["clinical"][:3], "serum": d["serum"][:3].copy()}
    feed["serum"][0, 5] = np.nan
    with pytest.raises(NonFiniteInputError, match="input `serum` holds 1 non-finite"):
        r.predict(feed)
    assert np.isnan(r.predict(feed, allow_nonfinite=True).values[0]).all()


def test_nonfinite_inputs_in_the_cli(cli, cnn_build, mlp_build, tmp_path):
    x = _data(cnn_build)["pixels"][:3].copy()
    x[1, 3, 3, 0] = np.nan
    np.save(tmp_path / "nan.npy", x)
    r = invoke(cli, ["predict", cnn_build, tmp_path / "nan.npy"])
    _assert_clean_error(r, "`pixels`", "1 non-finite value(s) (1 NaN, 0 inf)", "--allow-nonfinite")
    r = invoke(cli, ["predict", cnn_build, tmp_path / "nan.npy", "--allow-nonfinite"])
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert len(rows) == 3 and rows[1]["prob_zero"] == "nan" and rows[0]["prob_zero"] != "nan"

    names = _feature_names(mlp_build)
    feats = _data(mlp_build)["features"][:3]
    src = tmp_path / "inf.csv"
    with open(src, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(names)
        for row in feats:
            w.writerow([repr(float(v)) for v in row])
        w.writerow(["inf"] + [repr(float(v)) for v in feats[0, 1:]])
    r = invoke(cli, ["predict", mlp_build, src])
    _assert_clean_error(r, "line 5", f"column `{names[0]}`", "'inf' is infinite")
    r = invoke(cli, ["predict", mlp_build, src, "--allow-nonfinite", "-o", tmp_path / "o.json"])
    assert r.exit_code == 0, r.output
    assert json.loads((tmp_path / "o.json").read_text())["count"] == 4


def test_all_finite_is_exact():
    from specc.runtime.inputs import all_finite

    big = np.full((4, 3), 3e38, np.float32)  # finite, but the float32 sum overflows to inf
    assert all_finite(big) and all_finite(np.zeros((0, 3), np.float32))
    assert all_finite(np.full((2, 2), 60000, np.float16))
    for size in (5, 1 << 15):
        x = np.ones(size, np.float32)
        assert all_finite(x)
        for bad in (np.nan, np.inf, -np.inf):
            y = x.copy()
            y[-1] = bad
            assert not all_finite(y)
    y = np.ones(6)
    y[[1, 4]] = [np.inf, -np.inf]  # inf - inf: NaN in the sum, still non-finite
    assert not all_finite(y)


def test_finite_check_keeps_the_fast_path_fast(cnn_build):
    """The NaN check at batch 1 costs a small fraction of the model run itself."""
    import time

    from specc.runtime.inputs import all_finite

    m = load(cnn_build, device="cpu", intra_op_threads=1)
    x = _data(cnn_build)["pixels"][:1]
    feed = {"pixels": x}
    run = m._run

    def best(fn, n=300):
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            for _ in range(n):
                fn()
            times.append(time.perf_counter() - t0)
        return min(times) / n

    bare = best(lambda: run(["digit"], feed, None))
    check = best(lambda: all_finite(x))
    assert check < 0.25 * bare, (check, bare)
    np.testing.assert_array_equal(m.run(x)["digit"], run(["digit"], feed, None)[0])


# --------------------------------------------------------------------------- empty / corrupt files


def test_empty_and_corrupt_input_files(cli, cnn_build, tmp_path):
    cases = {
        "zero.npy": (b"", "zero.npy: the file is empty (0 bytes)"),
        "zero.npz": (b"", "zero.npz: the file is empty (0 bytes)"),
        "junk.npz": (b"PK\x03\x04garbage", "junk.npz: not a readable .npz file (BadZipFile"),
        "cut.npy": (b"\x93NUMPY\x01\x00", "cut.npy: not a readable .npy file"),
    }
    for name, (content, message) in cases.items():
        (tmp_path / name).write_bytes(content)
        _assert_clean_error(invoke(cli, ["predict", cnn_build, tmp_path / name]), message)
    np.save(tmp_path / "rows0.npy", np.zeros((0, 8, 8, 1), np.float32))
    np.savez(tmp_path / "rows0.npz", pixels=np.zeros((0, 8, 8, 1), np.float32))
    _assert_clean_error(
        invoke(cli, ["predict", cnn_build, tmp_path / "rows0.npy"]),
        "rows0.npy: the array is empty (shape (0, 8, 8, 1))",
    )
    _assert_clean_error(
        invoke(cli, ["predict", cnn_build, tmp_path / "rows0.npz"]),
        "rows0.npz: array `pixels` is empty",
    )
    m = load(cnn_build, device="cpu")
    with pytest.raises(InputFileError, match="the file is empty"):
        m.predict_file(tmp_path / "zero.npy")


def test_corrupt_model_is_a_clean_error(cli, cnn_build, tmp_path):
    folder = tmp_path / "build"
    folder.mkdir()
    (folder / "model.onnx").write_bytes((cnn_build / "model.onnx").read_bytes()[:500])
    np.save(tmp_path / "x.npy", _data(cnn_build)["pixels"][:2])
    with pytest.raises(ModelLoadError, match="cannot load .*model.onnx.*INVALID_PROTOBUF"):
        load(folder, device="cpu")
    for args in (["predict", folder, tmp_path / "x.npy"], ["bench", folder, "--no-keras"]):
        _assert_clean_error(invoke(cli, args), "cannot load", "model.onnx", "corrupt")
    (tmp_path / "text.onnx").write_text("not a model\n")
    _assert_clean_error(invoke(cli, ["predict", tmp_path / "text.onnx", tmp_path / "x.npy"]))


# --------------------------------------------------------------------------- CSV


def test_csv_without_header_keeps_every_row(cli, mlp_build, tmp_path):
    model = _without_feature_names(mlp_build, tmp_path / "plain.onnx")
    x = _data(mlp_build)["features"][:5]
    src = tmp_path / "no_header.csv"
    src.write_text("\n".join(",".join(repr(float(v)) for v in row) for row in x) + "\n")
    expected = load(model, device="cpu").predict(x).probabilities
    r = invoke(cli, ["predict", model, src, "-o", tmp_path / "out.json"])
    assert r.exit_code == 0, r.output
    doc = json.loads((tmp_path / "out.json").read_text())
    assert doc["count"] == 5  # the first row is data, not a header
    got = [rec["prob_benign"] for rec in doc["predictions"]]
    np.testing.assert_allclose(got, expected[:, 1], rtol=1e-6)

    with_header = tmp_path / "header.csv"
    with_header.write_text(
        ",".join(f"f{i}" for i in range(30)) + "\n" + src.read_text(), encoding="utf-8"
    )
    r = invoke(cli, ["predict", model, with_header, "-o", tmp_path / "out2.json"])
    assert r.exit_code == 0, r.output
    assert json.loads((tmp_path / "out2.json").read_text())["count"] == 5

    # a model that picks columns by name needs the header: numbers in line 1 are refused
    r = invoke(cli, ["predict", mlp_build, src])
    _assert_clean_error(r, "line 1 holds numbers, but a header row is expected")


def test_csv_with_bom_and_quoted_header(cli, mlp_build, tmp_path):
    names = _feature_names(mlp_build)
    x = _data(mlp_build)["features"][:4]
    buf = io.StringIO()
    w = csv.writer(buf, quoting=csv.QUOTE_ALL)
    w.writerow(names)
    for row in x:
        w.writerow([repr(float(v)) for v in row])
    src = tmp_path / "excel.csv"
    src.write_bytes(buf.getvalue().encode("utf-8-sig"))  # what spreadsheet tools save
    assert src.read_bytes().startswith(b'\xef\xbb\xbf"')
    r = invoke(cli, ["predict", mlp_build, src, "-o", tmp_path / "out.json"])
    assert r.exit_code == 0, r.output
    doc = json.loads((tmp_path / "out.json").read_text())
    expected = load(mlp_build, device="cpu").predict(x).probabilities[:, 1]
    np.testing.assert_allclose([p["prob_benign"] for p in doc["predictions"]], expected, 1e-6)


# --------------------------------------------------------------------------- predict -o, bench


def test_predict_output_path_errors(cli, cnn_build, tmp_path):
    np.save(tmp_path / "x.npy", _data(cnn_build)["pixels"][:2])
    (tmp_path / "dir.json").mkdir()
    (tmp_path / "file").write_text("")
    _assert_clean_error(
        invoke(cli, ["predict", cnn_build, tmp_path / "x.npy", "-o", tmp_path / "dir.json"]),
        "is a folder",
    )
    _assert_clean_error(
        invoke(cli, ["predict", cnn_build, tmp_path / "x.npy", "-o", tmp_path / "file/o.csv"]),
        "is a file, not a folder",
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir.json", "file", "x.npy"]


@pytest.mark.slow
def test_bench_keeps_tensorflow_logging_off_the_terminal(cnn_build):
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    args = ["bench", str(cnn_build), "--batch", "1", "--repeat", "2", "--warmup", "0"]
    out = subprocess.run(
        [sys.executable, "-m", "specc.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    assert "keras tf.function" in out.stdout
    assert out.stderr == "", out.stderr
