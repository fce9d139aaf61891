"""specc: a declarative model-spec compiler for deep learning.

    from specc import load
    model = load("build/digits_cnn/model.onnx", device="auto")
    result = model.predict(x)

Heavy libraries (tensorflow, onnxruntime) are imported only by the functions that need them.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["__version__", "load"]


def load(path: Any, device: str = "auto", **options: Any) -> Any:
    """Load a built ONNX model (a `model.onnx` file or a build folder) for inference."""
    from specc.runtime import load as _load

    return _load(path, device=device, **options)
