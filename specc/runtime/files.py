"""Reading model inputs from files and writing predictions (used by `specc predict`).

Inputs:

- `.npy`: one array, for single-input models.
- `.npz`: one array per model input, keyed by input name (other keys such as the target `y`
  of `test_data.npz` are ignored).
- `.csv`: a header row naming the feature columns. The columns listed in the model's
  `specc.feature_names` metadata are picked by name, in the model's order (the file may hold
  them in any order, and extra columns); without that metadata the file must hold exactly the
  model's features, in order.

Outputs: CSV or JSON, chosen by the output file's extension.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
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


def read_inputs(path: str | os.PathLike[str], predictor: Predictor) -> Any:
    """Read `path` into what `predictor.predict` takes (an array or a dict name -> array)."""
    p = Path(path)
    if not p.is_file():
        raise InputFileError(f"input file not found: {p}")
    suffix = p.suffix.lower()
    names = predictor.input_names
    if suffix == ".npy":
        if len(names) != 1:
            raise InputFileError(
                f"{p.name}: a .npy file holds one array, but the model has {len(names)} inputs "
                f"({', '.join(names)}); use a .npz keyed by input name"
            )
        try:
            return np.load(p, allow_pickle=False)
        except (ValueError, OSError) as exc:
            raise InputFileError(f"{p.name}: not a readable .npy file ({exc})") from exc
    if suffix == ".npz":
        try:
            with np.load(p, allow_pickle=False) as data:
                keys = list(data.files)
                missing = [n for n in names if n not in keys]
                if missing:
                    raise InputFileError(
                        f"{p.name}: missing array(s) {', '.join(f'`{m}`' for m in missing)}; "
                        f"the file has {', '.join(f'`{k}`' for k in keys) or 'no arrays'}, the "
                        f"model takes {', '.join(f'`{n}`' for n in names)}"
                    )
                return {n: data[n] for n in names}
        except InputFileError:
            raise
        except (ValueError, OSError) as exc:
            raise InputFileError(f"{p.name}: not a readable .npz file ({exc})") from exc
    if suffix == ".csv":
        if len(names) != 1:
            raise InputFileError(
                f"{p.name}: CSV input needs a single-input model; this one takes "
                f"{', '.join(names)} (use a .npz keyed by input name)"
            )
        spec = predictor.inputs[0]
        width = spec.shape[1] if spec.rank == 2 else None
        if width is None:
            raise InputFileError(
                f"{p.name}: CSV rows fit models whose input is (batch, features); "
                f"`{spec.name}` is {spec.shape_str()} (use .npy or .npz)"
            )
        return read_csv(p, predictor.metadata.feature_names, width)
    raise InputFileError(
        f"{p.name}: unsupported input type `{suffix or '(none)'}`; "
        f"use one of {', '.join(INPUT_SUFFIXES)}"
    )


def read_csv(path: Path, feature_names: tuple[str, ...] | list[str], width: int) -> np.ndarray:
    """Read a CSV with a header into a float64 array with the model's feature columns."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.reader(fh))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError(f"{path.name}: cannot read CSV ({exc})") from exc
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if not rows:
        raise InputFileError(f"{path.name}: the CSV file is empty")
    header = [h.strip() for h in rows[0]]
    body = rows[1:]
    if not body:
        raise InputFileError(f"{path.name}: the CSV has a header but no rows")
    if feature_names:
        if len(feature_names) != width:
            raise InputFileError(
                f"model metadata lists {len(feature_names)} feature names but the input takes "
                f"{width} features"
            )
        position = {name: i for i, name in enumerate(header)}
        missing = [f for f in feature_names if f not in position]
        if missing:
            shown = ", ".join(f"`{m}`" for m in missing[:10])
            more = f" (and {len(missing) - 10} more)" if len(missing) > 10 else ""
            raise InputFileError(
                f"{path.name}: missing column(s) {shown}{more}; the model needs "
                f"{width} columns: {', '.join(feature_names)}"
            )
        columns = [position[f] for f in feature_names]
    else:
        if len(header) != width:
            raise InputFileError(
                f"{path.name}: the model records no feature names, so the CSV must hold exactly "
                f"its {width} feature columns in order; it has {len(header)}"
            )
        columns = list(range(width))
    names = [header[c] for c in columns]
    out = np.empty((len(body), len(columns)), dtype=np.float64)
    for r, row in enumerate(body):
        if len(row) < len(header):
            raise InputFileError(
                f"{path.name}: line {r + 2} has {len(row)} fields, the header has {len(header)}"
            )
        for j, c in enumerate(columns):
            cell = row[c].strip()
            try:
                value = float(cell)
            except ValueError:
                raise InputFileError(
                    f"{path.name}: line {r + 2}, column `{names[j]}`: "
                    f"{cell!r} is not a number" + (" (empty cell)" if not cell else "")
                ) from None
            if math.isnan(value):
                raise InputFileError(
                    f"{path.name}: line {r + 2}, column `{names[j]}`: missing value (NaN)"
                )
            out[r, j] = value
    return out


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
