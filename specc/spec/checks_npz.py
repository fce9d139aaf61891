"""Checks of an npz `data` section against its archives: every array the spec reads exists, is
numeric, fits its model input (shape, integer ids for integer inputs) or the task (targets), and
the arrays of one split have one length each; the same for a given test split (`data.test`).

Shapes and dtypes come from the `.npy` headers (`specc.spec.npzfile.read_arrays`: no data is
read). Class labels are read, since their range is a fact of the data, not of a header: one value
per example (or per step of a target sequence), at most `LABEL_READ_LIMIT` values. Arrays the
spec does not read are named in a warning: nothing in an archive is silently ignored.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from math import prod
from pathlib import Path

from .checks_base import check, warning
from .errors import SpecError, did_you_mean
from .npzfile import (
    NpzArray,
    NpzFileError,
    input_arrays,
    read_array,
    read_arrays,
    same_archive,
    test_archive,
    test_arrays,
)
from .schema import NpzData, Spec
from .tasks import task_kind

__all__ = ["LABEL_READ_LIMIT"]

LABEL_READ_LIMIT = 10_000_000
"""Largest target array (in values) whose labels `validate` reads to check their range; a larger
one is checked when the generated code loads it."""

_NUMERIC = "biuf"  # bool, signed and unsigned integers, floats
_INTEGER = "biu"


@dataclass(frozen=True)
class _Split:
    """One split's archive as the checks see it: where errors point, and the names read."""

    label: str  # `training` or `test`
    path: Path
    where: tuple  # spec path of the archive (data.path, data.test or data.test.path)
    names: dict[str, str]  # array read -> the training array it stands for


def _splits(spec: Spec, base_dir: Path) -> list[_Split]:
    data = spec.data
    read = [*dict.fromkeys(input_arrays(spec).values()), data.target]
    splits = [_Split("training", base_dir / data.path, ("data", "path"), {n: n for n in read})]
    if data.test is not None:
        where = ("data", "test", "path") if data.test.path else ("data", "test")
        names = {test: train for train, test in test_arrays(spec).items()}
        splits.append(_Split("test", base_dir / test_archive(data), where, names))
    return splits


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.samefile(b)
    except OSError:
        return False


def _listing(arrays: dict[str, NpzArray]) -> str:
    shown = ", ".join(f"{a.name} {list(a.shape)} {a.dtype}" for a in list(arrays.values())[:8])
    return shown + (", ..." if len(arrays) > 8 else "")


@check
def npz_arrays_fit(spec: Spec, base_dir: Path) -> Iterator[SpecError]:
    data = spec.data
    if not isinstance(data, NpzData) or not (base_dir / data.path).is_file():
        return  # `data_files_exist` reports a missing training archive
    for split in _splits(spec, base_dir):
        if not split.path.is_file():
            yield SpecError(
                split.where, f"file not found: {split.path}", "paths are relative to the spec file"
            )
            continue
        if (
            split.label == "test"
            and not same_archive(data)
            and _same_file(split.path, base_dir / data.path)
        ):
            yield SpecError(
                split.where,
                f"the test archive is the training archive, {Path(data.path).name}, under another "
                "name: the test split would read the training arrays",
                "`test: {}` reads NAME_test arrays from the training archive",
            )
            continue
        try:
            arrays = read_arrays(split.path)
        except NpzFileError as exc:
            yield SpecError(split.where, str(exc), "save it with numpy.savez")
            continue
        yield from _split_fits(spec, split, arrays)


