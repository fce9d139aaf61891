"""The context of `templates/data.py.j2`: names, constants and comments of the generated `data.py`.

Everything the templates need is decided here: which partial renders the data source
(`templates/data/<source>.py.j2`), which statistics helpers are included, the imports, and every
constant as finished source (literals laid out by `specc.codegen.pyfmt`). The templates only
place these values. What a task kind or a built-in dataset means comes from their records
(`specc.spec.tasks`, `specc.spec.datasets`); CSV columns from `specc.spec.csvfile`.

Nothing here raises on a spec: every problem of the data section is found by the spec checks
(`specc.spec.checks_data`) when the spec is validated.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from specc.spec.csvfile import feature_names, target_names
from specc.spec.datasets import DATASETS, SEQ2SEQ_VOCAB, START_TOKEN
from specc.spec.load import LoadedSpec
from specc.spec.npzfile import input_arrays, same_archive, test_archive, test_arrays
from specc.spec.schema import BuiltinData, CsvData, Input, NpzData, Spec
from specc.spec.tasks import task_kind

from .data_subset import subset_context
from .pyfmt import comment_lines, constant, literal, path_constant, wrap

__all__ = ["data_context"]

# The largest 10**k that `Generator.choice` can draw distinct numbers below (int64).
_MAX_CHOICE_DIGITS = 18

_NP_DTYPES = {"float32": "np.float32", "int32": "np.int32", "int64": "np.int64"}


def _title(name: str) -> str:
    """The module docstring's first line, naming the spec when it fits in the line length."""
    rest = "load every example, split, fit preprocessing statistics."
    title = f"Data of the `{name}` model: {rest}"
    return title if len(title) <= 97 else f"Data of the model: {rest}"


def data_context(spec: Spec | LoadedSpec, spec_dir: str | Path) -> dict[str, Any]:
    """Context for `templates/data.py.j2`.

    `spec_dir` is the folder of the spec file: CSV and NPZ paths are relative to it and are
    written into the generated code as absolute paths, so it runs from any folder.
    """
    spec = spec.spec if isinstance(spec, LoadedSpec) else spec
    spec_dir = Path(spec_dir).resolve()
    data = spec.data
    kind = task_kind(spec)
    synthetic = isinstance(data, BuiltinData) and DATASETS[data.dataset].synthetic
    context: dict[str, Any] = {
        "title": _title(spec.name),
        "seed": spec.seed,
        "seed_comment": (
            "seed: drives the split and the generated examples"
            if synthetic
            else "seed: drives the split"
        ),
        "task": kind.name,
        "y_doc": kind.target_doc(spec.task),
        "classes": kind.classes(spec.task),
        **_scaling_context(spec),
        **_split_context(spec),
    }
    if isinstance(data, BuiltinData) and synthetic:
        context.update(_synthetic_context(spec, data))
    elif isinstance(data, BuiltinData):
        context.update(_sklearn_context(spec, data))
    elif isinstance(data, CsvData):
        context.update(_csv_context(spec, data, spec_dir))
    else:
        context.update(_npz_context(spec, data, spec_dir))
    context.update(_missing_context(spec, data, spec_dir))
    context["source_template"] = f"data/{context['source']}.py.j2"
    context["source_doc"] = "\n".join(wrap(context["source_doc"], "    "))
    splits = context["has_validation"] or not context["given_test"]  # train_test_split is used
    context["imports"] = _imports(context["source"], context.pop("loader", None), splits)
    return context


def _imports(source: str, loader: str | None, splits: bool = True) -> str:
    """The import block, sorted as ruff's isort sorts it."""
    stdlib = ["from dataclasses import dataclass"]
    if source == "csv":
        stdlib[:0] = ["import csv", "import math"]
    if source in ("addition", "reverse"):
        stdlib.insert(0, "from collections.abc import Iterable")
    if source in ("csv", "npz"):
        stdlib.append("from pathlib import Path")
    third_party = ["import numpy as np"]
    if loader:
        third_party.append(f"from sklearn.datasets import {loader}")
    if splits:
        third_party.append("from sklearn.model_selection import train_test_split")
    return "\n".join(stdlib) + "\n\n" + "\n".join(third_party)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _comment(text: str) -> str:
    return "\n".join(comment_lines(text))


