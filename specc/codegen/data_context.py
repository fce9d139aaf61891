"""The context of `templates/data.py.j2`: names, constants and comments of the generated `data.py`.

Everything the template needs is decided here, so the template only picks the block of this
spec's data source and fills in values. Literals come out as `ruff format` writes them.

Nothing here raises on a spec: every problem of the data section is found by the spec checks
(`specc.spec.checks_data`) when the spec is validated.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from specc.spec.csvfile import feature_names, target_names
from specc.spec.datasets import DATASETS, SEQ2SEQ_VOCAB, START_TOKEN
from specc.spec.load import LoadedSpec
from specc.spec.schema import BuiltinData, CsvData, Input, NpzData, Spec
from specc.spec.tasks import task_kind

__all__ = ["data_context"]

LINE_LENGTH = 100

# The largest 10**k that `Generator.choice` can draw distinct numbers below (int64).
_MAX_CHOICE_DIGITS = 18

_NP_DTYPES = {"float32": "np.float32", "int32": "np.int32", "int64": "np.int64"}


def data_context(spec: Spec | LoadedSpec, spec_dir: str | Path) -> dict[str, Any]:
    """Context for `templates/data.py.j2`.

    `spec_dir` is the folder of the spec file: CSV and NPZ paths are relative to it and are
    written into the generated code as absolute paths, so it runs from any folder.
    """
    spec = spec.spec if isinstance(spec, LoadedSpec) else spec
    return _context(spec, Path(spec_dir).resolve())


def _context(spec: Spec, spec_dir: Path) -> dict[str, Any]:
    data = spec.data
    task = spec.task
    float_inputs = [inp.name for inp in spec.model.inputs if inp.dtype == "float32"]
    scaled = float_inputs if data.preprocessing != "none" else []
    context: dict[str, Any] = {
        "spec_name": spec.name,
        "seed": spec.seed,
        "seed_comment": (
            "seed: drives the split and the generated examples"
            if isinstance(data, BuiltinData) and data.dataset.startswith("synthetic:")
            else "seed: drives the split"
        ),
        "task": task.type,
        "y_doc": _y_doc(spec),
        "input_names": _literal([inp.name for inp in spec.model.inputs], "INPUT_NAMES = "),
        # task
        "classes": _classes(spec),
        "outputs": _outputs(spec),
        # data.preprocessing
        "preprocessing": data.preprocessing,
        "scaled_inputs": _literal(scaled, "SCALED_INPUTS = ") if scaled else None,
        "preprocessing_comment": _preprocessing_comment(data.preprocessing, float_inputs),
        "no_stats_reason": (
            "data.preprocessing is none"
            if data.preprocessing == "none"
            else "no model input holds floats (token ids are never scaled)"
        ),
        # data.split
        **_split_context(spec),
        # the data source; each block sets `source`
        "synthetic": False,
        "reads_file": False,
    }
    if isinstance(data, BuiltinData) and data.dataset.startswith("sklearn:"):
        context.update(_sklearn_context(spec, data))
    elif isinstance(data, BuiltinData):
        context.update(_synthetic_context(spec, data))
    elif isinstance(data, CsvData):
        context.update(_csv_context(spec, data, spec_dir))
    else:
        context.update(_npz_context(spec, data, spec_dir))
    context["source_doc"] = _wrap(context["source_doc"])
    return context


# --------------------------------------------------------------------------- task and targets


def _classes(spec: Spec) -> int | None:
    return task_kind(spec).classes(spec.task)


def _outputs(spec: Spec) -> int | None:
    """Width of a float target: regression outputs or multilabel labels."""
    kind = task_kind(spec)
    return None if kind.class_targets else kind.target_columns(spec.task)


def _y_doc(spec: Spec) -> str:
    return task_kind(spec).target_doc(spec.task)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _seq2seq_y_doc(steps: int) -> str:
    return f"seq2seq -> the answer's token ids, int32 (n, {steps})"


# --------------------------------------------------------------------------- split and scaling


def _split_context(spec: Spec) -> dict[str, Any]:
    split = spec.data.split
    classification = task_kind(spec).class_targets
    stratify = classification and split.stratify and split.shuffle
    parts = [f"validation {float(split.validation):g}", f"test {float(split.test):g}"]
    if stratify:
        parts.append("stratified")
    elif classification and split.stratify:
        parts.append("not stratified (stratifying needs shuffling)")
    parts.append("shuffled" if split.shuffle else "in order, unshuffled")
    return {
        "split_comment": _comment(
            "data.split: " + ", ".join(parts) + " (fractions of all examples)"
        ),
        "validation_fraction": repr(float(split.validation)),
        "test_fraction": repr(float(split.test)),
        "has_validation": split.validation > 0,
        "shuffle": split.shuffle,
        # binary targets are (n, 1): the template stratifies on `labels = y[:, 0]`
        "stratify_on": (("labels" if spec.task.type == "binary" else "y") if stratify else None),
    }


def _preprocessing_comment(preprocessing: str, float_inputs: list[str]) -> str:
    if preprocessing == "none":
        return _comment("data.preprocessing: none (inputs reach the model unscaled)")
    if not float_inputs:
        return _comment(f"data.preprocessing: {preprocessing}, but no input holds floats")
    return _comment(
        f"data.preprocessing: {preprocessing} per last-axis channel of the float inputs, "
        "fitted on train only"
    )


# --------------------------------------------------------------------------- sources


def _input_context(inp: Input) -> dict[str, Any]:
    return {
        "name": inp.name,
        "key": _literal(inp.name),
        "np_dtype": _NP_DTYPES[inp.dtype],
        "dtype": inp.dtype,
        "shape": "(n, " + ", ".join(str(d) for d in inp.shape) + ")",
        "reshape": ", ".join(str(d) for d in inp.shape),
    }


def _sklearn_context(spec: Spec, data: BuiltinData) -> dict[str, Any]:
    inp = spec.model.inputs[0]  # the checks guarantee exactly one input of the right size
    info = DATASETS[data.dataset]
    loader, call, about = info.loader, info.loader_call, info.description
    return {
        "source": "sklearn",
        "dataset": data.dataset,
        "loader": loader,
        "loader_call": call,
        "raw_diabetes": data.dataset == "sklearn:diabetes",
        "input": _input_context(inp),
        "source_doc": f"Examples: {about} (`{data.dataset}`), read as one array `x`.",
    }


def _synthetic_context(spec: Spec, data: BuiltinData) -> dict[str, Any]:
    addition = data.dataset == "synthetic:addition"
    arrays = {"encoder_input": "questions" if addition else "sequences"}
    arrays["decoder_input"] = "decoder_input"
    inputs = [
        {**_input_context(inp), "variable": arrays[inp.source or inp.name]}
        for inp in spec.model.inputs
    ]
    context: dict[str, Any] = {
        "source": "addition" if addition else "reverse",
        "synthetic": True,
        "dataset": data.dataset,
        "samples": data.samples,
        "inputs": inputs,
        "vocab": _literal(SEQ2SEQ_VOCAB),
        "vocab_size": len(SEQ2SEQ_VOCAB),
        "pad_token": SEQ2SEQ_VOCAB.index(" "),
        "start_token": START_TOKEN,
    }
    if addition:
        example_a = int("123456"[: data.digits])
        example_b = int("45"[: data.digits])
        question = f"{example_a}+{example_b}".ljust(2 * data.digits + 1)
        answer = str(example_a + example_b).ljust(data.digits + 1)
        context.update(
            y_doc=_seq2seq_y_doc(data.digits + 1),
            digits=data.digits,
            example=f'"{question}" -> "{answer}"',
            source_doc=(
                f"Examples: {data.samples:,} generated additions (`synthetic:addition`) of two "
                f"numbers below 10**{data.digits} as token ids: a question such as "
                f"`{question.strip()}` in, its answer `{answer.strip()}` out, both padded with "
                "spaces."
            ),
        )
    else:
        digits = ("1234567890" * 7)[: data.length]
        shown, reversed_ = digits, digits[::-1]
        if data.length > 10:
            shown, reversed_ = f"{shown[:4]}...{shown[-2:]}", f"{reversed_[:4]}...{reversed_[-2:]}"
        context.update(
            y_doc=_seq2seq_y_doc(data.length),
            length=data.length,
            # `specc.spec.checks_data` caps samples at the 10**length strings there are
            distinct=data.length <= _MAX_CHOICE_DIGITS,
            example=f'"{shown}" -> "{reversed_}"',
            source_doc=(
                f"Examples: {data.samples:,} generated digit strings of length {data.length} "
                "(`synthetic:reverse`) and the same strings reversed, as token ids."
            ),
        )
    return context


def _csv_context(spec: Spec, data: CsvData, spec_dir: Path) -> dict[str, Any]:
    path = (spec_dir / data.path).resolve()
    targets = target_names(data)
    features = feature_names(data, spec_dir)
    inp = spec.model.inputs[0]  # the checks guarantee one input that the columns fill
    task = spec.task
    class_names = getattr(task, "class_names", None)
    return {
        "source": "csv",
        "reads_file": True,
        "path": _path_literal(path, "CSV_PATH = "),
        "delimiter": _literal(data.delimiter),
        "feature_columns": _literal(features, "FEATURE_COLUMNS = "),
        "features_comment": (
            "data.features" if data.features else "data.features: every column but the targets"
        ),
        "target_columns": _literal(targets, "TARGET_COLUMNS = "),
        "class_names": _literal(class_names, "CLASS_NAMES = ") if class_names else None,
        "input": _input_context(inp),
        "source_doc": (
            f"Examples: the rows of `{path.name}` (data.path): "
            f"{_plural(len(features), 'feature column')} as the model input `{inp.name}`, "
            f"{_plural(len(targets), 'target column')}: {', '.join(targets)}."
        ),
    }


def _npz_context(spec: Spec, data: NpzData, spec_dir: Path) -> dict[str, Any]:
    path = (spec_dir / data.path).resolve()
    inputs = spec.model.inputs
    variable = any(d is None for inp in inputs for d in inp.shape)
    return {
        "source": "npz",
        "reads_file": True,
        "path": _path_literal(path, "NPZ_PATH = "),
        "input_arrays": _literal(
            {inp.name: inp.source or inp.name for inp in inputs}, "INPUT_ARRAYS = "
        ),
        "input_shapes": _literal({inp.name: tuple(inp.shape) for inp in inputs}, "INPUT_SHAPES = "),
        "input_dtypes": _literal({inp.name: inp.dtype for inp in inputs}, "INPUT_DTYPES = "),
        "target_array": _literal(data.target),
        "variable_axes": variable,
        "source_doc": (
            f"Examples: the arrays of `{path.name}` (data.path), one per model input, and the "
            f"targets `{data.target}`."
        ),
    }


# --------------------------------------------------------------------------- Python literals


def _literal(value: Any, prefix: str = "") -> str:
    """Source of `value` as `ruff format` writes it after `prefix` (e.g. "NAME = "): on one line
    if it fits, else one item per line with a trailing comma."""
    flat = _flat(value)
    if len(prefix) + len(flat) <= LINE_LENGTH or not isinstance(value, (list, tuple, dict)):
        return flat
    if isinstance(value, dict):
        items = [f"{_flat(key)}: {_flat(item)}" for key, item in value.items()]
    else:
        items = [_flat(item) for item in value]
    opening, closing = {dict: "{}", list: "[]", tuple: "()"}[type(value)]
    return opening + "\n" + "".join(f"    {item},\n" for item in items) + closing


def _flat(value: Any) -> str:
    if isinstance(value, str):
        text = repr(value)
        if text.startswith("'") and '"' not in value:
            text = '"' + text[1:-1].replace("\\'", "'") + '"'
        return text
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_flat(k)}: {_flat(v)}" for k, v in value.items()) + "}"
    if isinstance(value, tuple):
        inner = ", ".join(_flat(item) for item in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, list):
        return "[" + ", ".join(_flat(item) for item in value) + "]"
    return repr(value)


def _path_literal(path: Path, prefix: str) -> str:
    """`Path("...")` of an absolute path; a long one is split into adjacent string literals."""
    text = path.as_posix()
    single = f"Path({_flat(text)})"
    if len(prefix) + len(single) <= LINE_LENGTH:
        return single
    chunks: list[str] = []
    for part in text.split("/"):
        piece = part if not chunks else "/" + part
        if chunks and len(chunks[-1]) + len(piece) <= LINE_LENGTH - 10:
            chunks[-1] += piece
        else:
            chunks.append(piece)
    return "Path(\n" + "".join(f"    {_flat(chunk)}\n" for chunk in chunks) + ")"


def _comment(text: str) -> str:
    """`# ` comment lines of `text`, wrapped to the line length."""
    return "\n".join("# " + line for line in textwrap.wrap(text, LINE_LENGTH - 2))


def _wrap(text: str) -> str:
    """Docstring paragraph wrapped to the line length."""
    return "\n".join(textwrap.wrap(text, LINE_LENGTH - 4, break_on_hyphens=False))
