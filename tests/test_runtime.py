"""The deployment runtime: `specc.runtime.load`, `Predictor`, `Prediction`, `specc predict` and
`specc bench`, on small trained builds (tests/runtime_fixtures.py) with real onnxruntime."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from runtime_fixtures import DIGIT_NAMES, invoke

from specc.runtime import (
    ModelNotFoundError,
    Prediction,
    PredictorInputError,
    load,
)


def ort_run(model_path: Path, feed: dict) -> list[np.ndarray]:
    import onnxruntime as ort

    sess = ort.InferenceSession(str(model_path), providers=["CPUExecutionProvider"])
    return sess.run(None, feed)


def _data(build: Path) -> dict[str, np.ndarray]:
    with np.load(build / "test_data.npz") as d:
        return {k: d[k] for k in d.files}


# --------------------------------------------------------------------------- loading


def test_load_build_folder_or_file(cnn_build):
    a = load(cnn_build, device="cpu")
    b = load(cnn_build / "model.onnx", device="cpu")
    assert a.path == b.path == cnn_build / "model.onnx"
    assert a.provider == "CPUExecutionProvider" and a.device == "cpu"
    assert a.task == "multiclass" and a.class_names == tuple(DIGIT_NAMES)
    (inp,) = a.inputs
    assert (inp.name, inp.shape, inp.dtype) == ("pixels", (None, 8, 8, 1), np.dtype("float32"))
    assert inp.shape_str() == "(batch, 8, 8, 1)"
    (out,) = a.outputs
    assert (out.name, out.shape) == ("digit", (None, 10))
    assert "pixels: (batch, 8, 8, 1) float32" in a.describe()


def test_auto_device_says_what_ran(cnn_build):
    m = load(cnn_build, device="auto")
    assert m.provider in ("CPUExecutionProvider", "CUDAExecutionProvider")
    if m.device == "cpu":
        assert m.info.note and "CPU" in m.info.note


def test_missing_model_is_a_clear_error(tmp_path):
    with pytest.raises(ModelNotFoundError, match="no model.onnx"):
        load(tmp_path)
    with pytest.raises(ModelNotFoundError, match="model not found"):
        load(tmp_path / "nope.onnx")


def test_unknown_device(cnn_build):
    with pytest.raises(ValueError, match="unknown device"):
        load(cnn_build, device="tpu")


# --------------------------------------------------------------------------- predicting


def test_predict_matches_bare_onnxruntime(cnn_build):
    data = _data(cnn_build)
    m = load(cnn_build, device="cpu")
    (expected,) = ort_run(cnn_build / "model.onnx", {"pixels": data["pixels"]})
    p = m.predict(data["pixels"])
    assert isinstance(p, Prediction) and len(p) == len(expected)
    np.testing.assert_allclose(p.outputs["digit"], expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(p.probabilities, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(p.label_indices, expected.argmax(1))
    assert list(p.labels) == [DIGIT_NAMES[i] for i in expected.argmax(1)]
    assert p.class_names == tuple(DIGIT_NAMES)
    assert (p.label_indices == data["y"]).mean() > 0.8
    np.testing.assert_allclose(m.run(data["pixels"])["digit"], expected, rtol=1e-5, atol=1e-6)
    rec = p.to_records()[0]
    assert list(rec) == ["label"] + [f"prob_{n}" for n in DIGIT_NAMES]
    assert rec["label"] == DIGIT_NAMES[int(expected[0].argmax())]


def test_large_inputs_run_in_batches(mlp_build):
    x = _data(mlp_build)["features"]
    whole = load(mlp_build, "cpu").run(x)["diagnosis"]
    chunked = load(mlp_build, "cpu", batch_size=7).run(x)["diagnosis"]
    assert chunked.shape == whole.shape == (len(x), 1)
    np.testing.assert_allclose(chunked, whole, rtol=1e-5, atol=1e-6)


def test_safe_casts_are_silent(cnn_build):
    m = load(cnn_build, "cpu")
    x = _data(cnn_build)["pixels"][:20]
    ref = m.run(x)["digit"]
    np.testing.assert_allclose(m.run(x.astype(np.float64))["digit"], ref, rtol=1e-6)
    np.testing.assert_allclose(m.run(x.astype(np.int64))["digit"], ref, rtol=1e-6)
    np.testing.assert_allclose(m.run(x.tolist())["digit"], ref, rtol=1e-6)


def test_unsafe_casts_are_errors(cnn_build):
    m = load(cnn_build, "cpu")
    x = _data(cnn_build)["pixels"][:2]
    with pytest.raises(PredictorInputError, match="not exact in float32"):
        m.run(x.astype(np.int64) + 2**40)
    with pytest.raises(PredictorInputError, match="not numeric"):
        m.run(x.astype(str))
    with pytest.raises(PredictorInputError, match="not numeric"):
        m.run(x.astype(np.complex64))


def test_wrong_shape_says_what_is_expected(cnn_build):
    m = load(cnn_build, "cpu")
    x = _data(cnn_build)["pixels"][:3]
    with pytest.raises(PredictorInputError) as err:
        m.predict(x.reshape(3, 64).astype(np.float64))
    msg = str(err.value)
    assert "input `pixels` expects shape (batch, 8, 8, 1) float32" in msg
    assert "got (3, 64) float64" in msg and "reshape to (3, 8, 8, 1)" in msg
    with pytest.raises(PredictorInputError, match=r"without the batch axis.*np.newaxis"):
        m.predict(x[0])
    with pytest.raises(PredictorInputError, match="empty batch"):
        m.predict(x[:0])
    with pytest.raises(PredictorInputError, match="scalar"):
        m.predict(np.float32(1.0))


def test_wrong_feature_count_lists_features(mlp_build):
    m = load(mlp_build, "cpu")
    x = _data(mlp_build)["features"]
    with pytest.raises(PredictorInputError) as err:
        m.predict(x[:, :29])
    msg = str(err.value)
    assert "expected 30 features per row, got 29" in msg and "mean radius" in msg


def test_multi_input_dict(reg_build):
    data = _data(reg_build)
    m = load(reg_build, "cpu")
    assert m.input_names == ("clinical", "serum")
    feed = {"clinical": data["clinical"], "serum": data["serum"]}
    (expected,) = ort_run(reg_build / "model.onnx", feed)
    p = m.predict(feed)
    np.testing.assert_allclose(p.values, expected, rtol=1e-5, atol=1e-6)
    assert p.task == "regression" and p.labels is None and p.probabilities is None
    assert p.to_records()[0] == pytest.approx({"progression": float(expected[0, 0])})
    with pytest.raises(PredictorInputError, match="has 2 inputs; pass a dict"):
        m.predict(data["clinical"])
    with pytest.raises(PredictorInputError, match="missing `serum`"):
        m.predict({"clinical": data["clinical"]})
    with pytest.raises(PredictorInputError, match="unknown `extra`"):
        m.predict({**feed, "extra": data["serum"]})
    with pytest.raises(PredictorInputError, match="disagree on the batch size"):
        m.predict({"clinical": data["clinical"], "serum": data["serum"][:3]})


def test_binary_labels_and_probabilities(mlp_build):
    data = _data(mlp_build)
    m = load(mlp_build, "cpu")
    p = m.predict(data["features"])
    p1 = p.outputs["diagnosis"][:, 0]
    assert p.probabilities.shape == (len(p1), 2)
    np.testing.assert_allclose(p.probabilities[:, 1], p1)
    np.testing.assert_allclose(p.probabilities.sum(1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(p.label_indices, (p1 > 0.5).astype(int))
    assert set(p.labels) <= {"malignant", "benign"}
    assert (p.label_indices == data["y"]).mean() > 0.85
    assert list(p.to_records()[0]) == ["label", "prob_malignant", "prob_benign"]


def test_model_without_metadata(tmp_path, cnn_build):
    import onnx

    model = onnx.load(str(cnn_build / "model.onnx"))
    del model.metadata_props[:]
    onnx.save(model, str(tmp_path / "plain.onnx"))
    m = load(tmp_path / "plain.onnx", "cpu")
    p = m.predict(_data(cnn_build)["pixels"][:2])
    assert m.task is None and p.labels is None
    assert list(p.to_records()[0]) == [f"digit_{j}" for j in range(10)]


# --------------------------------------------------------------------------- specc predict


def _csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def _write_features_csv(path: Path, x: np.ndarray, names: list[str], extra: bool = True) -> None:
    """Columns in reverse order plus an unrelated column, as a user's export might be."""
    order = list(reversed(range(len(names))))
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow((["patient_id"] if extra else []) + [names[i] for i in order])
        for r, row in enumerate(x):
            w.writerow(([f"p{r}"] if extra else []) + [repr(float(row[i])) for i in order])


