"""Test-split metrics computed from model outputs with numpy (for comparing float and int8).

Classification tasks report `accuracy` and `loss` (cross-entropy), regression `r2`, `mae`,
`mse`; the headline metric (`accuracy` or `r2`) is what a quantization's allowed drop applies to.
"""

from __future__ import annotations

import numpy as np

__all__ = ["headline_metric", "task_metrics"]

_EPS = 1e-7


def headline_metric(task: str) -> str:
    """The metric whose drop is bounded: `r2` for regression, `accuracy` otherwise."""
    return "r2" if task == "regression" else "accuracy"


def _bce(p: np.ndarray, y: np.ndarray) -> float:
    p = np.clip(p.astype(np.float64), _EPS, 1 - _EPS)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def _r2(y: np.ndarray, pred: np.ndarray) -> float:
    ss_res = ((y - pred) ** 2).sum(axis=0)
    ss_tot = ((y - y.mean(axis=0)) ** 2).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        per = np.where(ss_tot > 0, 1.0 - ss_res / np.where(ss_tot > 0, ss_tot, 1.0), 0.0)
    return float(per.mean())


def task_metrics(
    task: str, y: np.ndarray, pred: np.ndarray, threshold: float = 0.5
) -> dict[str, float]:
    """Metrics of `pred` (the primary model output) against targets `y`."""
    y = np.asarray(y)
    pred = np.asarray(pred)
    n = pred.shape[0]
    if task == "regression":
        yt = y.reshape(n, -1).astype(np.float64)
        yp = pred.reshape(n, -1).astype(np.float64)
        if yt.shape != yp.shape:
            raise ValueError(f"targets {y.shape} do not match predictions {pred.shape}")
        err = yp - yt
        return {
            "r2": _r2(yt, yp),
            "mae": float(np.abs(err).mean()),
            "mse": float((err**2).mean()),
        }
    if task == "binary":
        p = pred.reshape(n, -1)[:, 0].astype(np.float64)
        yt = y.reshape(n, -1)[:, 0].astype(np.float64)
        return {"accuracy": float(np.mean((p > threshold) == (yt > 0.5))), "loss": _bce(p, yt)}
    if task == "multilabel":
        p = pred.reshape(n, -1).astype(np.float64)
        yt = y.reshape(n, -1).astype(np.float64)
        return {"accuracy": float(np.mean((p > threshold) == (yt > 0.5))), "loss": _bce(p, yt)}
    if task in ("multiclass", "seq2seq"):
        classes = pred.shape[-1]
        p = pred.reshape(-1, classes).astype(np.float64)
        if y.ndim == pred.ndim and y.shape[-1] == classes and task == "multiclass":
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
    raise ValueError(f"unknown task {task!r}")
