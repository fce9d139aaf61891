"""What a distillation teacher offers, read without TensorFlow: its inputs and its output.

A teacher is either a spec (`.yaml`/`.yml`, loaded and checked with the normal machinery) or a
trained Keras file (`.keras`: a zip whose `config.json` describes the model; read here with
`zipfile` and `json`, never by running Keras). Both become a `TeacherInfo`, which the distill
check compares with the student (`checks_distill`).
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "KERAS_SUFFIX",
    "SPEC_SUFFIXES",
    "TeacherError",
    "TeacherInfo",
    "read_teacher",
    "visiting",
]

SPEC_SUFFIXES = (".yaml", ".yml")
_WEIGHTS = "model.weights.h5"
_HDF5 = b"\x89HDF\r\n\x1a\n"
_UNSAFE = frozenset({"Lambda"})
"""Layers that run arbitrary Python: `keras.saving.load_model(safe_mode=True)` refuses them."""
KERAS_SUFFIX = ".keras"

_VISITING: contextvars.ContextVar[tuple[Path, ...]] = contextvars.ContextVar(
    "specc_teacher_visiting", default=()
)


def visiting() -> tuple[Path, ...]:
    """The specs whose teachers are being read now, outermost first (empty at the top)."""
    return _VISITING.get()


class TeacherError(Exception):
    """The teacher cannot be read: `message` says why, `hint` what to change."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message, self.hint = message, hint


@dataclass(frozen=True)
class TeacherInfo:
    """A teacher as the student sees it."""

    kind: str
    """`spec` or `keras`."""
    inputs: tuple[tuple[str, tuple[int | None, ...], str], ...]
    """(name, shape without the batch axis, dtype) of every input, in order."""
    task: str
    """The task kind (`multiclass`, ...); for a Keras file, read from its output layer."""
    classes: int | None
    """Width of the softmax output; None where the output is not a softmax."""
    distills_from: tuple[str, ...] = ()
    """A teacher spec's own distill teachers (a teacher must not be distilled itself)."""
    name: str = ""
    problems: tuple[str, ...] = ()
    """What keeps the build from using this teacher (a spec that keeps no `model.keras`, a
    layer Keras' safe mode refuses), as sentences."""


def read_teacher(path: Path, load: Callable[[Path], Any]) -> TeacherInfo:
    """The teacher at `path` (an existing file); `load` loads a spec (`load.load_spec`). Raises
    `TeacherError`; a teacher spec with errors raises `SpecErrors` (located in its own file)."""
    suffix = path.suffix.lower()
    if suffix in SPEC_SUFFIXES:
        return _read_spec(path, load)
    if suffix == KERAS_SUFFIX:
        return _read_keras(path)
    raise TeacherError(
        f"`{path.name}` is neither a spec (.yaml) nor a Keras model file (.keras)",
        "name a teacher spec or a model.keras that a build wrote",
    )


def _read_spec(path: Path, load: Callable[[Path], Any]) -> TeacherInfo:
    from .tasks import task_kind

    token = _VISITING.set((*visiting(), path.resolve()))
    try:
        loaded = load(path)
    finally:
        _VISITING.reset(token)
    spec = loaded.spec
    kind = task_kind(spec)
    inputs = tuple((i.name, tuple(i.shape), i.dtype) for i in spec.model.inputs)
    classes = kind.classes(spec.task) if spec.task.type == "multiclass" else None
    teachers = tuple(e.distill.teacher for e in spec.passes if e.distill is not None)
    lacking = [k for k in ("keras", "onnx") if k not in spec.export.keep]
    problems = (
        (f"the teacher spec does not keep {' and '.join(lacking)} (export.keep)",)
        if lacking
        else ()
    )
    return TeacherInfo("spec", inputs, spec.task.type, classes, teachers, spec.name, problems)


def _read_keras(path: Path) -> TeacherInfo:
    import json  # only here: `specc validate` of a spec without a .keras teacher stays light
    import zipfile

    hint = "give the model.keras that a build (or keras.Model.save) wrote"
    try:
        with zipfile.ZipFile(path) as archive:
            config = json.loads(archive.read("config.json").decode("utf-8"))
            names = archive.namelist()
            weights = archive.open(_WEIGHTS).read(len(_HDF5)) if _WEIGHTS in names else _HDF5
    except zipfile.BadZipFile:
        why = "not a zip archive"
    except KeyError:
        why = "no config.json"
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise TeacherError(f"`{path.name}` cannot be read: {exc}", hint) from None
    else:
        why = ""
    if not why and weights != _HDF5:
        why = f"{_WEIGHTS} is not an HDF5 file"
    if why:
        raise TeacherError(f"`{path.name}` is not a Keras model file ({why})", hint)
    try:
        return _from_config(config)
    except (KeyError, TypeError, IndexError, ValueError, AttributeError):
        raise TeacherError(
            f"`{path.name}` holds a model this version cannot read without running it "
            "(a functional or sequential Keras model is expected)",
            hint,
        ) from None


def _nodes(value: list[Any]) -> list[list[Any]]:
    """`[[name, 0, 0], ...]`; Keras writes a single node as `[name, 0, 0]`."""
    return [value] if value and isinstance(value[0], str) else value


def _from_config(config: dict[str, Any]) -> TeacherInfo:
    body = config["config"]
    layers = {layer["config"]["name"]: layer for layer in body["layers"]}
    if config["class_name"] == "Sequential":
        first, last = body["layers"][0], body["layers"][-1]
        if first["class_name"] != "InputLayer":
            raise ValueError("no input layer")
        input_layers, output = [first], last
    else:
        input_layers = [layers[name] for name, *_ in _nodes(body["input_layers"])]
        outputs = _nodes(body["output_layers"])
        if len(outputs) != 1:
            raise ValueError("several outputs")
        output = layers[outputs[0][0]]
    inputs = []
    for layer in input_layers:
        cfg = layer["config"]
        shape = tuple(None if d is None else int(d) for d in cfg["batch_shape"][1:])
        dtype = cfg.get("dtype", "float32")
        dtype = dtype["config"]["name"] if isinstance(dtype, dict) else str(dtype)
        inputs.append((str(cfg["name"]), shape, dtype))
    cfg = output["config"]
    softmax = output["class_name"] == "Dense" and cfg.get("activation") == "softmax"
    classes = int(cfg["units"]) if softmax else None
    task = "multiclass" if softmax else f"{output['class_name']} ({cfg.get('activation')})"
    unsafe = sorted({str(layer["class_name"]) for layer in body["layers"]} & _UNSAFE)
    problems = tuple(
        f"the teacher holds a {name} layer, which Keras' safe mode refuses to load"
        for name in unsafe
    )
    return TeacherInfo(
        "keras", tuple(inputs), task, classes, (), str(body.get("name", "")), problems
    )