def test_predict_csv_to_csv_and_json(cli, mlp_build, tmp_path):
    import onnx

    data = _data(mlp_build)
    x = data["features"]
    props = {p.key: p.value for p in onnx.load(str(mlp_build / "model.onnx")).metadata_props}
    names = json.loads(props["specc.feature_names"])
    src = tmp_path / "patients.csv"
    _write_features_csv(src, x, names)
    (expected,) = ort_run(mlp_build / "model.onnx", {"features": x})

    r = invoke(cli, ["predict", mlp_build, src, "-o", tmp_path / "out.csv", "--device", "cpu"])
    assert r.exit_code == 0, r.output
    rows = _csv(tmp_path / "out.csv")
    assert len(rows) == len(x)
    got = np.array([float(row["prob_benign"]) for row in rows])
    np.testing.assert_allclose(got, expected[:, 0], rtol=1e-5, atol=1e-6)
    labels = ["benign" if p > 0.5 else "malignant" for p in expected[:, 0]]
    assert [row["label"] for row in rows] == labels

    r = invoke(cli, ["predict", mlp_build, src, "-o", tmp_path / "out.json"])
    assert r.exit_code == 0, r.output
    doc = json.loads((tmp_path / "out.json").read_text())
    assert doc["task"] == "binary" and doc["count"] == len(x)
    assert doc["class_names"] == ["malignant", "benign"]
    np.testing.assert_allclose(
        [rec["prob_benign"] for rec in doc["predictions"]], expected[:, 0], rtol=1e-5, atol=1e-6
    )


