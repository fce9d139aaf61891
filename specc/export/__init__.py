"""ONNX export of Keras models, ONNX checking and Keras-vs-ONNX Runtime parity verification.

Heavy libraries (TensorFlow, Keras, ONNX, ONNX Runtime) are imported only when a function runs.
"""

from .onnx_export import ExportError, check_onnx, export_onnx
from .parity import NonFiniteOutputError, ParityResult, verify_parity

__all__ = [
    "ExportError",
    "NonFiniteOutputError",
    "ParityResult",
    "check_onnx",
    "export_onnx",
    "verify_parity",
]
