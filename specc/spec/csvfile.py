"""The one reader of CSV headers: the data checks, code generation and the builder all read the
column names of a CSV data file here, with the standard `csv` module (quoted names, any
one-character delimiter) and a UTF-8 byte-order mark stripped."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

__all__ = ["CsvHeaderError", "feature_names", "read_header", "target_names"]


class CsvHeaderError(ValueError):
    """The header row of a CSV file cannot be read: the message says why."""


def read_header(path: str | Path, delimiter: str = ",") -> list[str]:
    """Column names of the header row of `path`, stripped of surrounding spaces."""
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as file:
            row = next(csv.reader(file, delimiter=delimiter), None)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise CsvHeaderError(f"cannot read the header of {path.name}: {exc}") from None
    header = [name.strip() for name in row or []]
    if not any(header):
        raise CsvHeaderError(f"{path.name} has no header row (the first line names the columns)")
    return header


def target_names(data: Any) -> list[str]:
    """The target columns of a CSV `data` section, as a list."""
    return [data.target] if isinstance(data.target, str) else list(data.target)


def feature_names(data: Any, base_dir: str | Path) -> list[str]:
    """The feature columns of a CSV `data` section: `data.features`, else every column of the
    header but the targets. `base_dir` is the folder `data.path` is relative to."""
    if data.features:
        return list(data.features)
    targets = target_names(data)
    header = read_header(Path(base_dir) / data.path, data.delimiter)
    return [name for name in header if name not in targets]
