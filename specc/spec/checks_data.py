"""Cross-field checks of the `data` section: built-in datasets against the task and the model
inputs, data files that must exist with the columns the spec names, CSV columns against the task
and the input shape, and inputs that can be scaled. Every data problem code generation could
meet is found here, so `specc validate` reports it and code generation never fails on it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from .checks_base import check, warning
from .checks_subset import picked_classes
from .csvfile import CsvHeaderError, feature_names, read_header, target_names
from .datasets import DATASETS, SYNTHETIC_PARAMETERS
from .errors import SpecError, did_you_mean
from .names import layer_names, layer_reads
from .schema import BuiltinData, CsvData, NpzData, Spec
from .tasks import decoder_input, task_kind

__all__ = ["DATASETS"]


def _size(shape: list[int | None]) -> int:
    """Elements of a shape; a variable axis counts as 0 (it fills no fixed number of columns)."""
    size = 1
    for dim in shape:
        size *= dim or 0
    return size


@check
def builtin_data_fits(spec: Spec, _: Path) -> Iterator[SpecError]:
    data = spec.data
    if not isinstance(data, BuiltinData):
        return
    info = DATASETS[data.dataset]
    if info.task != spec.task.type:
        yield SpecError(
            ("task", "type"),
            f"dataset `{data.dataset}` is a {info.task} dataset, but the task is {spec.task.type}",
            f"set `task.type: {info.task}`",
        )
    elif spec.task.type == "multiclass" and spec.task.classes != picked_classes(data):
        yield SpecError(
            ("task", "classes"),
            f"dataset `{data.dataset}` has {info.classes} classes, got {spec.task.classes}"
            if data.classes is None
            else f"`data.classes` picks {len(data.classes)} classes, got {spec.task.classes}",
            f"set `classes: {picked_classes(data)}`",
        )
    elif spec.task.type == "seq2seq" and spec.task.vocab_size != len(info.vocab or ""):
        yield SpecError(
            ("task", "vocab_size"),
            f"dataset `{data.dataset}` has a vocabulary of {len(info.vocab or '')} tokens, "
            f"got {spec.task.vocab_size}",
            f"set `vocab_size: {len(info.vocab or '')}`",
        )
    if info.synthetic:
        yield from _synthetic_fits(spec, data)
        return
    for name in SYNTHETIC_PARAMETERS:
        # the default value is accepted: the resolved spec (lock file) writes it out
        if getattr(data, name) != _default(name):
            yield SpecError(
                ("data", name),
                f"`{name}` applies only to synthetic datasets, got `{name}: "
                f"{getattr(data, name)}` for `{data.dataset}`",
                "remove it",
            )
    (array,) = info.arrays(data)
    features = _size(list(array.shape))
    inputs = spec.model.inputs
    if len(inputs) != 1:
        yield SpecError(
            ("model", "inputs"),
            f"dataset `{data.dataset}` provides one input array, the model declares {len(inputs)}",
        )
        return
    if inputs[0].source not in (None, array.name):
        yield SpecError(
            ("model", "inputs", 0, "source"),
            f"dataset `{data.dataset}` provides one array, `{array.name}`, "
            f"not `{inputs[0].source}`",
            f"remove `source` or set `source: {array.name}`",
        )
    size = _size(inputs[0].shape)
    if size != features:
        yield SpecError(
            ("model", "inputs", 0, "shape"),
            f"dataset `{data.dataset}` has {features} features per example, but shape "
            f"{list(inputs[0].shape)} holds {size}",
            f"use a shape whose product is {features}, e.g. [{features}]",
        )


def _default(name: str) -> object:
    return BuiltinData.model_fields[name].default


def _synthetic_fits(spec: Spec, data: BuiltinData) -> Iterator[SpecError]:
    info = DATASETS[data.dataset]
    distinct = info.max_samples(data)
    if data.samples > distinct:
        yield SpecError(
            ("data", "samples"),
            f"`{data.dataset}` has only {distinct:,} distinct examples with these settings, "
            f"got samples: {data.samples}",
            f"use at most {distinct}: repeated examples would put training questions in the "
            "test split",
        )
    for name in SYNTHETIC_PARAMETERS:
        value = getattr(data, name)
        if name not in info.parameters and value != _default(name):
            shown = str(value).lower() if isinstance(value, bool) else value
            yield SpecError(
                ("data", name),
                f"`{name}` does not apply to `{data.dataset}`, got `{name}: {shown}`",
                f"remove it; `{data.dataset}` reads {', '.join(info.parameters)}",
            )
    lengths = {array.name: array.shape[0] for array in info.arrays(data)}
    sources = {inp.source or inp.name: i for i, inp in enumerate(spec.model.inputs)}
    for array, length in lengths.items():
        if array == "decoder_input" and array not in sources:
            continue  # a decoder that reads no previous token (RepeatVector-style) needs none
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
def test_split_given_once(spec: Spec, _: Path) -> Iterator[SpecError]:
    """A test split comes from a fraction of the examples or from `data.test`: one of them."""
    data = spec.data
    given = getattr(data, "test", None) is not None
    split = data.split
    if given and "test" in split.model_fields_set and split.test != 0:
        yield SpecError(
            ("data", "split", "test"),
            f"`data.test` gives the test split, so a test fraction cannot be held out too, got "
            f"test: {split.test}",
            "remove `split.test`: validation is then taken from the training data only",
        )
    elif not given and split.test == 0:
        yield SpecError(
            ("data", "split", "test"),
            "test: 0 leaves no test split for the final metrics and the ONNX check",
            "give a fraction, e.g. 0.15"
            + ("" if isinstance(data, BuiltinData) else ", or a test file in `data.test`"),
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
        yield from _csv_fits(spec, data, path)
        if data.test is not None:
            yield from _csv_test_fits(data, base_dir)


def _csv_fits(spec: Spec, data: CsvData, path: Path) -> Iterator[SpecError]:
    """The CSV header names the columns the spec reads, and they fit the task and the input."""
    try:
        header = read_header(path, data.delimiter)
    except CsvHeaderError as exc:
        yield SpecError(("data", "path"), str(exc))
        return
    targets = target_names(data)
    wanted = [("target", t) for t in targets] + [("features", f) for f in data.features or []]
    for field, column in wanted:
        if column not in header:
            yield SpecError(
                ("data", field),
                f"column `{column}` is not in the CSV header",
                did_you_mean(column, header) or f"columns: {', '.join(header[:12])}",
            )
    features = list(data.features) if data.features else [c for c in header if c not in targets]
    both = [name for name in features if name in targets]
    if both:
        yield SpecError(("data", "features"), f"column `{both[0]}` is both a feature and a target")
    elif not features:
        yield SpecError(("data", "features"), f"{path.name} has no column left for features")
    yield from _csv_targets_fit(spec, len(targets))
    inputs = spec.model.inputs
    for i, inp in enumerate(inputs):
        if inp.source not in (None, "x"):
            yield SpecError(
                ("model", "inputs", i, "source"),
                f"a CSV file provides one array, `x` (the feature columns), not `{inp.source}`",
                "remove `source`",
            )
    if len(inputs) != 1:
        yield SpecError(
            ("model", "inputs"),
            f"a CSV file provides one feature array, the model declares {len(inputs)} inputs",
        )
    elif features and not both and _size(inputs[0].shape) != len(features):
        yield SpecError(
            ("model", "inputs", 0, "shape"),
            f"{len(features)} feature columns do not fill shape {list(inputs[0].shape)}",
            f"use a fixed shape whose product is {len(features)}, e.g. [{len(features)}]",
        )


def _csv_test_fits(data: CsvData, base_dir: Path) -> Iterator[SpecError]:
    """The test file exists and its header names every column training reads."""
    path = base_dir / data.test.path
    where = ("data", "test", "path")
    if not path.is_file():
        yield SpecError(where, f"file not found: {path}", "paths are relative to the spec file")
        return
    if path.samefile(base_dir / data.path):
        yield SpecError(
            where,
            f"the test file is the training file, {Path(data.path).name}: the test metrics would "
            "be measured on training examples",
            "give a file of examples kept apart, or remove `data.test` to hold out a fraction",
        )
        return
    try:
        header = read_header(path, data.delimiter)
        train = read_header(base_dir / data.path, data.delimiter)
    except CsvHeaderError as exc:
        yield SpecError(where, str(exc))
        return
    targets = target_names(data)
    wanted = list(data.features) if data.features else [c for c in train if c not in targets]
    absent = [c for c in [*wanted, *targets] if c not in header]
    if absent:
        shown = ", ".join(f"`{c}`" for c in absent[:6]) + (", ..." if len(absent) > 6 else "")
        yield SpecError(
            where,
            f"the test file {path.name} lacks column{'s' if len(absent) != 1 else ''} {shown} "
            f"of the training file {Path(data.path).name}",
            did_you_mean(absent[0], header) or f"its columns: {', '.join(header[:12])}",
        )


@warning
def seq2seq_decoder_input_unread(spec: Spec, _: Path) -> Iterator[SpecError]:
    """A seq2seq decoder input that no layer reads: the model (and `model.onnx`) would still
    take it, and greedy decoding would run the model once per answer step for nothing."""
    name = decoder_input(spec)
    if name is None:
        return
    names = layer_names(spec)
    if any(name in layer_reads(spec, names, i) for i in range(len(names))):
        return
    index = [inp.name for inp in spec.model.inputs].index(name)
    yield SpecError(
        ("model", "inputs", index),
        f"the decoder input `{name}` is read by no layer, yet model.onnx would require it",
        "remove it: a decoder that reads no previous answer token needs the source alone",
    )


@warning
def csv_test_columns_unread(spec: Spec, base_dir: Path) -> Iterator[SpecError]:
    """Columns of a CSV test file that training does not read."""
    data = spec.data
    if not isinstance(data, CsvData) or data.test is None:
        return
    try:
        header = read_header(base_dir / data.test.path, data.delimiter)
        read = set(target_names(data)) | set(feature_names(data, base_dir))
    except (CsvHeaderError, OSError):
        return  # an error of the checks
    unread = [name for name in header if name not in read]
    if unread:
        yield SpecError(
            ("data", "test", "path"),
            f"the test file {Path(data.test.path).name} has {_plural(len(unread), 'column')} "
            f"the training does not read, ignored: {', '.join(unread)}",
            "list the feature columns in `data.features`, or leave these out of the test file",
        )


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _csv_targets_fit(spec: Spec, count: int) -> Iterator[SpecError]:
    task = spec.task
    wanted = task_kind(task).target_columns(task)
    if wanted is None:
        yield SpecError(
            ("data", "type"), "a CSV file cannot hold token sequences", "use an npz archive"
        )
        return
    if count == wanted:
        return
    if task_kind(task).class_targets:
        message = f"a {task.type} task reads one target column (the labels), got {count}"
    else:
        width = _plural(wanted, "output" if task.type == "regression" else "label")
        message = f"a {task.type} task with {width} reads {_plural(wanted, 'target column')}"
        message += f", got {count}"
    yield SpecError(("data", "target"), message)


@check
def scaled_inputs_have_channels(spec: Spec, _: Path) -> Iterator[SpecError]:
    """Normalization works per last-axis channel, so a scaled input needs a fixed last axis."""
    if spec.data.preprocessing == "none":
        return
    for i, inp in enumerate(spec.model.inputs):
        if inp.dtype == "float32" and inp.shape[-1] is None:
            yield SpecError(
                ("model", "inputs", i, "shape"),
                f"float input `{inp.name}` is scaled per channel of its last axis, "
                "which has no fixed size",
                "give the last axis a size, or set `data.preprocessing: none`",
            )