def test_predict_to_stdout_from_npz_and_npy(cli, cnn_build, tmp_path):
    data = _data(cnn_build)
    (expected,) = ort_run(cnn_build / "model.onnx", {"pixels": data["pixels"]})
    r = CliRunner().invoke(cli, ["predict", str(cnn_build), str(cnn_build / "test_data.npz")])
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert [row["label"] for row in rows] == [DIGIT_NAMES[i] for i in expected.argmax(1)]
    np.save(tmp_path / "x.npy", data["pixels"][:5])
    r = CliRunner().invoke(cli, ["predict", str(cnn_build / "model.onnx"), str(tmp_path / "x.npy")])
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert len(rows) == 5
    np.testing.assert_allclose(float(rows[0]["prob_zero"]), expected[0, 0], rtol=1e-5, atol=1e-7)


def test_predict_multi_input_npz(cli, reg_build, tmp_path):
    r = invoke(cli, ["predict", reg_build, reg_build / "test_data.npz", "-o", tmp_path / "o.json"])
    assert r.exit_code == 0, r.output
    doc = json.loads((tmp_path / "o.json").read_text())
    data = _data(reg_build)
    (expected,) = ort_run(
        reg_build / "model.onnx", {"clinical": data["clinical"], "serum": data["serum"]}
    )
    np.testing.assert_allclose(
        [rec["progression"] for rec in doc["predictions"]], expected[:, 0], rtol=1e-5, atol=1e-6
    )


