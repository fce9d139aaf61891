"""Test-split metrics of each task kind, computed from model outputs with numpy.

Classification tasks report `accuracy` and `loss` (cross-entropy), regression `r2`, `mae`,
`mse`. The records in `specc.spec.tasks` name these functions and import this module only when
a metric is computed, so validating a spec never imports numpy.
"""

from __future__ import annotations

import numpy as np

__all__ = ["binary", "multiclass", "multilabel", "regression", "seq2seq"]

_EPS = 1e-7


def _bce(p: np.ndarray, y: np.ndarray) -> float:
    p = np.clip(p.astype(np.float64), _EPS, 1 - _EPS)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def _r2(y: np.ndarray, pred: np.ndarray) -> float:
    ss_res = ((y - pred) ** 2).sum(axis=0)
    ss_tot = ((y - y.mean(axis=0)) ** 2).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        per = np.where(ss_tot > 0, 1.0 - ss_res / np.where(ss_tot > 0, ss_tot, 1.0), 0.0)
    return float(per.mean())


def regression(y: np.ndarray, pred: np.ndarray, threshold: float = 0.5) -> dict[str, float]:
    """R^2 (mean over outputs), mean absolute and mean squared error."""
    del threshold  # a regression has none
    n = pred.shape[0]
    yt = y.reshape(n, -1).astype(np.float64)
    yp = pred.reshape(n, -1).astype(np.float64)
    if yt.shape != yp.shape:
        raise ValueError(f"targets {y.shape} do not match predictions {pred.shape}")
    err = yp - yt
    return {"r2": _r2(yt, yp), "mae": float(np.abs(err).mean()), "mse": float((err**2).mean())}


def binary(y: np.ndarray, pred: np.ndarray, threshold: float = 0.5) -> dict[str, float]:
    """Accuracy at `threshold` and binary cross-entropy of the first output column."""
    n = pred.shape[0]
    p = pred.reshape(n, -1)[:, 0].astype(np.float64)
    yt = y.reshape(n, -1)[:, 0].astype(np.float64)
    return {"accuracy": float(np.mean((p > threshold) == (yt > 0.5))), "loss": _bce(p, yt)}


def multilabel(y: np.ndarray, pred: np.ndarray, threshold: float = 0.5) -> dict[str, float]:
    """Per-label accuracy at `threshold` and binary cross-entropy, averaged over labels."""
    n = pred.shape[0]
    p = pred.reshape(n, -1).astype(np.float64)
    yt = y.reshape(n, -1).astype(np.float64)
    return {"accuracy": float(np.mean((p > threshold) == (yt > 0.5))), "loss": _bce(p, yt)}


def _softmax_metrics(y: np.ndarray, pred: np.ndarray, one_hot_ok: bool) -> dict[str, float]:
    classes = pred.shape[-1]
    p = pred.reshape(-1, classes).astype(np.float64)
    if one_hot_ok and y.ndim == pred.ndim and y.shape[-1] == classes:
        yt = y.reshape(-1, classes).argmax(axis=1)  # one-hot targets
    else:
        yt = y.reshape(-1).astype(np.int64)
    if yt.shape[0] != p.shape[0]:
        raise ValueError(f"targets {y.shape} do not match predictions {pred.shape}")
    picked = np.clip(p[np.arange(p.shape[0]), np.clip(yt, 0, classes - 1)], _EPS, 1.0)
    return {
        "accuracy": float(np.mean(p.argmax(axis=1) == yt)),
        "loss": float(-np.mean(np.log(picked))),
    }


def multiclass(y: np.ndarray, pred: np.ndarray, threshold: float = 0.5) -> dict[str, float]:
    """Accuracy and sparse categorical cross-entropy; one-hot targets are accepted too."""
    del threshold  # the most probable class wins
    return _softmax_metrics(y, pred, one_hot_ok=True)


def seq2seq(y: np.ndarray, pred: np.ndarray, threshold: float = 0.5) -> dict[str, float]:
    """Token accuracy and cross-entropy over every step (teacher forced)."""
    del threshold
    return _softmax_metrics(y, pred, one_hot_ok=False)
