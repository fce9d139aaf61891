"""Keras vs ONNX Runtime parity: the same inputs through both, every output compared.

A model whose outputs are not finite is never verified: NaN or inf in any output, on either
side, raises `NonFiniteOutputError` (an `ExportError`) with the counts, whatever the other side
computed (NaN is never taken as equal to NaN).

Heavy libraries are imported inside the functions, as in the rest of `specc.export`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from specc.excinfo import first_line

from .onnx_export import ExportError

if TYPE_CHECKING:  # pragma: no cover
    import keras
    import numpy as np

__all__ = ["NonFiniteOutputError", "ParityResult", "verify_parity"]


@dataclass(frozen=True)
class ParityResult:
    """Outcome of comparing Keras and ONNX Runtime outputs on the same inputs."""

    max_abs_diff: float
    """Largest |keras - onnx| over every element of every output."""
    atol: float
    """The effective tolerance the comparison used (scaled when `scale_by_output`)."""
    passed: bool
    """`max_abs_diff <= atol`."""
    n_examples: int
    """Number of examples (rows) compared."""
    per_output: dict[str, float] = field(default_factory=dict)
    """ONNX output name -> largest absolute difference on that output."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (a non-finite number, which a passing check never holds, is None)."""
        d = asdict(self)
        d["max_abs_diff"] = _finite_or_none(self.max_abs_diff)
        d["per_output"] = {k: _finite_or_none(v) for k, v in self.per_output.items()}
        return d


