"""Model input/output descriptions and the checks that turn user data into an onnxruntime feed.

`TensorSpec` describes one graph input or output (name, shape with `None` for free dimensions,
numpy dtype). `InputChecker` validates and casts what the user passes (one ndarray for a
single-input model, or a dict name -> array) and raises `PredictorInputError` with what the
model expects and what it got. Lossless casts (int -> float when exact, int64 -> int32 when the
values fit, integral floats -> int) and float64 -> float32 are done silently; anything else is
an error. Float inputs holding NaN or inf are refused with `NonFiniteInputError` (naming the input
and counting the values) unless the caller allows them: a model turns them into NaN outputs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import NonFiniteInputError, PredictorInputError

__all__ = [
    "InputChecker",
    "TensorSpec",
    "all_finite",
    "cast_array",
    "describe_array",
    "nonfinite_error",
]

_ORT_TYPES: dict[str, Any] = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(float16)": np.float16,
    "tensor(int8)": np.int8,
    "tensor(int16)": np.int16,
    "tensor(int32)": np.int32,
    "tensor(int64)": np.int64,
    "tensor(uint8)": np.uint8,
    "tensor(uint16)": np.uint16,
    "tensor(uint32)": np.uint32,
    "tensor(uint64)": np.uint64,
    "tensor(bool)": np.bool_,
    "tensor(string)": np.object_,
}

# Largest integer magnitude that a float type holds exactly.
_EXACT_INT = {np.dtype(np.float16): 2**11, np.dtype(np.float32): 2**24, np.dtype(np.float64): 2**53}


@dataclass(frozen=True)
class TensorSpec:
    """One graph input or output: name, shape (`None` = any size; axis 0 is the batch) and dtype."""

    name: str
    shape: tuple[int | None, ...]
    dtype: np.dtype
    onnx_type: str = ""
    dim_names: tuple[str | None, ...] = ()

    @classmethod
    def from_ort(cls, node: Any) -> TensorSpec:
        """Build from an onnxruntime `NodeArg` (`session.get_inputs()[i]`)."""
        dims: list[int | None] = []
        names: list[str | None] = []
        for d in node.shape or ():
            if isinstance(d, int) and d >= 0:
                dims.append(d)
                names.append(None)
            else:
                dims.append(None)
                names.append(d if isinstance(d, str) else None)
        dtype = np.dtype(_ORT_TYPES.get(node.type, np.float32))
        return cls(node.name, tuple(dims), dtype, node.type, tuple(names))

    @property
    def rank(self) -> int:
        return len(self.shape)

    @property
    def sample_shape(self) -> tuple[int | None, ...]:
        """The shape of one example (without the batch axis)."""
        return self.shape[1:]

    @property
    def is_fixed(self) -> bool:
        """True when every axis but the batch axis has a fixed size."""
        return all(d is not None for d in self.shape[1:])

    def shape_str(self) -> str:
        parts = []
        for i, d in enumerate(self.shape):
            if d is not None:
                parts.append(str(d))
            elif i == 0:
                parts.append("batch")
            else:
                parts.append("?")
        return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"

    def describe(self) -> str:
        """E.g. `pixels: (batch, 8, 8, 1) float32`."""
        return f"{self.name}: {self.shape_str()} {self.dtype.name}"


def describe_array(x: np.ndarray) -> str:
    return f"{tuple(x.shape)} {x.dtype.name}"


_isfinite = np.isfinite
_count_nonzero = np.count_nonzero


def all_finite(x: np.ndarray) -> bool:
    """True when every value of the float array `x` is finite. Counting `np.isfinite` is
    cheaper than `.all()` on small arrays (no reduction machinery) and never warns (a sum would
    warn on inf - inf and on large finite values)."""
    return _count_nonzero(_isfinite(x)) == x.size


def nonfinite_error(name: str, x: np.ndarray) -> NonFiniteInputError:
    """The error for float input `name` holding NaN/inf (counted here, off the fast path)."""
    bad = ~np.isfinite(x)
    nan = int(np.isnan(x).sum())
    inf = int(bad.sum()) - nan
    rows = np.flatnonzero(bad.reshape(len(x), -1).any(axis=1)) if x.ndim else np.zeros(1, int)
    return NonFiniteInputError(
        f"input `{name}` holds {nan + inf} non-finite value(s) ({nan} NaN, {inf} inf) in "
        f"{rows.size} of {len(x) if x.ndim else 1} row(s) (first: row {int(rows[0])}); the "
        "model would output NaN for them: clean the data, or pass allow_nonfinite=True "
        "(`specc predict --allow-nonfinite`) to predict anyway"
    )


def _fail(spec: TensorSpec, x: np.ndarray, why: str) -> PredictorInputError:
    return PredictorInputError(
        f"input `{spec.name}` expects shape {spec.shape_str()} {spec.dtype.name}, "
        f"got {describe_array(x)}; {why}"
    )


def cast_array(x: np.ndarray, spec: TensorSpec) -> np.ndarray:
    """Return `x` in `spec.dtype` when the cast is safe; raise PredictorInputError otherwise."""
    src, dst = x.dtype, spec.dtype
    if src == dst:
        return x
    sk, dk = src.kind, dst.kind
    if sk in "OUSVMmc":
        raise _fail(spec, x, f"{src.name} values are not numeric; convert them to {dst.name}")
    if x.size == 0:
        return x.astype(dst)
    if dk == "f":
        if sk == "f" or sk == "b":
            return x.astype(dst)
        limit = _EXACT_INT.get(dst, 2**24)
        lo, hi = int(x.min()), int(x.max())
        if max(abs(lo), abs(hi)) <= limit:
            return x.astype(dst)
        raise _fail(
            spec, x, f"integers beyond ±{limit} are not exact in {dst.name}; cast them yourself"
        )
    if dk in "iu":
        info = np.iinfo(dst)
        if sk == "b":
            return x.astype(dst)
        if sk == "f":
            if not np.all(np.isfinite(x)):
                raise _fail(spec, x, "it holds NaN or infinite values")
            if not np.all(np.floor(x) == x):
                bad = float(x[np.floor(x) != x].flat[0])
                raise _fail(spec, x, f"it holds non-integer values (e.g. {bad!r})")
        lo, hi = x.min(), x.max()
        if lo < info.min or hi > info.max:
            raise _fail(
                spec, x, f"values {lo}..{hi} do not fit {dst.name} ({info.min}..{info.max})"
            )
        return x.astype(dst)
    if dk == "b":
        if sk in "iuf" and np.all((x == 0) | (x == 1)):
            return x.astype(dst)
        raise _fail(spec, x, "only 0/1 values convert to bool")
    raise _fail(spec, x, f"cannot convert {src.name} to {dst.name}")


def _shape_hint(spec: TensorSpec, x: np.ndarray, feature_names: Sequence[str]) -> str | None:
    """Why `x.shape` does not fit `spec`, with a way out; None when it fits."""
    shape = x.shape
    if len(shape) == spec.rank and all(
        d is None or d == s for d, s in zip(spec.shape[1:], shape[1:], strict=True)
    ):
        if spec.shape and spec.shape[0] is not None and shape[0] != spec.shape[0]:
            return f"the model's batch size is fixed at {spec.shape[0]}"
        return None
    sample = spec.shape[1:]
    if len(shape) == spec.rank - 1 and all(
        d is None or d == s for d, s in zip(sample, shape, strict=True)
    ):
        return "this looks like one example without the batch axis; pass x[np.newaxis]"
    if spec.rank == 2 and len(shape) == 2 and sample[0] is not None:
        hint = f"expected {sample[0]} features per row, got {shape[1]}"
        if feature_names:
            shown = ", ".join(feature_names[:8]) + (", ..." if len(feature_names) > 8 else "")
            hint += f" (features: {shown})"
        return hint
    if spec.is_fixed and len(shape) >= 1:
        per_sample = math.prod(d for d in sample if d is not None)
        if per_sample and x.size and x.size % per_sample == 0:
            target = ", ".join(str(d) for d in (x.size // per_sample, *sample))
            dims = ", ".join(str(d) for d in sample)
            return f"reshape to ({target}): x.reshape(-1, {dims})"
    return f"expected {spec.rank} axes (batch first), got {len(shape)}"


class InputChecker:
    """Validates user data against the model's inputs and builds the onnxruntime feed."""

    def __init__(self, specs: Sequence[TensorSpec], feature_names: Sequence[str] = ()) -> None:
        self.specs = tuple(specs)
        self.names = tuple(s.name for s in self.specs)
        self.feature_names = tuple(feature_names)
        self._by_name = {s.name: s for s in self.specs}

    def expected(self) -> str:
        return "; ".join(s.describe() for s in self.specs)

    def _as_array(self, value: Any, spec: TensorSpec) -> np.ndarray:
        if isinstance(value, np.ndarray):
            return value
        try:
            return np.asarray(value)
        except Exception as exc:  # noqa: BLE001 - ragged lists and the like
            raise PredictorInputError(
                f"input `{spec.name}` could not be turned into an array ({exc}); "
                f"expected {spec.shape_str()} {spec.dtype.name}"
            ) from exc

    def to_mapping(self, x: Any) -> dict[str, Any]:
        """Name the user's data: an array for a single-input model, or a dict."""
        if isinstance(x, Mapping):
            missing = [n for n in self.names if n not in x]
            extra = [str(k) for k in x if k not in self._by_name]
            if missing or extra:
                parts = []
                if missing:
                    parts.append("missing " + ", ".join(f"`{n}`" for n in missing))
                if extra:
                    parts.append("unknown " + ", ".join(f"`{n}`" for n in extra))
                raise PredictorInputError(
                    f"{' and '.join(parts)} input(s); the model takes {self.expected()}"
                )
            return {n: x[n] for n in self.names}
        if len(self.specs) != 1:
            raise PredictorInputError(
                f"the model has {len(self.specs)} inputs; pass a dict name -> array with "
                f"{self.expected()}"
            )
        return {self.names[0]: x}

    def check(self, x: Any, allow_nonfinite: bool = False) -> tuple[dict[str, np.ndarray], int]:
        """Validate and cast; return the feed and the batch size. Float inputs must be finite
        unless `allow_nonfinite`."""
        feed: dict[str, np.ndarray] = {}
        batch: int | None = None
        first = None
        for name, value in self.to_mapping(x).items():
            spec = self._by_name[name]
            arr = self._as_array(value, spec)
            if arr.ndim == 0:
                raise _fail(spec, arr, "a scalar has no batch axis")
            if arr.dtype.kind in "OUSVMmc" and arr.dtype != spec.dtype:
                cast_array(arr, spec)  # raises: not numeric
            hint = _shape_hint(spec, arr, self.feature_names)
            if hint is not None:
                raise _fail(spec, arr, hint)
            arr = cast_array(arr, spec)
            if not allow_nonfinite and arr.dtype.kind == "f" and not all_finite(arr):
                raise nonfinite_error(name, arr)
            if batch is None:
                batch, first = arr.shape[0], name
            elif arr.shape[0] != batch:
                raise PredictorInputError(
                    f"inputs disagree on the batch size: `{first}` has {batch} rows, "
                    f"`{name}` has {arr.shape[0]}"
                )
            feed[name] = arr
        if not batch:
            raise PredictorInputError("empty batch: the input has 0 rows")
        return feed, batch
