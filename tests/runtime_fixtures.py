"""Tiny trained builds that follow the build-folder contract, for the runtime tests.

Each builder trains a small Keras model for a few epochs on an offline scikit-learn dataset,
exports it with `model.export(format="onnx")`, renames the graph inputs/outputs and writes the
`specc.*` metadata with the `onnx` library, and saves `model.keras`, `code/spec_model.py`,
`test_data.npz`, `calib_data.npz`, `metrics.json` and `report.md` like `specc build` does.

Builds are made once per test session (`get_build`); tests that write into a build copy it first
(`copy_build`).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sys
import textwrap
import warnings
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

_CACHE: dict[str, Path] = {}

CNN_CODE = '''
"""Generated-code stand-in: a custom layer registered for serialization, and the network."""
import keras
from keras import layers


@keras.saving.register_keras_serializable(package="specc_runtime_test")
class PixelScale(layers.Layer):
    def __init__(self, scale=1.0 / 16.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale

    def call(self, x):
        return x * self.scale

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


def build_model():
    inp = keras.Input((8, 8, 1), name="pixels")
    h = PixelScale(name="scale")(inp)
    h = layers.Conv2D(16, 3, activation="relu")(h)
    h = layers.Conv2D(32, 3, activation="relu")(h)
    h = layers.Flatten()(h)
    h = layers.Dense(64, activation="relu")(h)
    out = layers.Dense(10, activation="softmax", name="digit")(h)
    return keras.Model(inp, out, name="digits_cnn")
'''

DIGIT_NAMES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


def _split(n: int, seed: int = 0, test: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    order = np.random.default_rng(seed).permutation(n)
    k = int(round(n * test))
    return order[k:], order[:k]


def rename_and_tag(path: Path, outputs: list[str], metadata: dict[str, str]) -> None:
    """Rename the graph outputs (in order) and set `metadata_props` like the build does."""
    import onnx

    model = onnx.load(str(path))
    mapping = {o.name: new for o, new in zip(model.graph.output, outputs, strict=True)}
    for node in model.graph.node:
        for i, name in enumerate(node.output):
            if name in mapping:
                node.output[i] = mapping[name]
        for i, name in enumerate(node.input):
            if name in mapping:
                node.input[i] = mapping[name]
    for out in model.graph.output:
        out.name = mapping[out.name]
    del model.metadata_props[:]
    for key, value in metadata.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def _metadata(name: str, task: str, inputs: list[str], outputs: list[str], **extra: Any) -> dict:
    meta = {
        "specc.spec_name": name,
        "specc.spec_hash": "0" * 16,
        "specc.task": task,
        "specc.class_names": json.dumps(extra.get("class_names", [])),
        "specc.input_names": json.dumps(inputs),
        "specc.output_names": json.dumps(outputs),
        "specc.preprocessing": json.dumps({"note": "applied inside the model"}),
        "specc.feature_names": json.dumps(extra.get("feature_names", [])),
        "specc.threshold": str(extra.get("threshold", "")),
    }
    return meta


def _finish(
    out: Path,
    model: Any,
    name: str,
    task: str,
    x_train: dict[str, np.ndarray],
    x_test: dict[str, np.ndarray],
    y_test: np.ndarray,
    outputs: list[str],
    test_metrics: dict[str, float],
    **extra: Any,
) -> Path:
    """Export, tag and save everything a finished build leaves behind."""
    first = {k: v[:1] for k, v in x_test.items()}
    model(first if len(first) > 1 else next(iter(first.values())))
    onnx_path = out / "model.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.export(str(onnx_path), format="onnx", verbose=False)
    rename_and_tag(onnx_path, outputs, _metadata(name, task, list(x_test), outputs, **extra))
    model.save(out / "model.keras")
    np.savez_compressed(out / "test_data.npz", **x_test, y=y_test)
    np.savez_compressed(out / "calib_data.npz", **{k: v[:1024] for k, v in x_train.items()})
    from specc.codegen.loader import code_hash

    metrics = {
        "code_hash": code_hash(out / "code"),  # what a build records of the code it generated
        "spec_name": name,
        "task": task,
        "metrics": {"test": test_metrics},
        "artifacts": ["model.onnx", "model.keras", "report.md"],
        "built_at": "2026-01-01T00:00:00Z",
    }
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    (out / "report.md").write_text(f"# {name}\n\nTest metrics: {test_metrics}\n")
    return out


def _import_code(path: Path) -> Any:
    spec = importlib.util.spec_from_file_location("_runtime_fixture_code", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def build_digits_cnn(out: Path) -> Path:
    """Multiclass CNN on 8x8 digits; a custom layer lives in code/spec_model.py."""
    import keras
    from sklearn.datasets import load_digits

    keras.utils.set_random_seed(0)
    out.mkdir(parents=True, exist_ok=True)
    (out / "code").mkdir(exist_ok=True)
    (out / "code" / "spec_model.py").write_text(textwrap.dedent(CNN_CODE).lstrip())
    code = _import_code(out / "code" / "spec_model.py")
    x, y = load_digits(return_X_y=True)
    x = x.reshape(-1, 8, 8, 1).astype(np.float32)
    tr, te = _split(len(x))
    model = code.build_model()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x[tr], y[tr], epochs=8, batch_size=32, verbose=0)
    loss, acc = model.evaluate(x[te], y[te], verbose=0)
    _finish(
        out, model, "digits_cnn", "multiclass", {"pixels": x[tr]}, {"pixels": x[te]}, y[te],
        ["digit"], {"accuracy": float(acc), "loss": float(loss)}, class_names=DIGIT_NAMES,
    )  # fmt: skip
    # Forget the registration and the module, so loading model.keras must import code/spec_model.py.
    keras.saving.get_custom_objects().pop("specc_runtime_test>PixelScale", None)
    sys.modules.pop("_runtime_fixture_code", None)
    return out


def build_cancer_mlp(out: Path) -> Path:
    """Binary MLP on breast_cancer (30 named features), normalisation inside the model."""
    import keras
    from keras import layers
    from sklearn.datasets import load_breast_cancer

    keras.utils.set_random_seed(1)
    out.mkdir(parents=True, exist_ok=True)
    data = load_breast_cancer()
    x, y = data.data.astype(np.float32), data.target.astype(np.int64)
    tr, te = _split(len(x), seed=1)
    mean, std = x[tr].mean(axis=0), x[tr].std(axis=0) + 1e-6
    inp = keras.Input((30,), name="features")
    h = layers.Rescaling(scale=(1.0 / std).tolist(), offset=(-mean / std).tolist())(inp)
    h = layers.Dense(256, activation="relu")(h)
    h = layers.Dense(128, activation="relu")(h)
    outp = layers.Dense(1, activation="sigmoid", name="malignant_or_benign")(h)
    model = keras.Model(inp, outp, name="cancer_mlp")
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    model.fit(x[tr], y[tr], epochs=10, batch_size=32, verbose=0)
    loss, acc = model.evaluate(x[te], y[te], verbose=0)
    names = [str(n) for n in data.feature_names]
    _finish(
        out, model, "cancer_mlp", "binary", {"features": x[tr]}, {"features": x[te]}, y[te],
        ["diagnosis"], {"accuracy": float(acc), "loss": float(loss)},
        class_names=["malignant", "benign"], feature_names=names, threshold=0.5,
    )  # fmt: skip
    return out


def build_diabetes_two_inputs(out: Path) -> Path:
    """Regression with two inputs (`clinical`: 4 features, `serum`: 6), one output."""
    import keras
    from keras import layers
    from sklearn.datasets import load_diabetes

    keras.utils.set_random_seed(2)
    out.mkdir(parents=True, exist_ok=True)
    x, y = load_diabetes(return_X_y=True)
    x, y = x.astype(np.float32), (y / 100.0).astype(np.float32)
    tr, te = _split(len(x), seed=2)
    a_in = keras.Input((4,), name="clinical")
    b_in = keras.Input((6,), name="serum")
    h = layers.Concatenate()([a_in, b_in])
    h = layers.Dense(64, activation="relu")(h)
    outp = layers.Dense(1, name="progression")(h)
    model = keras.Model([a_in, b_in], outp, name="diabetes_two_inputs")
    model.compile(keras.optimizers.Adam(0.01), "mse", metrics=["mae"])
    xa, xb = x[:, :4], x[:, 4:]
    model.fit([xa[tr], xb[tr]], y[tr], epochs=30, batch_size=32, verbose=0)
    mse, mae = model.evaluate([xa[te], xb[te]], y[te], verbose=0)
    _finish(
        out, model, "diabetes_two_inputs", "regression",
        {"clinical": xa[tr], "serum": xb[tr]}, {"clinical": xa[te], "serum": xb[te]},
        y[te].reshape(-1, 1), ["progression"], {"mse": float(mse), "mae": float(mae)},
    )  # fmt: skip
    return out


BUILDERS = {
    "digits_cnn": build_digits_cnn,
    "cancer_mlp": build_cancer_mlp,
    "diabetes": build_diabetes_two_inputs,
}


def get_build(kind: str, tmp_path_factory: Any) -> Path:
    """The build of `kind`, trained once per test session (treat it as read-only)."""
    if kind not in _CACHE:
        root = tmp_path_factory.mktemp(f"runtime_{kind}")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # numpy 2 notes from inside keras
            _CACHE[kind] = BUILDERS[kind](root / kind)
    return _CACHE[kind]


def copy_build(src: Path, dst: Path) -> Path:
    """A writable copy of a build folder."""
    shutil.copytree(src, dst)
    return dst


def invoke(cli: Any, args: list[Any]) -> Any:
    """Run a click command group in-process; exceptions propagate (a traceback fails a test)."""
    from click.testing import CliRunner

    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def rig_perfect_targets(src: Path, dst: Path) -> Path:
    """A copy of the diabetes build whose test targets equal the float model's outputs: float
    R^2 is exactly 1, so any int8 error is a drop and an allowed drop of 0 must fail. A stale
    `model.int8.onnx` is left in it, which a failing quantize run must remove."""
    from specc.runtime import load

    build = copy_build(src, dst)
    with np.load(build / "test_data.npz") as d:
        data = {k: d[k] for k in d.files}
    m = load(build, "cpu")
    data["y"] = m.run({n: data[n] for n in m.input_names})["progression"]
    np.savez(build / "test_data.npz", **data)
    (build / "model.int8.onnx").write_bytes(b"stale")
    return build
