"""The result of `Predictor.predict`: raw outputs plus task-aware views computed on first access.

Construction is two attribute stores, so `predict` costs barely more than `run`; probabilities,
labels and records are derived lazily from the primary (first) output:

| task | `probabilities` | `label_indices` | `labels` |
| --- | --- | --- | --- |
| multiclass | (n, C) softmax | (n,) argmax | class names (or indices) |
| binary | (n, 2): 1 - p, p | (n,) p > threshold | class names (or 0/1) |
| multilabel | (n, L) sigmoids | (n, L) bool, p > threshold | list of active label names |
| seq2seq | (n, T, V) softmax | (n, T) argmax token ids | strings (vocabulary known) or ids |
| regression | None | None | None (see `values`) |
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Decoder", "Prediction"]


@dataclass
class Decoder:
    """Per-model facts needed to read outputs (made once per predictor)."""

    task: str | None
    class_names: tuple[str, ...]
    threshold: float
    output_names: tuple[str, ...]
    primary: str
    _tables: dict[int, tuple[tuple[str, ...], np.ndarray]] = field(default_factory=dict)

    def table(self, width: int) -> tuple[tuple[str, ...], np.ndarray]:
        """Column names and the label lookup array for `width` classes: the metadata's class
        names when there are `width` of them, else "0", "1", ... with integer labels."""
        found = self._tables.get(width)
        if found is None:
            if len(self.class_names) == width:
                found = (tuple(self.class_names), np.asarray(self.class_names, dtype=object))
            else:  # no names in the metadata: the indices are the labels
                found = (tuple(str(i) for i in range(width)), np.arange(width))
            self._tables[width] = found
        return found


_MISSING = object()


def _columns(name: str, width: int) -> list[str]:
    return [name] if width == 1 else [f"{name}_{j}" for j in range(width)]


def _scalar(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


class Prediction:
    """Outputs of one `predict` call. `outputs` maps output name -> array (batch first)."""

    __slots__ = ("outputs", "_d", "_cache")

    def __init__(self, outputs: dict[str, np.ndarray], decoder: Decoder) -> None:
        self.outputs = outputs
        self._d = decoder
        self._cache: dict[str, Any] | None = None

    # ------------------------------------------------------------------ basics
    @property
    def task(self) -> str | None:
        return self._d.task

    @property
    def threshold(self) -> float:
        return self._d.threshold

    @property
    def primary(self) -> np.ndarray:
        """The first output (the one probabilities and labels are read from)."""
        return self.outputs[self._d.primary]

    def __len__(self) -> int:
        return int(self.primary.shape[0])

    def __repr__(self) -> str:
        shapes = ", ".join(f"{k}: {tuple(v.shape)}" for k, v in self.outputs.items())
        return f"Prediction(task={self.task!r}, n={len(self)}, outputs={{{shapes}}})"

    def _cached(self, key: str, fn: Any) -> Any:
        cache = self._cache
        if cache is None:
            cache = self._cache = {}
        value = cache.get(key, _MISSING)
        if value is _MISSING:
            value = cache[key] = fn()
        return value

    @property
    def class_names(self) -> tuple[str, ...]:
        """Class (or label) names: from the model's metadata, else "0", "1", ..."""
        return self._cached("class_names", self._class_names)

    def _class_names(self) -> tuple[str, ...]:
        task = self.task
        if task not in ("binary", "multiclass", "multilabel"):
            return self._d.class_names
        width = 2 if task == "binary" else int(self.primary.shape[-1])
        return self._d.table(width)[0]

    # ------------------------------------------------------------------ views
    @property
    def values(self) -> np.ndarray:
        """The primary output as is (regression: the predicted values)."""
        return self.primary

    @property
    def probabilities(self) -> np.ndarray | None:
        """Class probabilities (binary: two columns); None for regression or unknown tasks."""
        return self._cached("probabilities", self._probabilities)

    def _probabilities(self) -> np.ndarray | None:
        task, p = self.task, self.primary
        if task == "binary":
            p1 = p.reshape(p.shape[0], -1)[:, :1]
            return np.concatenate([1.0 - p1, p1], axis=1)
        if task in ("multiclass", "multilabel", "seq2seq"):
            return p
        return None

    @property
    def label_indices(self) -> np.ndarray | None:
        """Predicted class indices (multilabel: bool matrix of active labels)."""
        return self._cached("label_indices", self._label_indices)

    def _label_indices(self) -> np.ndarray | None:
        task, p = self.task, self.primary
        if task == "binary":
            return (p.reshape(p.shape[0], -1)[:, 0] > self.threshold).astype(np.int64)
        if task in ("multiclass", "seq2seq"):
            return p.argmax(axis=-1)
        if task == "multilabel":
            return p > self.threshold
        return None

    @property
    def labels(self) -> Any:
        """Predicted labels as class names where the model has them, else indices (multilabel:
        a list of lists; seq2seq: decoded strings when the vocabulary is known, else token ids);
        None for regression."""
        return self._cached("labels", self._labels)

    def _labels(self) -> Any:
        idx = self.label_indices
        if idx is None:
            return None
        task = self._d.task
        if task == "multiclass":
            return self._d.table(self.primary.shape[-1])[1][idx]
        if task == "binary":
            return self._d.table(2)[1][idx]
        if task == "multilabel":
            names = self._d.table(self.primary.shape[-1])[1]
            return [[_scalar(v) for v in names[row]] for row in idx]
        vocab = self._d.class_names  # seq2seq
        if len(vocab) != self.primary.shape[-1]:
            return idx
        return ["".join(vocab[t] for t in row) for row in idx.reshape(idx.shape[0], -1)]

    # ------------------------------------------------------------------ records
    def to_records(self) -> list[dict[str, Any]]:
        """One dict per example, ready for CSV or JSON.

        Classifiers: `label` (multilabel: `labels`, joined with `;`) and `prob_<class>` per
        class. seq2seq: `tokens` (space-separated ids). Regression and unknown tasks: one column
        per output value (`<output>` or `<output>_<j>`).
        """
        task = self.task
        n = len(self)
        if task in ("binary", "multiclass"):
            labels = self.labels
            probs = self.probabilities
            cols = [f"prob_{c}" for c in self.class_names]
            return [
                {"label": _scalar(labels[i]), **dict(zip(cols, map(float, probs[i]), strict=True))}
                for i in range(n)
            ]
        if task == "multilabel":
            labels = self.labels
            probs = self.probabilities
            cols = [f"prob_{c}" for c in self.class_names]
            return [
                {
                    "labels": ";".join(map(str, labels[i])),
                    **dict(zip(cols, map(float, probs[i]), strict=True)),
                }
                for i in range(n)
            ]
        if task == "seq2seq":
            ids = self.label_indices.reshape(n, -1)
            labels = self.labels
            texts = labels if isinstance(labels, list) else None
            records = []
            for i in range(n):
                rec: dict[str, Any] = {"tokens": " ".join(str(int(t)) for t in ids[i])}
                if texts is not None:
                    rec["text"] = texts[i]
                records.append(rec)
            return records
        flat: list[tuple[list[str], np.ndarray]] = []
        for name in self._d.output_names:
            arr = self.outputs[name].reshape(n, -1)
            flat.append((_columns(name, arr.shape[1]), arr))
        records = []
        for i in range(n):
            rec: dict[str, Any] = {}
            for cols, arr in flat:
                rec.update(zip(cols, (_scalar(v) for v in arr[i]), strict=True))
            records.append(rec)
        return records