def _split_fits(spec: Spec, split: _Split, arrays: dict[str, NpzArray]) -> Iterator[SpecError]:
    data = spec.data
    test = split.label == "test"
    found: dict[str, NpzArray] = {}
    for name, train_name in split.names.items():
        if name in arrays:
            found[name] = arrays[name]
            continue
        role = "the targets" if train_name == data.target else None
        if role is None:
            readers = [i for i, a in input_arrays(spec).items() if a == train_name]
            role = f"input `{readers[0]}`"
        if test:
            where, what = split.where, f"the test split of {role}, in place of `{train_name}`"
        elif role == "the targets":
            where, what = ("data", "target"), "the targets"
        else:
            where, what = _input_path(spec, train_name), role
        hint = did_you_mean(name, arrays) or f"it holds {_listing(arrays)}"
        if test and not same_archive(data):
            hint += "; another archive's test split is read with the training arrays' names"
        elif test:
            hint += "; `test: {}` reads NAME_test in place of NAME or NAME_train"
        if not test and where[-1] == "name":  # the default array of an input without `source`
            hint += "; `source` names the array an input reads"
        yield SpecError(where, f"{split.path.name} has no array `{name}`, read for {what}", hint)
    for name, array in found.items():
        train_name = split.names[name]
        where = split.where if test else None
        if array.dtype.kind not in _NUMERIC:
            yield SpecError(
                where or _array_path(spec, train_name),
                f"array `{name}` of {split.path.name} holds {array.dtype} values, not numbers",
                "store numbers: strings, objects and complex values cannot be model data",
            )
        elif not array.shape:
            yield SpecError(
                where or _array_path(spec, train_name),
                f"array `{name}` of {split.path.name} is a single value (0-d), not one row per "
                "example",
            )
        elif train_name == data.target:
            yield from _target_fits(spec, split, array, where or ("data", "target"))
    for inp_index, inp in enumerate(spec.model.inputs):
        name = next(n for n, t in split.names.items() if t == input_arrays(spec)[inp.name])
        array = found.get(name)
        if array is None or array.dtype.kind not in _NUMERIC or not array.shape:
            continue
        yield from _input_fits(spec, split, inp_index, array)
    rows = {name: a.rows for name, a in found.items() if a.shape}
    if len(set(rows.values())) > 1:
        shown = ", ".join(f"{name} {count}" for name, count in rows.items())
        yield SpecError(
            split.where,
            f"the {split.label} arrays of {split.path.name} differ in length: {shown}",
            "every array holds one row per example",
        )
    elif rows and next(iter(rows.values())) == 0:
        yield SpecError(split.where, f"the {split.label} arrays of {split.path.name} are empty")


def _input_path(spec: Spec, array: str) -> tuple:
    for i, source in enumerate(input_arrays(spec).values()):
        if source == array:
            inp = spec.model.inputs[i]
            return ("model", "inputs", i, "source" if inp.source else "name")
    return ("data", "path")


def _array_path(spec: Spec, array: str) -> tuple:
    return ("data", "target") if array == spec.data.target else _input_path(spec, array)


def _input_fits(spec: Spec, split: _Split, i: int, array: NpzArray) -> Iterator[SpecError]:
    inp = spec.model.inputs[i]
    test = split.label == "test"
    per_example = list(array.shape[1:])
    if None in inp.shape:
        fits = len(per_example) == len(inp.shape) and all(
            want in (None, have) for want, have in zip(inp.shape, per_example, strict=True)
        )
        hint = "a variable axis (null) matches any length; fixed axes must match one by one"
    else:
        fits = prod(per_example) == prod(inp.shape)
        hint = f"set `shape: {per_example or [1]}`" if per_example else "store one row per example"
    if not fits:
        yield SpecError(
            split.where if test else ("model", "inputs", i, "shape"),
            f"array `{array.name}` of {split.path.name} has shape {list(array.shape)}: "
            f"{per_example} per example, which does not fit input `{inp.name}` of shape "
            f"{list(inp.shape)}",
            None if test else hint,
        )
    if inp.dtype != "float32" and array.dtype.kind not in _INTEGER:
        yield SpecError(
            split.where if test else ("model", "inputs", i, "dtype"),
            f"input `{inp.name}` is {inp.dtype} (integer ids), but array `{array.name}` of "
            f"{split.path.name} holds {array.dtype}",
            "store integer ids (e.g. array.astype(np.int32)), or set `dtype: float32`",
        )


