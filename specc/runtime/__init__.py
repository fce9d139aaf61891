"""Deployment runtime: run a built model with onnxruntime on CPU or GPU, benchmark it against
its Keras original. (int8 quantization is a pass: `specc.passes.quantize`.)

    from specc.runtime import load
    m = load("build/digits_cnn", device="auto")   # or ".../model.onnx"
    p = m.predict(x)                                # x: array, or dict input name -> array
    p.labels, p.probabilities, p.to_records()
    m.run(x)                                        # raw outputs, the fast path

Names are resolved lazily: importing this package imports neither onnxruntime nor TensorFlow.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .bench import bench_model
    from .errors import (
        DeviceUnavailableError,
        IncompleteBuildError,
        InputFileError,
        ModelLoadError,
        ModelNotFoundError,
        NonFiniteInputError,
        PredictorInputError,
        QuantizationError,
        SpeccRuntimeError,
        UntrustedCodeError,
    )
    from .inputs import TensorSpec
    from .metadata import ModelMetadata
    from .prediction import Prediction
    from .predictor import Predictor, load
    from .providers import SessionInfo

_EXPORTS = {
    "load": "predictor",
    "Predictor": "predictor",
    "Prediction": "prediction",
    "TensorSpec": "inputs",
    "ModelMetadata": "metadata",
    "SessionInfo": "providers",
    "bench_model": "bench",
    "SpeccRuntimeError": "errors",
    "PredictorInputError": "errors",
    "InputFileError": "errors",
    "ModelNotFoundError": "errors",
    "ModelLoadError": "errors",
    "IncompleteBuildError": "errors",
    "UntrustedCodeError": "errors",
    "NonFiniteInputError": "errors",
    "DeviceUnavailableError": "errors",
    "QuantizationError": "errors",
}

__all__ = [
    "DeviceUnavailableError",
    "InputFileError",
    "ModelLoadError",
    "IncompleteBuildError",
    "UntrustedCodeError",
    "ModelMetadata",
    "ModelNotFoundError",
    "NonFiniteInputError",
    "Prediction",
    "Predictor",
    "PredictorInputError",
    "QuantizationError",
    "SessionInfo",
    "SpeccRuntimeError",
    "TensorSpec",
    "bench_model",
    "load",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'specc.runtime' has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
