"""Errors raised by the deployment runtime, each with a message meant for the person reading it.

All of them derive from `SpeccRuntimeError`, so a command line can turn any of them into
`error: <message>` without a traceback. They also derive from the matching built-in exception
(`ValueError`, `FileNotFoundError`, `RuntimeError`) so ordinary `except` clauses keep working.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "DeviceUnavailableError",
    "IncompleteBuildError",
    "InputFileError",
    "ModelLoadError",
    "ModelNotFoundError",
    "NonFiniteInputError",
    "PredictorInputError",
    "QuantizationError",
    "SpeccRuntimeError",
    "UntrustedCodeError",
]


class SpeccRuntimeError(Exception):
    """Base class of every error the runtime raises on purpose."""


class PredictorInputError(SpeccRuntimeError, ValueError):
    """The data given to a predictor does not fit the model's inputs (names, shape, dtype)."""


class InputFileError(PredictorInputError):
    """An input file (`.npy`, `.npz`, `.csv`) is missing, unreadable or does not fit the model."""


class NonFiniteInputError(PredictorInputError):
    """A float input holds NaN or inf values (refused unless `allow_nonfinite=True`)."""


class ModelNotFoundError(SpeccRuntimeError, FileNotFoundError):
    """No ONNX model at the given path (or no `model.onnx` in the given build folder)."""


class ModelLoadError(SpeccRuntimeError, ValueError):
    """The model file exists but onnxruntime cannot load it (truncated, corrupt, not ONNX)."""


class IncompleteBuildError(ModelLoadError):
    """The model lies in a specc build folder that is not a complete build of it (no
    `metrics.json`, or one recording another spec or not listing the model)."""


class UntrustedCodeError(SpeccRuntimeError, RuntimeError):
    """A build folder's generated code is not the code its `metrics.json` records (by hash), so
    importing it could run code specc did not generate; `trust=True` / `--trust` overrides."""


class DeviceUnavailableError(SpeccRuntimeError, RuntimeError):
    """The requested device (`gpu`) cannot be used; the message says how to make it available."""


class QuantizationError(SpeccRuntimeError, RuntimeError):
    """int8 quantization failed or lost too much accuracy.

    `report` holds the measured comparison when the failure came from the accuracy check
    (None when quantization itself failed).
    """

    def __init__(self, message: str, report: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.report = report
