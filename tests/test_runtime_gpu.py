"""GPU execution (CUDAExecutionProvider from `onnxruntime-gpu`, the `specc[gpu]` extra).

Tests marked `gpu` need a visible CUDA GPU and skip, saying why, when there is none. The tests
of the messages given without a usable GPU run everywhere (the missing provider is simulated).
"""

from __future__ import annotations

import click
import numpy as np
import pytest
from click.testing import CliRunner

from specc.commands.runtime import register
from specc.runtime import DeviceUnavailableError, load
from specc.runtime import providers as providers_mod


@pytest.fixture
def no_cuda(monkeypatch):
    """Make onnxruntime look like the CPU-only package."""
    cpu_only = ["AzureExecutionProvider", "CPUExecutionProvider"]
    monkeypatch.setattr(providers_mod, "available_providers", lambda: cpu_only)


def _gpu_skip_reason() -> str | None:
    """None when a CUDA session can start here, else why not."""
    try:
        import onnxruntime as ort
    except ImportError:  # pragma: no cover
        return "onnxruntime is not installed"
    if "CUDAExecutionProvider" not in ort.get_available_providers():
        return (
            "no CUDAExecutionProvider in this onnxruntime (CPU-only package; "
            "pip install 'specc[gpu]' on a machine with an NVIDIA GPU)"
        )
    return None


GPU_REASON = _gpu_skip_reason()
needs_gpu = pytest.mark.skipif(GPU_REASON is not None, reason=GPU_REASON or "")


def _gpu_predictor(build):
    try:
        return load(build, device="gpu")
    except DeviceUnavailableError as exc:  # provider present, but no visible GPU
        pytest.skip(f"CUDAExecutionProvider is installed but no GPU is usable: {exc}")


# --------------------------------------------------------------------------- runs everywhere


def test_gpu_without_cuda_provider_says_how_to_install(cnn_build, no_cuda):
    with pytest.raises(DeviceUnavailableError) as err:
        load(cnn_build, device="gpu")
    msg = str(err.value)
    assert "CUDAExecutionProvider" in msg
    assert "pip install 'specc[gpu]'" in msg and "onnxruntime-gpu" in msg


def test_auto_falls_back_to_cpu_and_says_so(cnn_build, no_cuda):
    m = load(cnn_build, device="auto")
    assert m.device == "cpu" and m.provider == "CPUExecutionProvider"
    assert "CPU" in m.info.note and "specc[gpu]" in m.info.note


def test_cli_gpu_without_cuda_is_a_clean_error(cnn_build, no_cuda):
    group = click.Group("specc")
    register(group)
    r = CliRunner().invoke(
        group, ["predict", str(cnn_build), str(cnn_build / "test_data.npz"), "--device", "gpu"]
    )
    assert r.exit_code == 2
    assert r.stderr.startswith("error: device 'gpu' needs CUDAExecutionProvider")
    assert "Traceback" not in r.output


def test_provider_present_but_no_gpu_is_explained(cnn_build, monkeypatch):
    """With the provider listed but no device, onnxruntime silently runs on the CPU; the
    runtime must notice and say so."""
    import onnxruntime as ort

    listed = ["CUDAExecutionProvider", "CPUExecutionProvider"]
    monkeypatch.setattr(providers_mod, "available_providers", lambda: listed)
    real = ort.InferenceSession

    def cpu_only(model, sess_options=None, providers=None, **kw):
        return real(model, sess_options=sess_options, providers=["CPUExecutionProvider"])

    monkeypatch.setattr(ort, "InferenceSession", cpu_only)
    with pytest.raises(DeviceUnavailableError, match="did not start"):
        load(cnn_build, device="gpu")
    m = load(cnn_build, device="auto")
    assert m.device == "cpu" and "did not start" in m.info.note


# --------------------------------------------------------------------------- needs a GPU


@pytest.mark.gpu
@needs_gpu
def test_gpu_predict_matches_cpu(cnn_build):
    gpu = _gpu_predictor(cnn_build)
    assert gpu.provider == "CUDAExecutionProvider" and gpu.device == "gpu"
    cpu = load(cnn_build, device="cpu")
    with np.load(cnn_build / "test_data.npz") as d:
        x = d["pixels"]
    np.testing.assert_allclose(gpu.run(x)["digit"], cpu.run(x)["digit"], atol=1e-4)
    big = np.concatenate([x] * 12)
    chunked = load(cnn_build, device="gpu", batch_size=1000).predict(big)
    np.testing.assert_array_equal(chunked.label_indices, cpu.predict(big).label_indices)


@pytest.mark.gpu
@needs_gpu
def test_gpu_auto_picks_gpu(cnn_build):
    _gpu_predictor(cnn_build)
    m = load(cnn_build, device="auto")
    assert m.device == "gpu" and m.info.note is None


@pytest.mark.gpu
@needs_gpu
def test_gpu_bench_runs(cnn_build):
    from specc.runtime.bench import bench_model

    _gpu_predictor(cnn_build)
    report = bench_model(cnn_build, batches=(1, 64), device="gpu", repeat=3, keras=False)
    assert report["provider"] == "CUDAExecutionProvider"
    assert all(row["onnxruntime"]["p50_ms"] > 0 for row in report["results"])