def _target_fits(spec: Spec, split: _Split, array: NpzArray, where: tuple) -> Iterator[SpecError]:
    task = spec.task
    kind = task_kind(task)
    per_example = list(array.shape[1:])
    width = kind.target_columns(task)
    name = f"array `{array.name}` of {split.path.name}"
    if width is None:  # seq2seq: a sequence of token ids per example
        if len(per_example) != 1:
            yield SpecError(
                where,
                f"{name} has shape {list(array.shape)}: a seq2seq target is one sequence of "
                "token ids per example, shape (examples, steps)",
            )
            return
    elif prod(per_example) != width:
        what = {
            "regression": f"{width} value{'s' if width != 1 else ''} (task.outputs)",
            "multilabel": f"{width} 0/1 labels (task.labels)",
        }.get(task.type, "one label")
        yield SpecError(
            where,
            f"{name} has shape {list(array.shape)}, but a {task.type} task reads {what} per "
            "example",
        )
        return
    if task.type == "regression":
        return
    if prod(array.shape) > LABEL_READ_LIMIT:
        return  # checked when the generated code loads it
    yield from _labels_fit(spec, split, array, where)


def _labels_fit(spec: Spec, split: _Split, array: NpzArray, where: tuple) -> Iterator[SpecError]:
    import numpy as np

    task = spec.task
    try:
        values = np.asarray(read_array(split.path, array.name), dtype=np.float64).ravel()
    except NpzFileError as exc:
        yield SpecError(where, str(exc))
        return
    values = values[np.isfinite(values)]  # missing values are data.missing's concern
    name = f"array `{array.name}` of {split.path.name}"
    if task.type in ("binary", "multilabel"):
        if not np.isin(values, (0.0, 1.0)).all():
            bad = values[~np.isin(values, (0.0, 1.0))][:3]
            yield SpecError(
                where,
                f"{name} holds {', '.join(f'{v:g}' for v in bad)}: {task.type} labels are 0 or 1",
            )
        return
    top = task.classes if task.type == "multiclass" else task.vocab_size
    what = "class ids" if task.type == "multiclass" else "token ids"
    field = "classes" if task.type == "multiclass" else "vocab_size"
    if not np.array_equal(values, np.round(values)):
        yield SpecError(where, f"{name} holds fractions: {what} are whole numbers")
    elif values.size and (values.min() < 0 or values.max() >= top):
        yield SpecError(
            where,
            f"{name} holds {what} {values.min():g}..{values.max():g}, but task.{field} is "
            f"{top}: ids lie in 0..{top - 1}",
            f"set `{field}: {int(values.max()) + 1}`" if values.min() >= 0 else None,
        )


@warning
def npz_arrays_unread(spec: Spec, base_dir: Path) -> Iterator[SpecError]:
    """Arrays of an archive that no input, target or test split reads."""
    data = spec.data
    if not isinstance(data, NpzData):
        return
    splits = _splits(spec, base_dir)
    read_from: dict[Path, set[str]] = {}
    for split in splits:
        read_from.setdefault(split.path, set()).update(split.names)
    reported = set()
    for split in splits:
        if split.path in reported:
            continue
        reported.add(split.path)
        try:
            arrays = read_arrays(split.path)
        except (NpzFileError, OSError):
            continue  # an error of the checks
        unread = [name for name in arrays if name not in read_from[split.path]]
        if not unread:
            continue
        hint = "read them through a model input's `source`, or leave them out of the archive"
        if data.test is None:  # a test set in the archive, unread: `test: {}` would read it
            with_test = spec.model_copy(update={"data": _with_test(data)})
            test_names = set(test_arrays(with_test).values())
            if test_names <= set(unread):
                hint = f"`test: {{}}` reads {', '.join(sorted(test_names))} as the test split"
        where = ("data", "path") if split.label == "training" else split.where
        yield SpecError(
            where,
            f"{split.path.name} holds {len(unread)} array{'s' if len(unread) != 1 else ''} this "
            f"spec does not read, ignored: {', '.join(unread)}",
            hint,
        )


def _with_test(data: NpzData) -> NpzData:
    from .schema import NpzTest

    return data.model_copy(update={"test": NpzTest()})
