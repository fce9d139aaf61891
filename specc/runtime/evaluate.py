"""Test-split metrics computed from model outputs with numpy (for comparing float and int8).

A thin front of the task records (`specc.spec.tasks`): classification tasks report `accuracy`
and `loss` (cross-entropy), regression `r2`, `mae`, `mse`; the headline metric (`accuracy` or
`r2`) is what a quantization's allowed drop applies to. The records are imported when first
used, so importing the runtime does not import the spec package (pydantic).
"""

from __future__ import annotations

import numpy as np

__all__ = ["headline_metric", "task_metrics"]


def headline_metric(task: str) -> str:
    """The metric whose drop is bounded: `r2` for regression, `accuracy` otherwise."""
    from specc.spec.tasks import task_kind

    return task_kind(task).headline


def task_metrics(
    task: str, y: np.ndarray, pred: np.ndarray, threshold: float = 0.5
) -> dict[str, float]:
    """Metrics of `pred` (the primary model output) against targets `y`."""
    from specc.spec.tasks import task_kind

    return task_kind(task).metrics(y, pred, threshold)