def _assert_clean_error(r, *needles: str) -> None:
    assert r.exit_code == 2, r.output
    assert r.stderr.startswith("error: "), r.stderr
    assert "Traceback" not in r.output
    for needle in needles:
        assert needle in r.stderr, r.stderr


def test_predict_bad_inputs(cli, mlp_build, cnn_build, tmp_path):
    import onnx

    props = {p.key: p.value for p in onnx.load(str(mlp_build / "model.onnx")).metadata_props}
    names = json.loads(props["specc.feature_names"])
    x = _data(mlp_build)["features"][:4]

    missing = tmp_path / "missing_col.csv"
    _write_features_csv(missing, x[:, 1:], names[1:])
    _assert_clean_error(invoke(cli, ["predict", mlp_build, missing]), "missing column", names[0])

    bad = tmp_path / "non_numeric.csv"
    _write_features_csv(bad, x, names, extra=False)
    text = bad.read_text().splitlines()
    cells = text[2].split(",")
    cells[3] = "abc"
    text[2] = ",".join(cells)
    bad.write_text("\n".join(text) + "\n")
    _assert_clean_error(invoke(cli, ["predict", mlp_build, bad]), "line 3", "'abc' is not a number")

    np.savez(tmp_path / "wrong_key.npz", images=_data(cnn_build)["pixels"][:3])
    _assert_clean_error(
        invoke(cli, ["predict", cnn_build, tmp_path / "wrong_key.npz"]), "`pixels`", "`images`"
    )
    np.save(tmp_path / "flat.npy", _data(cnn_build)["pixels"][:3].reshape(3, 64))
    _assert_clean_error(
        invoke(cli, ["predict", cnn_build, tmp_path / "flat.npy"]), "reshape to (3, 8, 8, 1)"
    )
    _assert_clean_error(invoke(cli, ["predict", cnn_build, tmp_path / "none.npz"]), "not found")
    _assert_clean_error(invoke(cli, ["predict", tmp_path / "nothing", missing]), "not found")
    _assert_clean_error(
        invoke(cli, ["predict", mlp_build, missing, "-o", tmp_path / "o.txt"]), ".csv or .json"
    )
    (tmp_path / "x.parquet").write_text("")
    _assert_clean_error(
        invoke(cli, ["predict", mlp_build, tmp_path / "x.parquet"]), "unsupported input"
    )
    assert not (tmp_path / "o.txt").exists()


# --------------------------------------------------------------------------- bench, Keras side


KERAS_WARNINGS = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@KERAS_WARNINGS
def test_keras_side_imports_build_code(cnn_build):
    from specc.runtime.keras_side import keras_callables, load_keras_model

    model = load_keras_model(cnn_build)  # needs the PixelScale layer from code/spec_model.py
    x = _data(cnn_build)["pixels"][:16]
    ref = load(cnn_build, "cpu").run(x)["digit"]
    calls = keras_callables(model, ("pixels",))
    for fn in calls.values():
        np.testing.assert_allclose(fn({"pixels": x}), ref, atol=1e-4)


@KERAS_WARNINGS
def test_bench_json_side_by_side(cli, cnn_build):
    args = ["bench", cnn_build, "--batch", "1,4", "--repeat", "2", "--warmup", "1", "--json"]
    r = invoke(cli, args)
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["keras"] is True and doc["input_source"] == "test_data.npz"
    assert [row["batch"] for row in doc["results"]] == [1, 4]
    for row in doc["results"]:
        for engine in ("onnxruntime", "keras_eager", "keras_function"):
            assert row[engine]["p50_ms"] > 0 and row[engine]["iterations"] == 2
        assert row["keras_eager_over_ort"] > 0 and row["keras_function_over_ort"] > 0