def _finite_or_none(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


class NonFiniteOutputError(ExportError):
    """Keras or ONNX Runtime gave NaN or inf outputs: nothing to verify, the model is broken.

    `counts` maps `(engine, output name)` to `(NaN count, inf count, total values)`, for every
    output that held a non-finite value.
    """

    def __init__(self, counts: dict[tuple[str, str], tuple[int, int, int]], n_examples: int):
        self.counts = dict(counts)
        self.n_examples = n_examples
        parts = [
            f"{engine} output {name!r}: {nan} NaN and {inf} inf of {total} values"
            for (engine, name), (nan, inf, total) in self.counts.items()
        ]
        super().__init__(
            f"non-finite outputs on {n_examples} examples ({'; '.join(parts)}); a model that "
            "outputs NaN/inf is not verified (look for NaN/inf in the training data, or a "
            "diverging training run: lower the learning rate)"
        )


def verify_parity(
    keras_model: keras.Model,
    onnx_path: str | Path,
    inputs: dict[str, np.ndarray],
    *,
    atol: float,
    scale_by_output: bool = False,
    batch_size: int = 256,
) -> ParityResult:
    """Run `inputs` (keyed by ONNX input name) through ONNX Runtime and Keras and compare.

    The ONNX inputs, in graph order, are fed to Keras in `keras_model.inputs` order, and the
    ONNX outputs are compared with `keras_model.outputs` in order. With `scale_by_output` the
    tolerance becomes `atol * max(1, max |keras output|)` (for regression outputs).
    """
    import numpy as np

    if not atol > 0:
        raise ExportError(f"atol must be positive, got {atol!r}")
    if batch_size < 1:
        raise ExportError(f"batch_size must be >= 1, got {batch_size!r}")
    session = _ort_session(onnx_path)
    feeds = _prepare_feeds(session, inputs)
    n = next(iter(feeds.values())).shape[0]
    out_names = [o.name for o in session.get_outputs()]

    diffs = dict.fromkeys(out_names, 0.0)
    bad: dict[tuple[str, str], tuple[int, int, int]] = {}
    keras_max = 0.0
    for start in range(0, n, batch_size):
        chunk = {k: v[start : start + batch_size] for k, v in feeds.items()}
        ort_outs = session.run(out_names, chunk)
        keras_outs = _keras_forward(keras_model, list(chunk.values()))
        if len(keras_outs) != len(ort_outs):
            raise ExportError(
                f"the Keras model has {len(keras_outs)} output(s) but the ONNX model "
                f"{str(onnx_path)!r} has {len(ort_outs)} {out_names}"
            )
        for name, k_out, o_out in zip(out_names, keras_outs, ort_outs, strict=True):
            k_out = np.asarray(k_out, dtype=np.float64)
            o_out = np.asarray(o_out, dtype=np.float64)
            if k_out.shape != o_out.shape:
                raise ExportError(
                    f"output {name!r}: Keras shape {k_out.shape} != ONNX shape {o_out.shape}; "
                    "the output order or names do not match the Keras model"
                )
            finite = _count_nonfinite(bad, name, k_out, o_out)
            if not finite or not k_out.size:
                continue
            diffs[name] = max(diffs[name], float(np.max(np.abs(k_out - o_out))))
            keras_max = max(keras_max, float(np.max(np.abs(k_out))))
    if bad:
        raise NonFiniteOutputError(bad, int(n))

    eff_atol = float(atol) * max(1.0, keras_max) if scale_by_output else float(atol)
    max_diff = max(diffs.values()) if diffs else 0.0
    return ParityResult(
        max_abs_diff=max_diff,
        atol=eff_atol,
        passed=bool(max_diff <= eff_atol),
        n_examples=int(n),
        per_output=diffs,
    )


def _ort_session(onnx_path: str | Path):
    import onnxruntime as ort

    path = Path(onnx_path)
    if not path.is_file():
        raise ExportError(f"ONNX file {str(path)!r} does not exist; export the model first")
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    try:
        return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    except Exception as exc:
        raise ExportError(
            f"ONNX Runtime cannot load {str(path)!r}: {first_line(exc)}; re-export the model"
        ) from None


def _prepare_feeds(session, inputs: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Inputs in ONNX graph order, cast to the dtypes the graph declares."""
    import numpy as np

    expected = session.get_inputs()
    names = [i.name for i in expected]
    missing = [n for n in names if n not in inputs]
    extra = sorted(set(inputs) - set(names))
    if missing or extra:
        raise ExportError(
            f"parity inputs must be keyed by the ONNX input names {names}; "
            f"missing {missing}, unexpected {extra}"
        )
    feeds: dict[str, np.ndarray] = {}
    for meta in expected:
        arr = np.asarray(inputs[meta.name])
        want = _ort_np_dtype(meta.type)
        if arr.dtype != want:
            if np.issubdtype(want, np.integer) and not np.issubdtype(arr.dtype, np.integer):
                raise ExportError(
                    f"input {meta.name!r} must be integer ({want}), got {arr.dtype} values"
                )
            arr = arr.astype(want)
        feeds[meta.name] = arr
    rows = {k: v.shape[0] if v.ndim else None for k, v in feeds.items()}
    if None in rows.values() or len(set(rows.values())) != 1:
        raise ExportError(f"all parity inputs need the same number of rows, got {rows}")
    if next(iter(rows.values())) == 0:
        raise ExportError("parity needs at least one example; the inputs are empty")
    return feeds


def _ort_np_dtype(ort_type: str):
    import numpy as np

    table = {
        "tensor(float)": np.float32,
        "tensor(double)": np.float64,
        "tensor(float16)": np.float16,
        "tensor(int64)": np.int64,
        "tensor(int32)": np.int32,
        "tensor(int16)": np.int16,
        "tensor(int8)": np.int8,
        "tensor(uint8)": np.uint8,
        "tensor(bool)": np.bool_,
    }
    if ort_type not in table:
        raise ExportError(f"unsupported ONNX input type {ort_type}")
    return np.dtype(table[ort_type])


def _keras_forward(model, arrays: list[np.ndarray]) -> list[np.ndarray]:
    import keras
    import numpy as np

    from ._convert import pack_inputs

    out = model(pack_inputs(model, arrays), training=False)
    return [np.asarray(keras.ops.convert_to_numpy(t)) for t in keras.tree.flatten(out)]


def _count_nonfinite(
    bad: dict[tuple[str, str], tuple[int, int, int]],
    name: str,
    keras_out: np.ndarray,
    onnx_out: np.ndarray,
) -> bool:
    """True when both outputs are all finite; otherwise add their NaN/inf counts to `bad`."""
    import numpy as np

    finite = True
    for engine, arr in (("Keras", keras_out), ("ONNX Runtime", onnx_out)):
        if np.isfinite(arr).all():
            continue
        finite = False
        nan, inf, total = bad.get((engine, name), (0, 0, 0))
        bad[(engine, name)] = (
            nan + int(np.isnan(arr).sum()),
            inf + int(np.isinf(arr).sum()),
            total + int(arr.size),
        )
    return finite
