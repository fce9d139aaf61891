"""The one reader of NumPy `.npz` archives for the spec checks, and the rules that name the arrays
a spec reads.

`read_arrays` lists the arrays of an archive with their shapes and dtypes from the `.npy` headers
inside the zip file, without reading any data (cheap for big archives); `read_array` reads one
array (the checks read only class labels, one value per example), never unpickling objects.

Which array feeds which model input (`input_arrays`) and where the test split of an npz source
comes from (`test_arrays`, `test_archive`) are decided here, once, for the checks, code generation
and the lock file.
"""

from __future__ import annotations

import posixpath
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "NpzArray",
    "NpzFileError",
    "input_arrays",
    "read_array",
    "read_arrays",
    "same_archive",
    "test_archive",
    "test_array_name",
    "test_arrays",
]


class NpzFileError(ValueError):
    """An archive cannot be read: the message says why."""


@dataclass(frozen=True)
class NpzArray:
    """One array of an archive, from its header: name, shape and dtype (numpy's dtype object)."""

    name: str
    shape: tuple[int, ...]
    dtype: Any

    @property
    def rows(self) -> int | None:
        """Examples (the first axis), or None for a 0-d array."""
        return self.shape[0] if self.shape else None


def read_arrays(path: str | Path) -> dict[str, NpzArray]:
    """The arrays of the archive at `path`, in file order, read from their `.npy` headers only."""
    import numpy as np

    path = Path(path)
    try:
        if path.stat().st_size == 0:
            raise NpzFileError(f"{path.name} is empty (0 bytes), not an .npz archive")
        found: dict[str, NpzArray] = {}
        with zipfile.ZipFile(path) as archive:
            for member in archive.namelist():
                if not member.endswith(".npy"):
                    continue
                with archive.open(member) as file:
                    version = np.lib.format.read_magic(file)
                    read = (
                        np.lib.format.read_array_header_1_0
                        if version == (1, 0)
                        else np.lib.format.read_array_header_2_0
                    )
                    shape, _, dtype = read(file)
                name = member[: -len(".npy")]
                found[name] = NpzArray(name, tuple(int(d) for d in shape), dtype)
    except NpzFileError:
        raise
    except (OSError, zipfile.BadZipFile, ValueError, EOFError) as exc:
        raise NpzFileError(
            f"{path.name} is not a readable .npz archive ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else 'no detail'})"
        ) from None
    if not found:
        raise NpzFileError(f"{path.name} holds no arrays")
    return found


def read_array(path: str | Path, name: str):
    """Array `name` of the archive at `path` (objects are refused, never unpickled)."""
    import numpy as np

    try:
        with np.load(path, allow_pickle=False) as archive:
            return archive[name]
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        raise NpzFileError(f"cannot read array `{name}` of {Path(path).name}: {exc}") from None


def input_arrays(spec: Any) -> dict[str, str]:
    """Model input name -> the array it reads: its `source`; else `x` for a single input, and
    the input's own name for several."""
    inputs = spec.model.inputs
    default = (lambda inp: "x") if len(inputs) == 1 else (lambda inp: inp.name)
    return {inp.name: inp.source or default(inp) for inp in inputs}


def same_archive(data: Any) -> bool:
    """Whether the test split of an npz `data` section is read from the training archive: no
    `test.path`, or one that normalises to `data.path` (`./train.npz` is `train.npz`)."""
    if data.test is None:
        return False
    return data.test.path is None or posixpath.normpath(data.test.path) == posixpath.normpath(
        data.path
    )


def test_array_name(name: str, same: bool) -> str:
    """The array the test split reads in place of training array `name`: from another archive,
    `name` itself; from the training archive, `name` with a trailing `_train` replaced by `_test`
    (`x_train` -> `x_test`, as in `keras.datasets`), else `name` + `_test` (`x` -> `x_test`)."""
    if not same:
        return name
    return name[: -len("_train")] + "_test" if name.endswith("_train") else name + "_test"


def test_arrays(spec: Any) -> dict[str, str]:
    """Training array -> test array, for every array an npz spec with a given test split reads
    (the inputs' arrays, then the target)."""
    data = spec.data
    same = same_archive(data)
    names = [*dict.fromkeys(input_arrays(spec).values()), data.target]
    return {name: test_array_name(name, same) for name in names}


def test_archive(data: Any) -> str:
    """The path (as written in the spec) of the archive holding the given test split."""
    return data.test.path or data.path
