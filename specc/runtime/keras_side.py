"""Loading the trained Keras model of a build folder (for `specc bench`).

`model.keras` may use layers defined in the build's generated `code/model.py`, registered with
`@keras.saving.register_keras_serializable`. That module is imported first, under a unique name
with `code/` on `sys.path` for the duration of the import, so its registrations exist when
`keras.saving.load_model` runs. TensorFlow/Keras are imported inside the functions.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
from pathlib import Path
from typing import Any

from .errors import ModelNotFoundError

__all__ = ["import_build_code", "keras_callables", "load_keras_model"]


def import_build_code(build_dir: str | os.PathLike[str]) -> Any | None:
    """Import `<build_dir>/code/model.py` (if present) under a unique module name."""
    code_dir = Path(build_dir).resolve() / "code"
    model_py = code_dir / "model.py"
    if not model_py.is_file():
        return None
    digest = hashlib.sha1(str(model_py).encode()).hexdigest()[:12]
    mod_name = f"_specc_build_code_{digest}"
    if mod_name in sys.modules:
        return sys.modules[mod_name]
    spec = importlib.util.spec_from_file_location(mod_name, model_py)
    if spec is None or spec.loader is None:
        return None
    module = importlib.util.module_from_spec(spec)
    added = str(code_dir) not in sys.path
    if added:
        sys.path.insert(0, str(code_dir))
    sys.modules[mod_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(mod_name, None)
        raise
    finally:
        if added:
            try:
                sys.path.remove(str(code_dir))
            except ValueError:
                pass
    return module


def load_keras_model(build_dir: str | os.PathLike[str]) -> Any:
    """Load `<build_dir>/model.keras` (uncompiled), importing the build's code first."""
    folder = Path(build_dir)
    path = folder / "model.keras"
    if not path.is_file():
        raise ModelNotFoundError(f"no model.keras in {folder}")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import_build_code(folder)
    import keras

    return keras.saving.load_model(path, compile=False)


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
