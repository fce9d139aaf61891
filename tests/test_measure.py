"""The side-by-side measurement of ONNX models (`specc.passes.measure`) and the build's closing
comparison table: weights counted in the initializers, gzip sizes, and a real build's rows."""

from __future__ import annotations

import json

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from specc.builder import build
from specc.passes.measure import StageFigures, gzip_size, stages_markdown, weight_counts


def _matmul_model(path, weights: np.ndarray) -> None:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, weights.shape[0]])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 2])
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["x", "w"], ["h"]),
            helper.make_node("Reshape", ["h", "shape"], ["y"]),
        ],
        "g",
        [x],
        [y],
        initializer=[
            numpy_helper.from_array(weights.astype(np.float32), "w"),
            numpy_helper.from_array(np.array([-1, 2], dtype=np.int64), "shape"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, str(path))


def test_weight_counts_count_float_initializers_and_their_zeros(tmp_path):
    rng = np.random.default_rng(0)
    dense = rng.normal(size=(64, 2))
    sparse = dense * (rng.random(dense.shape) < 0.2)  # about 80% zeros
    _matmul_model(tmp_path / "dense.onnx", dense)
    _matmul_model(tmp_path / "sparse.onnx", sparse)
    assert weight_counts(tmp_path / "dense.onnx") == (128, 128)  # the int64 shape is not a weight
    assert weight_counts(tmp_path / "sparse.onnx") == (128, int(np.count_nonzero(sparse)))
    assert gzip_size(tmp_path / "sparse.onnx") < gzip_size(tmp_path / "dense.onnx")


def test_stages_markdown_lists_every_row_and_batch():
    rows = [
        StageFigures("float model", "model.onnx", 100, 100, 4096, 2048, {"batch_1": 0.25}, {}),
        StageFigures(
            "int8", "model.int8.onnx", 100, 90, 1024, 900, {"batch_1": 0.125}, {"accuracy": 0.5}
        ),
    ]
    text = stages_markdown(rows, "accuracy")
    assert "| float model | `model.onnx` | 100 | 100 | 4.0 | 2.0 | 0.250 | - |" in text
    assert "| int8 | `model.int8.onnx` | 100 | 90 | 1.0 | 0.9 | 0.125 | 0.5000 |" in text
    assert rows[1].to_dict()["sparsity"] == pytest.approx(0.1)


SPEC = """\
specc: 1
name: iris_stages
seed: 3
task: {type: multiclass, classes: 3}
data: {type: builtin, dataset: "sklearn:iris", split: {validation: 0.2, test: 0.2}}
model:
  inputs:
    - {name: features, shape: [4]}
  layers:
    - {type: dense, units: 16}
    - {type: dense, units: 3}
training: {epochs: 3, batch_size: 16}
passes:
  - quantize: {mode: dynamic, max_accuracy_drop: 1.0}
"""


def test_a_build_with_passes_ends_with_the_stages_table(tmp_path):
    spec = tmp_path / "iris.yaml"
    spec.write_text(SPEC)
    out = tmp_path / "out"
    result = build(spec, out)
    rows = result.metrics["stages"]
    assert [r["name"] for r in rows] == ["float model", "int8 (dynamic)"]
    assert [r["file"] for r in rows] == ["model.onnx", "model.int8.onnx"]
    assert (rows[0]["weights"], rows[0]["nonzero"]) == weight_counts(out / "model.onnx")
    # the dense kernels and biases, and the mean and variance of the built-in standardisation
    assert rows[0]["weights"] == (4 * 16 + 16 + 16 * 3 + 3) + 2 * 4
    for row in rows:
        assert set(row["latency_ms"]) == {"batch_1", "batch_1024"}
        assert row["gzip_bytes"] == gzip_size(out / row["file"])
    # the test metrics are those of each model's outputs on the saved test split, one by one
    data = np.load(out / "test_data.npz")
    for row in rows:
        session = ort.InferenceSession(str(out / row["file"]), providers=["CPUExecutionProvider"])
        features = data["features"]  # one example per call, as the table measures
        predicted = [
            session.run(None, {"features": features[i : i + 1]})[0].argmax()
            for i in range(len(features))
        ]
        accuracy = float(np.mean(np.asarray(predicted) == data["y"]))
        assert row["test"]["accuracy"] == pytest.approx(accuracy)
    report = (out / "report.md").read_text()
    assert "## Stages" in report and "| int8 (dynamic) | `model.int8.onnx` |" in report
    assert json.loads((out / "metrics.json").read_text())["stages"] == rows
