"""int8 quantization of builds: `quantize_build` and `specc quantize`, on a small MLP and CNN."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest
from click.testing import CliRunner
from runtime_fixtures import copy_build, rig_perfect_targets

from specc.passes.quantize import quantize_build
from specc.passes.quantize_report import END, START
from specc.runtime import QuantizationError, load

FAST = {"latency_repeat": 10}


def _ops(path) -> set[str]:
    return {n.op_type for n in onnx.load(str(path)).graph.node}


def _check_int8_build(build, report, mode):
    int8 = build / "model.int8.onnx"
    assert int8.is_file() and report["file"] == "model.int8.onnx"
    assert report["mode"] == mode and report["passed"] is True
    assert report["size_bytes"]["int8"] == int8.stat().st_size
    # the int8 model runs and keeps the metadata, so it predicts with class names
    m = load(int8, "cpu")
    with np.load(build / "test_data.npz") as d:
        x = {n: d[n] for n in m.input_names}
        y = d["y"]
    p = m.predict(x)
    assert m.metadata.task == load(build, "cpu").metadata.task
    assert json.loads(m.metadata.raw["specc.quantization"])["mode"] == mode
    assert [s.name for s in m.outputs] == list(load(build, "cpu").output_names)
    if p.task != "regression":
        assert (np.asarray(p.label_indices) == y).mean() == pytest.approx(
            report["test"]["int8"]["accuracy"]
        )
    # recorded in metrics.json (other keys kept) and in one report.md section
    metrics = json.loads((build / "metrics.json").read_text())
    assert metrics["passes"]["quantize"]["size_ratio"] == pytest.approx(report["size_ratio"])
    assert {"spec_name", "task", "metrics", "artifacts", "built_at"} <= set(metrics)
    text = (build / "report.md").read_text()
    assert text.startswith("# ") and text.count(START) == 1 and text.count(END) == 1
    assert f"int8 quantization ({mode})" in text
    for batch in ("batch_1", "batch_1024"):
        lat = report["latency_ms"][batch]
        assert lat["float"]["p50_ms"] > 0 and lat["int8"]["p50_ms"] > 0
    return m


def test_dynamic_mlp(mlp_build, tmp_path):
    build = copy_build(mlp_build, tmp_path / "b")
    report = quantize_build(build, "dynamic", max_drop=0.01, **FAST)
    _check_int8_build(build, report, "dynamic")
    assert report["size_ratio"] >= 3.0, report["size_bytes"]
    assert report["weight_ratio"] >= 3.5
    assert report["drop"] <= 0.01 and report["metric"] == "accuracy"
    assert "MatMulInteger" in _ops(build / "model.int8.onnx")
    # a second run replaces the report section instead of adding one
    report = quantize_build(build, "dynamic", max_drop=0.01, **FAST)
    assert (build / "report.md").read_text().count(START) == 1


def test_dynamic_cnn(cnn_build, tmp_path):
    build = copy_build(cnn_build, tmp_path / "b")
    report = quantize_build(build, "dynamic", max_drop=0.01, **FAST)
    _check_int8_build(build, report, "dynamic")
    assert report["size_ratio"] >= 3.0, report["size_bytes"]
    assert report["test"]["float"]["accuracy"] - report["test"]["int8"]["accuracy"] <= 0.01
    assert "ConvInteger" in _ops(build / "model.int8.onnx")


def test_static_cnn(cnn_build, tmp_path):
    build = copy_build(cnn_build, tmp_path / "b")
    report = quantize_build(build, "static", max_drop=0.01, calibration_samples=128, **FAST)
    _check_int8_build(build, report, "static")
    assert report["calibration_samples"] == 128
    assert report["weight_ratio"] >= 3.0 and report["size_ratio"] >= 3.0, report["size_bytes"]
    assert report["drop"] <= 0.01
    assert {"QuantizeLinear", "DequantizeLinear"} <= _ops(build / "model.int8.onnx")


def _rig_for_failure(reg_build, tmp_path):
    return rig_perfect_targets(reg_build, tmp_path / "b")


def test_failure_leaves_no_int8_model(reg_build, tmp_path):
    build = _rig_for_failure(reg_build, tmp_path)
    with pytest.raises(QuantizationError, match=r"r2 .* below float 1\.0000.*not written") as err:
        quantize_build(build, "dynamic", max_drop=0.0, **FAST)
    assert err.value.report is not None and err.value.report["passed"] is False
    assert not (build / "model.int8.onnx").exists()
    assert not [p for p in build.iterdir() if ".partial" in p.name]
    metrics = json.loads((build / "metrics.json").read_text())
    assert metrics["passes"]["quantize"]["passed"] is False and "metrics" in metrics
    assert "FAILED" in (build / "report.md").read_text()


def test_cli_quantize_and_failure_exit_code(cli, reg_build, mlp_build, tmp_path):
    build = copy_build(mlp_build, tmp_path / "ok")
    r = CliRunner().invoke(cli, ["quantize", str(build), "--latency-repeat", "10"])
    assert r.exit_code == 0, r.output
    assert "file size" in r.stdout and "model.int8.onnx" in r.stdout

    bad = _rig_for_failure(reg_build, tmp_path)
    r = CliRunner().invoke(cli, ["quantize", str(bad), "--max-drop", "0", "--latency-repeat", "10"])
    assert r.exit_code == 1, r.output
    assert r.stderr.startswith("error: int8 test r2") and "Traceback" not in r.output
    assert not (bad / "model.int8.onnx").exists()


def test_bad_build_folders(cli, mlp_build, tmp_path):
    r = CliRunner().invoke(cli, ["quantize", str(tmp_path / "nope")])
    assert r.exit_code == 2 and r.stderr.startswith("error: not a build folder")
    build = copy_build(mlp_build, tmp_path / "b")
    (build / "calib_data.npz").unlink()
    r = CliRunner().invoke(cli, ["quantize", str(build), "--mode", "static"])
    assert r.exit_code == 2 and "calib_data.npz" in r.stderr and "Traceback" not in r.output
    # it says how to get the calibration inputs
    assert "quantize: {mode: static}" in r.stderr and "--mode dynamic" in r.stderr
    (build / "test_data.npz").unlink()
    with pytest.raises(QuantizationError, match="test_data.npz"):
        quantize_build(build)
    with pytest.raises(QuantizationError, match="unknown quantization mode"):
        quantize_build(build, mode="int4")


@pytest.mark.parametrize(
    ("passes", "expected"),
    [
        ("[]", False),
        ("[{quantize: {mode: dynamic}}]", False),
        ("[{quantize: {}}]", False),
        ("[{quantize: {mode: static}}]", True),
    ],
)
def test_calibration_inputs_are_written_only_for_a_static_quantize_pass(passes, expected):
    """`calib_data.npz` (training inputs) is written only where a static quantize pass reads it."""
    from specc.builder.stages import needs_calibration
    from specc.spec import parse_spec

    text = (
        "specc: 1\nname: q\ntask: {type: binary}\n"
        "data: {type: builtin, dataset: sklearn:breast_cancer}\n"
        "model: {inputs: [{name: f, shape: [30]}], layers: [{type: dense, units: 1}]}\n"
        f"passes: {passes}\n"
    )
    assert needs_calibration(parse_spec(text).spec) is expected
