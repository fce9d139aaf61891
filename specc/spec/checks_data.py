"""Cross-field checks of the `data` section: built-in datasets against the task and the model
inputs, and data files that must exist with the columns the spec names."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from .checks import check
from .errors import SpecError, did_you_mean
from .schema import BuiltinData, CsvData, NpzData, Spec

__all__ = ["DATASETS", "SYNTHETIC_ONLY", "synthetic_lengths"]

# What each built-in dataset provides: task type, classes, and the arrays with their shapes.
DATASETS: dict[str, dict] = {
    "sklearn:digits": {"task": "multiclass", "classes": 10, "arrays": {"x": 64}},
    "sklearn:iris": {"task": "multiclass", "classes": 3, "arrays": {"x": 4}},
    "sklearn:wine": {"task": "multiclass", "classes": 3, "arrays": {"x": 13}},
    "sklearn:breast_cancer": {"task": "binary", "classes": 2, "arrays": {"x": 30}},
    "sklearn:diabetes": {"task": "regression", "outputs": 1, "arrays": {"x": 10}},
    "synthetic:addition": {"task": "seq2seq", "vocab_size": 13},
    "synthetic:reverse": {"task": "seq2seq", "vocab_size": 13},
}
SYNTHETIC_ONLY = ("samples", "digits", "length")


def synthetic_lengths(data: BuiltinData) -> dict[str, int]:
    """Sequence lengths of the arrays of a synthetic dataset."""
    if data.dataset == "synthetic:addition":
        return {"encoder_input": 2 * data.digits + 1, "decoder_input": data.digits + 1}
    return {"encoder_input": data.length, "decoder_input": data.length}


@check
def builtin_data_fits(spec: Spec, _: Path) -> Iterator[SpecError]:
    data = spec.data
    if not isinstance(data, BuiltinData):
        return
    info = DATASETS[data.dataset]
    if info["task"] != spec.task.type:
        yield SpecError(
            ("task", "type"),
            f"dataset `{data.dataset}` is a {info['task']} dataset, "
            f"but the task is {spec.task.type}",
            f"set `task.type: {info['task']}`",
        )
    elif (
        "classes" in info
        and spec.task.type == "multiclass"
        and spec.task.classes != info["classes"]
    ):
        yield SpecError(
            ("task", "classes"),
            f"dataset `{data.dataset}` has {info['classes']} classes, got {spec.task.classes}",
            f"set `classes: {info['classes']}`",
        )
    elif spec.task.type == "seq2seq" and spec.task.vocab_size != info["vocab_size"]:
        yield SpecError(
            ("task", "vocab_size"),
            f"dataset `{data.dataset}` has a vocabulary of {info['vocab_size']} tokens, "
            f"got {spec.task.vocab_size}",
            f"set `vocab_size: {info['vocab_size']}`",
        )
    if not data.dataset.startswith("synthetic:"):
        for name in SYNTHETIC_ONLY:
            # the default value is accepted: the resolved spec (lock file) writes it out
            if getattr(data, name) != BuiltinData.model_fields[name].default:
                yield SpecError(
                    ("data", name),
                    f"`{name}` applies only to synthetic datasets, got `{name}: "
                    f"{getattr(data, name)}` for `{data.dataset}`",
                    "remove it",
                )
        features = info["arrays"]["x"]
        inputs = spec.model.inputs
        if len(inputs) != 1:
            yield SpecError(
                ("model", "inputs"),
                f"dataset `{data.dataset}` provides one input array, "
                f"the model declares {len(inputs)}",
            )
            return
        size = 1
        for dim in inputs[0].shape:
            size *= dim or 0
        if size != features:
            yield SpecError(
                ("model", "inputs", 0, "shape"),
                f"dataset `{data.dataset}` has {features} features per example, but shape "
                f"{list(inputs[0].shape)} holds {size}",
                f"use a shape whose product is {features}, e.g. [{features}]",
            )
        return
    distinct = 10 ** (2 * data.digits) if data.dataset == "synthetic:addition" else 10**data.length
    if data.samples > distinct:
        yield SpecError(
            ("data", "samples"),
            f"`{data.dataset}` has only {distinct:,} distinct examples with these settings, "
            f"got samples: {data.samples}",
            f"use at most {distinct}: repeated examples would put training questions in the "
            "test split",
        )
    lengths = synthetic_lengths(data)
    sources = {inp.source or inp.name: i for i, inp in enumerate(spec.model.inputs)}
    for array, length in lengths.items():
        if array not in sources:
            yield SpecError(
                ("model", "inputs"),
                f"dataset `{data.dataset}` provides array `{array}` (tokens, length {length}) "
                "that no model input reads",
                f"add an input named `{array}` or with `source: {array}`",
            )
            continue
        i = sources[array]
        inp = spec.model.inputs[i]
        if list(inp.shape) != [length]:
            yield SpecError(
                ("model", "inputs", i, "shape"),
                f"array `{array}` has shape [{length}], got {list(inp.shape)}",
                f"set `shape: [{length}]`",
            )
        if inp.dtype == "float32":
            yield SpecError(
                ("model", "inputs", i, "dtype"),
                f"array `{array}` holds token ids, got dtype float32",
                "set `dtype: int32`",
            )
    for i, inp in enumerate(spec.model.inputs):
        if (inp.source or inp.name) not in lengths:
            yield SpecError(
                ("model", "inputs", i, "source" if inp.source else "name"),
                f"dataset `{data.dataset}` has no array `{inp.source or inp.name}`",
                did_you_mean(inp.source or inp.name, lengths) or f"arrays: {', '.join(lengths)}",
            )


@check
def data_files_exist(spec: Spec, base_dir: Path) -> Iterator[SpecError]:
    data = spec.data
    if not isinstance(data, (CsvData, NpzData)):
        return
    path = base_dir / data.path
    if not path.is_file():
        yield SpecError(
            ("data", "path"), f"file not found: {path}", "paths are relative to the spec file"
        )
        return
    if isinstance(data, CsvData):
        try:
            with open(path, encoding="utf-8") as fh:
                header = [h.strip() for h in fh.readline().rstrip("\n").split(data.delimiter)]
        except (OSError, UnicodeDecodeError) as exc:
            yield SpecError(("data", "path"), f"cannot read the file: {exc}")
            return
        targets = [data.target] if isinstance(data.target, str) else list(data.target)
        wanted = [("target", t) for t in targets] + [("features", f) for f in data.features or []]
        for field, column in wanted:
            if column not in header:
                yield SpecError(
                    ("data", field),
                    f"column `{column}` is not in the CSV header",
                    did_you_mean(column, header) or f"columns: {', '.join(header[:12])}",
                )