def test_bench_onnx_alone(cli, cnn_build, tmp_path):
    import shutil

    shutil.copy(cnn_build / "model.onnx", tmp_path / "model.onnx")
    r = invoke(cli, ["bench", tmp_path / "model.onnx", "--batch", "2", "--repeat", "2"])
    assert r.exit_code == 0, r.output
    assert "onnxruntime alone" in r.stdout and "keras eager" not in r.stdout
    r = invoke(cli, ["bench", tmp_path / "model.onnx", "--batch", "0"])
    assert r.exit_code == 2


# --------------------------------------------------------------------------- hygiene


def test_importing_runtime_and_commands_stays_light():
    code = (
        "import sys, specc.runtime, specc.commands.runtime, specc.runtime.files\n"
        "heavy = [m for m in ('onnxruntime', 'tensorflow', 'onnx', 'keras') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_thread_defaults():
    from specc.runtime.providers import default_threads, physical_cores

    assert physical_cores() >= 1 and default_threads() >= 1


# --------------------------------------------------------------------------- integer inputs, tasks


def _tiny_model(path: Path, kind: str) -> Path:
    """Hand-built ONNX graphs (no training): `tokens` (int32 ids -> per-step softmax, the
    argmax is the id itself) and `multilabel` (sigmoid of the features)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    if kind == "tokens":
        table = numpy_helper.from_array((10 * np.eye(5)).astype(np.float32), "table")
        nodes = [
            helper.make_node("Gather", ["table", "tokens"], ["logits"]),
            helper.make_node("Softmax", ["logits"], ["next_token"], axis=-1),
        ]
        inputs = [helper.make_tensor_value_info("tokens", TensorProto.INT32, ["n", 4])]
        outputs = [helper.make_tensor_value_info("next_token", TensorProto.FLOAT, ["n", 4, 5])]
        meta = {"specc.task": "seq2seq", "specc.class_names": '[" ", "+", "1", "2", "3"]'}
        inits = [table]
    else:
        nodes = [helper.make_node("Sigmoid", ["x"], ["tags"])]
        inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 3])]
        outputs = [helper.make_tensor_value_info("tags", TensorProto.FLOAT, ["n", 3])]
        meta = {
            "specc.task": "multilabel",
            "specc.class_names": '["a", "b", "c"]',
            "specc.threshold": "0.5",
        }
        inits = []
    graph = helper.make_graph(nodes, kind, inputs, outputs, initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    for key, value in meta.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def test_integer_inputs_and_seq2seq_decoding(tmp_path):
    m = load(_tiny_model(tmp_path / "tokens.onnx", "tokens"), "cpu")
    assert m.inputs[0].dtype == np.dtype("int32")
    ids = np.array([[2, 1, 3, 0], [4, 4, 0, 0]])  # int64: fits int32, cast silently
    p = m.predict(ids)
    np.testing.assert_array_equal(p.label_indices, ids)
    assert p.labels == ["1+2 ", "33  "]
    assert p.to_records()[0] == {"tokens": "2 1 3 0", "text": "1+2 "}
    np.testing.assert_array_equal(m.predict(ids.astype(np.float64)).label_indices, ids)
    with pytest.raises(PredictorInputError, match="do not fit int32"):
        m.predict(ids + 2**40)
    with pytest.raises(PredictorInputError, match=r"non-integer values \(e.g. 2.5\)"):
        m.predict(ids + 0.5)
    with pytest.raises(PredictorInputError, match="onnxruntime rejected the input"):
        m.predict(ids + 7)  # ids beyond the table: onnxruntime's error, wrapped


def test_multilabel_labels(tmp_path):
    m = load(_tiny_model(tmp_path / "tags.onnx", "multilabel"), "cpu")
    p = m.predict(np.array([[1.0, -1.0, 2.0], [-3.0, -2.0, -1.0]], dtype=np.float32))
    assert p.labels == [["a", "c"], []]
    np.testing.assert_array_equal(p.label_indices, [[True, False, True], [False, False, False]])
    rec = p.to_records()[0]
    assert rec["labels"] == "a;c" and rec["prob_a"] == pytest.approx(1 / (1 + np.exp(-1.0)))