# --------------------------------------------------------------------------- split and scaling


def _split_context(spec: Spec) -> dict[str, Any]:
    split = spec.data.split
    given = getattr(spec.data, "test", None) is not None
    classification = task_kind(spec).class_targets
    stratify = classification and split.stratify and split.shuffle
    parts = [f"validation {float(split.validation):g}"]
    parts.append("test given (data.test)" if given else f"test {float(split.test):g}")
    if stratify:
        parts.append("stratified")
    elif classification and split.stratify:
        parts.append("not stratified (stratifying needs shuffling)")
    parts.append("shuffled" if split.shuffle else "in order, unshuffled")
    if split.shuffle:
        doc = (
            "Train, validation and test splits, shuffled with `seed`: the test split is drawn "
            "first,\n    then the validation split from the rest."
        )
    else:
        doc = (
            "Train, validation and test splits in example order (data.split.shuffle is false, "
            "so\n    `seed` is unused): the test split is taken first, then the validation split "
            "from the rest."
        )
    if given:
        doc = (
            "Train and validation splits of the training file's examples"
            + (", shuffled with `seed`" if split.shuffle else " in example order")
            + ";\n    the test split is given (data.test) and loaded apart."
        )
    binary = spec.task.type == "binary"
    return {
        "split_comment": _comment(
            "data.split: "
            + ", ".join(parts)
            + (" (fractions of the training file)" if given else " (fractions of all examples)")
        ),
        "given_test": given,
        "limit_per_class": False,  # a built-in dataset's subset sets it (data_subset.py)
        "split_template": "data/split_given.py.j2" if given else "data/split.py.j2",
        "split_doc": doc,
        "validation_fraction": repr(float(split.validation)),
        "test_fraction": repr(float(split.test)),
        "has_validation": split.validation > 0,
        "order_argument": "random_state=seed" if split.shuffle else "shuffle=False",
        # binary targets are (n, 1): the split stratifies on `labels = y[:, 0]`
        "stratify_labels": stratify and binary,
        "stratify_on": (("labels" if binary else "y") if stratify else None),
    }


def _scaling_context(spec: Spec) -> dict[str, Any]:
    """The preprocessing constants, the statistics helpers and the values `load_data` stores."""
    preprocessing = spec.data.preprocessing
    float_inputs = [inp.name for inp in spec.model.inputs if inp.dtype == "float32"]
    scaled = float_inputs if preprocessing != "none" else []
    if preprocessing == "none":
        comment = "data.preprocessing: none (inputs reach the model unscaled)"
    elif not float_inputs:
        comment = f"data.preprocessing: {preprocessing}, but no input holds floats"
    else:
        comment = (
            f"data.preprocessing: {preprocessing} per last-axis channel of the float inputs, "
            "fitted on train only"
        )
    constants = _comment(comment)
    helpers = []
    if scaled:
        constants += "\n" + constant("SCALED_INPUTS", scaled)
        helpers.append(f"data/{preprocessing}.py.j2")
    regression = spec.task.type == "regression"
    if regression:
        helpers.append("data/target_stats.py.j2")
    train = ["x_train" if scaled else "_", "y_train" if regression else "_"]
    return {
        "preprocessing_constants": constants,
        # the names `load_data` unpacks the training split into (None: it needs neither)
        "train_names": ", ".join(train) if scaled or regression else None,
        "statistics_templates": helpers,
        "preprocessing_value": "preprocessing_stats(x_train)" if scaled else "{}",
        "target_scaling_value": "target_stats(y_train)" if regression else "None",
    }


# --------------------------------------------------------------------------- sources


