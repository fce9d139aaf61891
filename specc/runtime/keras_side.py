"""Loading the trained Keras model of a build folder (for `specc bench`).

`model.keras` may use layers defined in the build's generated model module (`code/spec_model.py`),
registered with `@keras.saving.register_keras_serializable`. That module is imported first,
through `specc.codegen.loader` (the one way specc imports generated code), so its registrations
exist when `keras.saving.load_model` runs. TensorFlow/Keras are imported inside the functions.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..codegen.layout import MODULES
from ..codegen.loader import CodeMismatchError, generated_modules
from .errors import ModelNotFoundError, UntrustedCodeError

__all__ = ["keras_callables", "load_keras_model"]


def _recorded_code_hash(folder: Path) -> str | None:
    try:
        metrics = json.loads((folder / "metrics.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    value = metrics.get("code_hash") if isinstance(metrics, dict) else None
    return value if isinstance(value, str) else None


def load_keras_model(build_dir: str | os.PathLike[str], *, trust: bool = False) -> Any:
    """Load `<build_dir>/model.keras` (uncompiled), importing the build's code first.

    The generated code is imported only when its hash is the `code_hash` that the build's
    `metrics.json` records, that is, the code specc generated and audited; otherwise
    `UntrustedCodeError`, unless `trust` (you vouch for the code)."""
    folder = Path(build_dir)
    path = folder / "model.keras"
    if not path.is_file():
        raise ModelNotFoundError(f"no model.keras in {folder}")
    code_dir = folder / "code"
    has_code = (code_dir / f"{MODULES['model']}.py").is_file()
    expected = None
    if has_code and not trust:
        expected = _recorded_code_hash(folder)
        if expected is None:
            raise UntrustedCodeError(
                f"{folder}/metrics.json records no code hash, so specc cannot tell whether it "
                f"generated {code_dir}; pass --trust (trust=True) to import it anyway"
            )
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    if not has_code:  # a model without custom layers
        return keras.saving.load_model(path, compile=False)
    try:
        with generated_modules(code_dir, ("model",), expect_hash=expected):
            return keras.saving.load_model(path, compile=False)
    except CodeMismatchError as exc:
        raise UntrustedCodeError(f"{exc}; pass --trust (trust=True) to import it anyway") from None


def keras_callables(model: Any, input_names: tuple[str, ...]) -> dict[str, Any]:
    """The two ways `specc bench` calls Keras: eager `model(x, training=False)` and a
    `tf.function` wrapping the same call. Each takes the dict feed ORT takes and returns numpy."""
    import tensorflow as tf

    single = len(input_names) == 1
    name0 = input_names[0]

    def to_keras(feed: dict[str, Any]) -> Any:
        return feed[name0] if single else dict(feed)

    def numpy(out: Any) -> Any:
        # Results are fetched to host numpy arrays, as onnxruntime returns them.
        return tf.nest.map_structure(lambda t: t.numpy(), out)

    def eager(feed: dict[str, Any]) -> Any:
        return numpy(model(to_keras(feed), training=False))

    graph = tf.function(lambda x: model(x, training=False), reduce_retracing=True)

    def function(feed: dict[str, Any]) -> Any:
        return numpy(graph(to_keras(feed)))

    return {"keras_eager": eager, "keras_function": function}
