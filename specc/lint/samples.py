"""How many examples a spec's data holds, known without loading it (no numpy).

Built-in datasets say so in their records (`specc.spec.datasets`): a fixed count for the
scikit-learn ones (for a subset of classes, `data.classes`, their share of it),
`data.samples` for the generated ones. A CSV file's records are counted with
the standard `csv` module; an npz archive's target array length is read from its `.npy` header
(the first bytes of one member of the zip). Anything unreadable gives None: the rules that need
a count then stay silent, and the data checks of `validate` report the file itself.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from specc.spec.datasets import DATASETS

__all__ = ["example_count"]

_NPY_MAGIC = b"\x93NUMPY"


def example_count(spec: Any, base_dir: Path) -> int | None:
    """Examples before the split, or None when they cannot be counted cheaply."""
    data = spec.data
    if data.type == "builtin":
        record = DATASETS[data.dataset]
        if record.examples is None:
            return data.samples
        if getattr(data, "classes", None) and record.classes:  # a subset: about its share
            return round(record.examples * len(data.classes) / record.classes)
        return record.examples
    import struct
    import zipfile

    path = Path(base_dir) / data.path
    try:
        if data.type == "csv":
            return _csv_records(path, data.delimiter)
        return _npz_length(path, data.target)
    except (
        OSError,
        ValueError,
        KeyError,
        AttributeError,
        csv.Error,
        zipfile.BadZipFile,
        SyntaxError,
        struct.error,
    ):
        return None


def _csv_records(path: Path, delimiter: str) -> int:
    with open(path, newline="", encoding="utf-8-sig") as file:
        rows = sum(1 for row in csv.reader(file, delimiter=delimiter) if row)
    return max(rows - 1, 0)  # the header row


def _npz_length(path: Path, name: str) -> int | None:
    import ast
    import struct
    import zipfile

    with zipfile.ZipFile(path) as archive, archive.open(f"{name}.npy") as member:
        head = member.read(10)
        if not head.startswith(_NPY_MAGIC):
            return None
        major = head[6]
        if major == 1:
            (size,) = struct.unpack("<H", head[8:10])
            header = member.read(size)
        else:
            (size,) = struct.unpack("<I", head[8:10] + member.read(2))
            header = member.read(size)
    shape = ast.literal_eval(header.decode("latin1").strip()).get("shape")
    return int(shape[0]) if isinstance(shape, tuple) and shape else None
