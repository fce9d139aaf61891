"""`specc lr-find`: the learning-rate range test (Smith 2015, "Cyclical Learning Rates").

From a fresh model (the spec's network, optimizer and batch size), the learning rate grows
exponentially from `low` to `high` over `steps` mini-batches, one optimizer step each, and the
training loss of every step is recorded, smoothed with an exponential moving average (bias
corrected, as in Adam). The sweep stops early once the smoothed loss diverges (above
`DIVERGENCE` times its minimum, or not finite).

Two suggestions are read from the smoothed curve:

- `steepest`: the rate where the loss falls fastest against log(rate), searched below the rate
  of the minimum: large enough to learn quickly, still on the falling side of the curve;
- `min_over_10`: a tenth of the rate at the minimum of the loss (the rule of thumb: the minimum
  is already at the edge of instability).

The suggestion is the steepest-descent rate unless it is not below the minimum (a flat or noisy
curve), when the minimum/10 rule is taken.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .harness import Harness

__all__ = ["LRFindResult", "lr_find", "plot"]

SMOOTHING = 0.9
"""Weight of the past in the moving average of the loss (0.98 in the literature for thousands
of steps; 0.9 suits the ~100 steps of a small dataset)."""
DIVERGENCE = 4.0
"""The sweep stops once the smoothed loss exceeds this multiple of its minimum."""
SKIP_START = 0.1
"""The first 10% of the steps are left out of the steepest-descent search: the average is still
warming up there."""


@dataclass(frozen=True)
class LRFindResult:
    rates: list[float]
    losses: list[float]
    smoothed: list[float]
    steepest: float | None
    min_over_10: float
    suggestion: float
    rule: str
    """Which rule gave `suggestion`: `steepest` or `min_over_10`."""
    stopped: str
    """Why the sweep ended: `diverged` or `reached the upper bound`."""
    notes: list[str] = field(default_factory=list)


def _batches(h: Harness, steps: int, seed: int) -> Any:
    """`steps` mini-batches of the training split, reshuffled every pass over it."""
    x, y = h.data.train
    t = h.targets(y)
    n, size = len(y), min(h.batch_size, len(y))
    rng = np.random.default_rng(seed)
    done = 0
    while done < steps:
        order = rng.permutation(n)
        for start in range(0, n - size + 1, size):
            index = order[start : start + size]
            yield {k: v[index] for k, v in x.items()}, t[index]
            done += 1
            if done == steps:
                return


def lr_find(h: Harness, *, low: float = 1e-6, high: float = 1.0, steps: int = 100) -> LRFindResult:
    """Run the range test on a fresh model of the spec."""
    if not (0 < low < high) or steps < 10:
        raise ValueError("lr-find needs 0 < low < high and at least 10 steps")
    model = h.model(learning_rate=low)
    optimizer = model.optimizer
    factor = (high / low) ** (1 / (steps - 1))
    rates, losses, smoothed = [], [], []
    average, best = 0.0, math.inf
    stopped = "reached the upper bound"
    for i, (x, y) in enumerate(_batches(h, steps, h.spec.seed)):
        rate = low * factor**i
        optimizer.learning_rate = rate
        loss = float(model.train_on_batch(x, y, return_dict=True)["loss"])
        rates.append(rate)
        losses.append(loss)
        if not math.isfinite(loss):
            stopped = "diverged"
            break
        average = SMOOTHING * average + (1 - SMOOTHING) * loss
        value = average / (1 - SMOOTHING ** (i + 1))
        smoothed.append(value)
        best = min(best, value)
        if value > DIVERGENCE * best:
            stopped = "diverged"
            break
    return _suggest(rates[: len(smoothed)], losses, smoothed, stopped)


def _suggest(
    rates: list[float], losses: list[float], smoothed: list[float], stopped: str
) -> LRFindResult:
    notes: list[str] = []
    if len(smoothed) < 5:
        raise ValueError(
            f"the loss diverged after {len(smoothed)} steps, at a rate of {rates[-1]:.2g}: "
            "start the sweep lower (--low)"
        )
    curve = np.asarray(smoothed)
    logs = np.log10(np.asarray(rates))
    at_min = int(np.argmin(curve))
    min_over_10 = rates[at_min] / 10
    start = max(1, int(SKIP_START * len(curve)))
    steepest = None
    if at_min > start + 1:
        slopes = np.gradient(curve[: at_min + 1], logs[: at_min + 1])
        k = start + int(np.argmin(slopes[start:]))
        if slopes[k] < 0:
            steepest = float(rates[k])
    if steepest is not None and steepest < rates[at_min]:
        suggestion, rule = steepest, "steepest"
    else:
        suggestion, rule = min_over_10, "min_over_10"
        notes.append("the loss did not fall steadily before its minimum; took minimum/10")
    if stopped != "diverged":
        notes.append("the loss never diverged: the upper bound may be too low (--high)")
    return LRFindResult(
        rates, losses, smoothed, steepest, min_over_10, suggestion, rule, stopped, notes
    )


def plot(result: LRFindResult, path: Path, title: str) -> None:
    """Loss against log learning rate, raw and smoothed, the suggestions marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from specc.atomic import atomic_path

    n = len(result.smoothed)
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    ax.plot(result.rates[:n], result.losses[:n], color="0.75", linewidth=1, label="loss")
    ax.plot(result.rates[:n], result.smoothed, color="C0", label="smoothed loss")
    if result.steepest is not None:
        ax.axvline(result.steepest, color="C1", linestyle="--", label="steepest descent")
    ax.axvline(result.min_over_10, color="C2", linestyle=":", label="minimum / 10")
    ax.set_xscale("log")
    ax.set_xlabel("learning rate")
    ax.set_ylabel("training loss")
    top = float(np.percentile(result.smoothed, 95))
    ax.set_ylim(top=top * 1.2 if top > 0 else None)
    ax.set_title(f"{title}: suggested {result.suggestion:.2g} ({result.rule})")
    ax.legend()
    fig.tight_layout()
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=100)
    plt.close(fig)