def _input_context(inp: Input) -> dict[str, Any]:
    return {
        "name": inp.name,
        "key": literal(inp.name),
        "np_dtype": _NP_DTYPES[inp.dtype],
        "dtype": inp.dtype,
        "shape": "(n, " + ", ".join(str(d) for d in inp.shape) + ")",
        "reshape": ", ".join(str(d) for d in inp.shape),
    }


def _sklearn_context(spec: Spec, data: BuiltinData) -> dict[str, Any]:
    inp = spec.model.inputs[0]  # the checks guarantee exactly one input of the right size
    info = DATASETS[data.dataset]
    class_ids = spec.task.type == "multiclass"
    return {
        "source": "sklearn",
        "loader": info.loader,
        "loader_call": info.loader_call,
        "loader_note": (
            "scaled=False: the raw measurements (the model learns its own scaling)"
            if "scaled=False" in info.loader_args
            else None
        ),
        "input": _input_context(inp),
        "targets": (
            "bunch.target.astype(np.int32)"
            if class_ids
            else "bunch.target.astype(np.float32).reshape(-1, 1)"
        ),
        "source_doc": f"Examples: {info.description} (`{data.dataset}`), read as one array `x`.",
        **subset_context(data, binary=spec.task.type == "binary"),
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
        "source": DATASETS[data.dataset].loader,
        "samples": data.samples,
        "inputs": inputs,
        "vocab": literal(SEQ2SEQ_VOCAB),
        "vocab_size": len(SEQ2SEQ_VOCAB),
        "start_token": START_TOKEN,
        # a model that reads no decoder input (RepeatVector-style) gets the source alone
        "teacher_forcing": "decoder_input" in {inp.source or inp.name for inp in spec.model.inputs},
    }
    if addition:
        example_a = int("123456"[: data.digits])
        example_b = int("45"[: data.digits])
        question = f"{example_a}+{example_b}".ljust(2 * data.digits + 1)
        answer = str(example_a + example_b).ljust(data.digits + 1)
        shown = question[::-1] if data.reverse_question else question
        operands = (
            "two numbers of 1 to {d} digits (each length equally likely)"
            if data.random_length
            else "two numbers below 10**{d}"
        ).format(d=data.digits)
        context.update(
            y_doc=f"seq2seq -> the answer's token ids, int32 (n, {data.digits + 1})",
            digits=data.digits,
            random_length=data.random_length,
            reverse_question=data.reverse_question,
            example=f'"{shown}" -> "{answer}"',
            source_doc=(
                f"Examples: {data.samples:,} generated additions (`synthetic:addition`) of "
                f"{operands} as token ids: a question such as `{question.strip()}` in"
                + (" (read backwards)" if data.reverse_question else "")
                + f", its answer `{answer.strip()}` out, both padded with spaces."
            ),
        )
    else:
        digits = ("1234567890" * 7)[: data.length]
        shown, reversed_ = digits, digits[::-1]
        if data.length > 10:
            shown, reversed_ = f"{shown[:4]}...{shown[-2:]}", f"{reversed_[:4]}...{reversed_[-2:]}"
        context.update(
            y_doc=f"seq2seq -> the answer's token ids, int32 (n, {data.length})",
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
    class_names = getattr(spec.task, "class_names", None)
    task = spec.task.type
    return {
        "source": "csv",
        "path": path_constant("CSV_PATH", path.as_posix()),
        "delimiter": literal(data.delimiter),
        "feature_columns": constant("FEATURE_COLUMNS", features),
        "features_comment": (
            "data.features" if data.features else "data.features: every column but the targets"
        ),
        "target_columns": constant("TARGET_COLUMNS", targets),
        "class_names": constant("CLASS_NAMES", class_names) if class_names else None,
        "test_path": (
            path_constant("TEST_CSV_PATH", (spec_dir / data.test.path).resolve().as_posix())
            if data.test
            else None
        ),
        "input": _input_context(inp),
        "y_np_dtype": "np.int32" if task == "multiclass" else "np.float32",
        "y_value": {"multiclass": "y", "binary": "y.reshape(-1, 1)"}.get(
            task, "y.astype(np.float32)"
        ),
        "source_doc": (
            f"Examples: the rows of `{path.name}` (data.path): "
            f"{_plural(len(features), 'feature column')} as the model input `{inp.name}`, "
            f"{_plural(len(targets), 'target column')}: {', '.join(targets)}"
            + (
                f"; the test split is given (data.test): the rows of `{Path(data.test.path).name}`."
                if data.test
                else "."
            )
        ),
    }


def _npz_context(spec: Spec, data: NpzData, spec_dir: Path) -> dict[str, Any]:
    path = (spec_dir / data.path).resolve()
    inputs = spec.model.inputs
    task = spec.task.type
    width = task_kind(spec).target_columns(spec.task)
    y_shape = {
        "multiclass": "len(target)",
        "binary": "len(target), 1",
        "seq2seq": "len(target), -1",
    }.get(task, f"len(target), {width}")
    arrays = input_arrays(spec)
    test: dict[str, Any] = {"test_path": None}
    if data.test is not None:
        names = test_arrays(spec)
        test = {
            "test_comment": _comment(
                "data.test: the given test split, "
                + (
                    "from the training archive (`NAME_train` -> `NAME_test`, else `NAME_test`)"
                    if same_archive(data)
                    else "from another archive, arrays of the same names"
                )
            ),
            "test_path": path_constant(
                "TEST_NPZ_PATH", (spec_dir / test_archive(data)).resolve().as_posix()
            ),
            "test_input_arrays": constant(
                "TEST_INPUT_ARRAYS", {name: names[a] for name, a in arrays.items()}
            ),
            "test_target_array": literal(names[data.target]),
        }
    return {
        **test,
        "source": "npz",
        "path": path_constant("NPZ_PATH", path.as_posix()),
        "input_arrays": constant("INPUT_ARRAYS", arrays),
        "input_shapes": constant("INPUT_SHAPES", {inp.name: tuple(inp.shape) for inp in inputs}),
        "input_dtypes": constant("INPUT_DTYPES", {inp.name: inp.dtype for inp in inputs}),
        "target_array": literal(data.target),
        "variable_axes": any(d is None for inp in inputs for d in inp.shape),
        "y_shape": y_shape,
        "y_np_dtype": "np.int32" if task in ("multiclass", "seq2seq") else "np.float32",
        "source_doc": (
            f"Examples: the arrays of `{path.name}` (data.path), one per model input, and the "
            f"targets `{data.target}`"
            + (
                f"; the test split is given (data.test), from `{Path(test_archive(data)).name}`."
                if data.test
                else "."
            )
        ),
    }


def _missing_context(
    spec: Spec, data: BuiltinData | CsvData | NpzData, spec_dir: Path
) -> dict[str, Any]:
    """What `templates/data/missing.py.j2` needs: the policy, and the words of its messages."""
    if isinstance(data, BuiltinData):
        return {"missing": None}  # built-in datasets have no missing values
    csv = isinstance(data, CsvData)
    float_inputs = [inp for inp in spec.model.inputs if inp.dtype == "float32"]
    imputed = ""
    if csv:
        imputed = constant("IMPUTED_COLUMNS", feature_names(data, spec_dir) if float_inputs else [])
    lines = {
        "error": "data.missing: error (a missing value stops the load)",
        "drop": "data.missing: drop (rows holding a missing value are dropped before the split)",
        "impute_mean": "data.missing: impute_mean (a missing feature gets its training mean)",
    }
    what = "empty, nan or inf cells" if csv else "NaN or inf values"
    constants = _comment(lines[data.missing]) + "\n" + constant("MISSING_VALUES", what)
    if data.missing == "impute_mean":
        constants += ("\n" + imputed if imputed else "") + "\n"
        constants += constant("IMPUTED_INPUTS", [inp.name for inp in float_inputs])
    return {
        "missing": data.missing,
        "missing_constants": constants,
        "missing_unit": "column" if csv else "array",
        "missing_rows": "data rows" if csv else "indices",
        "missing_row": "row + 1" if csv else "row",
    }
