"""Reading model inputs from files and writing predictions (used by `specc predict`).

Inputs:

- `.npy`: one array, for single-input models.
- `.npz`: one array per model input, keyed by input name (other keys such as the target `y`
  of `test_data.npz` are ignored).
- `.csv`: a header row naming the feature columns. The columns listed in the model's
  `specc.feature_names` metadata are picked by name, in the model's order (the file may hold
  them in any order, and extra columns); a first row of numbers is refused there, never
  dropped as a header. Without that metadata the file must hold exactly the model's features,
  in order, and the header is optional (a first row of numbers is the first example).

Outputs: CSV or JSON, chosen by the output file's extension.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import zipfile
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import numpy as np

from .errors import InputFileError

if TYPE_CHECKING:
    from .prediction import Prediction
    from .predictor import Predictor

__all__ = ["INPUT_SUFFIXES", "OUTPUT_SUFFIXES", "read_csv", "read_inputs", "write_predictions"]

INPUT_SUFFIXES = (".npy", ".npz", ".csv")
OUTPUT_SUFFIXES = (".csv", ".json")


# What numpy raises on an empty, truncated or corrupt file (an empty file: EOFError).
_NPY_ERRORS = (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error)


def _nonempty(p: Path, name: str, arr: np.ndarray) -> np.ndarray:
    if arr.size == 0:
        what = f"array `{name}`" if name else "the array"
        raise InputFileError(
            f"{p.name}: {what} is empty (shape {tuple(arr.shape)}); there is nothing to predict"
        )
    return arr


def read_inputs(
    path: str | os.PathLike[str], predictor: Predictor, *, allow_nonfinite: bool = False
) -> Any:
    """Read `path` into what `predictor.predict` takes (an array or a dict name -> array).

    An empty or unreadable file, or an empty array, raises `InputFileError` naming the file.
    NaN/inf cells of a CSV are refused with their line and column unless `allow_nonfinite`
    (arrays are checked by the predictor).
    """
    p = Path(path)
    if not p.is_file():
        raise InputFileError(f"input file not found: {p}")
    suffix = p.suffix.lower()
    names = predictor.feed_names  # a seq2seq decoder input is filled by `predict` itself
    if suffix in (".npy", ".npz") and p.stat().st_size == 0:
        raise InputFileError(f"{p.name}: the file is empty (0 bytes); expected a {suffix} file")
    if suffix == ".npy":
        if len(names) != 1:
            raise InputFileError(
                f"{p.name}: a .npy file holds one array, but the model has {len(names)} inputs "
                f"({', '.join(names)}); use a .npz keyed by input name"
            )
        try:
            arr = np.load(p, allow_pickle=False)
        except _NPY_ERRORS as exc:
            raise InputFileError(f"{p.name}: not a readable .npy file ({_reason(exc)})") from exc
        if not isinstance(arr, np.ndarray):  # an .npz saved under a .npy name
            arr.close()
            raise InputFileError(f"{p.name}: this is an .npz archive; name it .npz")
        return _nonempty(p, "", arr)
    if suffix == ".npz":
        try:
            with np.load(p, allow_pickle=False) as data:
                if isinstance(data, np.ndarray):
                    raise InputFileError(f"{p.name}: this is a single .npy array; name it .npy")
                keys = list(data.files)
                missing = [n for n in names if n not in keys]
                if missing:
                    raise InputFileError(
                        f"{p.name}: missing array(s) {', '.join(f'`{m}`' for m in missing)}; "
                        f"the file has {', '.join(f'`{k}`' for k in keys) or 'no arrays'}, the "
                        f"model takes {', '.join(f'`{n}`' for n in names)}"
                    )
                every = [n for n in predictor.input_names if n in names or n in keys]
                return {n: _nonempty(p, n, data[n]) for n in every}
        except InputFileError:
            raise
        except _NPY_ERRORS as exc:
            raise InputFileError(f"{p.name}: not a readable .npz file ({_reason(exc)})") from exc
    if suffix == ".csv":
        if len(names) != 1:
            raise InputFileError(
                f"{p.name}: CSV input needs a single-input model; this one takes "
                f"{', '.join(names)} (use a .npz keyed by input name)"
            )
        spec = predictor.feed_inputs[0]
        width = spec.shape[1] if spec.rank == 2 else None
        if width is None:
            raise InputFileError(
                f"{p.name}: CSV rows fit models whose input is (batch, features); "
                f"`{spec.name}` is {spec.shape_str()} (use .npy or .npz)"
            )
        return read_csv(p, predictor.metadata.feature_names, width, allow_nonfinite=allow_nonfinite)
    raise InputFileError(
        f"{p.name}: unsupported input type `{suffix or '(none)'}`; "
        f"use one of {', '.join(INPUT_SUFFIXES)}"
    )


def _reason(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _numeric_row(row: list[str]) -> bool:
    """True when every non-empty cell is a number (and one is): data, not a header."""
    cells = [c.strip() for c in row if c.strip()]
    return bool(cells) and all(_is_number(c) for c in cells)


def read_csv(
    path: Path,
    feature_names: tuple[str, ...] | list[str],
    width: int,
    *,
    allow_nonfinite: bool = False,
) -> np.ndarray:
    """Read a CSV into a float64 array with the model's feature columns.

    With feature names (model metadata) the first row must be a header naming them; a first row
    of numbers is refused, never taken as a header. Without feature names the columns are taken
    in order, and a first row of numbers is data (a header is optional). A UTF-8 BOM is ignored
    and quoted fields follow the `csv` module's rules. NaN/inf cells are refused with their line
    and column unless `allow_nonfinite`.
    """
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            rows = [(i + 1, r) for i, r in enumerate(csv.reader(fh))]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputFileError(f"{path.name}: cannot read CSV ({exc})") from exc
    rows = [(n, r) for n, r in rows if any(cell.strip() for cell in r)]
    if not rows:
        raise InputFileError(f"{path.name}: the CSV file is empty")
    first_line, first = rows[0]
    headerless = _numeric_row(first)
    if feature_names:
        if len(feature_names) != width:
            raise InputFileError(
                f"model metadata lists {len(feature_names)} feature names but the input takes "
                f"{width} features"
            )
        header = [h.strip() for h in first]
        position = {name: i for i, name in enumerate(header)}
        missing = [f for f in feature_names if f not in position]
        if missing and headerless:
            raise InputFileError(
                f"{path.name}: line {first_line} holds numbers, but a header row is expected: "
                f"the model picks its {width} columns by name ({_shown(feature_names)})"
            )
        if missing:
            shown = ", ".join(f"`{m}`" for m in missing[:10])
            more = f" (and {len(missing) - 10} more)" if len(missing) > 10 else ""
            raise InputFileError(
                f"{path.name}: missing column(s) {shown}{more}; the model needs "
                f"{width} columns: {', '.join(feature_names)}"
            )
        columns = [position[f] for f in feature_names]
        names = list(feature_names)
        body = rows[1:]
    else:
        header = [h.strip() for h in first]
        if len(header) != width:
            raise InputFileError(
                f"{path.name}: the model records no feature names, so the CSV must hold exactly "
                f"its {width} feature columns in order; line {first_line} has {len(header)}"
            )
        columns = list(range(width))
        names = [f"#{c + 1}" for c in columns] if headerless else header
        body = rows if headerless else rows[1:]
    if not body:
        raise InputFileError(f"{path.name}: the CSV has a header but no rows")
    need = max(columns) + 1
    out = np.empty((len(body), len(columns)), dtype=np.float64)
    for r, (line, row) in enumerate(body):
        if len(row) < need:
            raise InputFileError(
                f"{path.name}: line {line} has {len(row)} fields, the header has {len(header)}"
            )
        for j, c in enumerate(columns):
            cell = row[c].strip()
            try:
                value = float(cell)
            except ValueError:
                raise InputFileError(
                    f"{path.name}: line {line}, column `{names[j]}`: "
                    f"{cell!r} is not a number" + (" (empty cell)" if not cell else "")
                ) from None
            if not allow_nonfinite and not math.isfinite(value):
                what = "missing value (NaN)" if math.isnan(value) else f"{cell!r} is infinite"
                raise InputFileError(
                    f"{path.name}: line {line}, column `{names[j]}`: {what}; clean the data, "
                    "or pass --allow-nonfinite to predict anyway"
                )
            out[r, j] = value
    return out


def _shown(names: tuple[str, ...] | list[str], limit: int = 8) -> str:
    return ", ".join(names[:limit]) + (", ..." if len(names) > limit else "")


def _json_value(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def records_to_csv(records: list[dict[str, Any]], fh: TextIO) -> None:
    if not records:
        return
    writer = csv.DictWriter(fh, fieldnames=list(records[0].keys()), lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)


def predictions_json(prediction: Prediction, predictor: Predictor) -> str:
    doc = {
        "model": str(predictor.path),
        "spec_name": predictor.metadata.spec_name,
        "task": prediction.task,
        "provider": predictor.provider,
        "class_names": list(prediction.class_names),
        "count": len(prediction),
        "predictions": [
            {k: _json_value(v) for k, v in rec.items()} for rec in prediction.to_records()
        ],
    }
    return json.dumps(doc, indent=2) + "\n"


def predictions_csv(prediction: Prediction) -> str:
    buf = io.StringIO()
    records_to_csv(prediction.to_records(), buf)
    return buf.getvalue()


def write_predictions(
    prediction: Prediction, predictor: Predictor, out: str | os.PathLike[str] | None
) -> str | None:
    """Write CSV or JSON by `out`'s extension (atomically); return the CSV text when `out` is
    None (the caller prints it)."""
    if out is None:
        return predictions_csv(prediction)
    target = Path(out)
    suffix = target.suffix.lower()
    if suffix == ".json":
        text = predictions_json(prediction, predictor)
    elif suffix == ".csv":
        text = predictions_csv(prediction)
    else:
        raise InputFileError(
            f"cannot tell the output format from `{target.name}`; use a .csv or .json file name"
        )
    from specc.atomic import write_text

    write_text(target, text)
    return None
