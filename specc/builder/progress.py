"""Build progress for a terminal: stage lines with timings, a line per epoch; silent when quiet."""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["Progress", "STAGES"]

STAGES = ("validate", "codegen", "train", "export", "verify", "passes", "compare", "report")


class Progress:
    """Prints `[2/7] codegen ... done (0.1 s)` style lines to `stream` unless `quiet`."""

    def __init__(self, quiet: bool = False, stream: TextIO | None = None):
        self.quiet = quiet
        self.stream = stream or sys.stderr
        self._stage: str | None = None
        self._started = 0.0
        self.timings: dict[str, float] = {}
        self.stages: tuple[str, ...] = STAGES

    def plan(self, has_passes: bool) -> None:
        """Count the `passes` and `compare` stages only for a spec that has passes."""
        with_passes = ("passes", "compare")
        self.stages = STAGES if has_passes else tuple(s for s in STAGES if s not in with_passes)

    def record(self, key: str, seconds: float) -> None:
        """Record the time of a step inside a stage (it prints nothing)."""
        self.timings[key] = round(seconds, 3)

    def say(self, text: str) -> None:
        if not self.quiet:
            print(text, file=self.stream, flush=True)

    def start(self, stage: str, detail: str = "", *, started: float | None = None) -> None:
        """Print the stage line; `started` (a `time.perf_counter()` value) backdates its timer."""
        self._stage = stage
        self._started = time.perf_counter() if started is None else started
        index = self.stages.index(stage) + 1 if stage in self.stages else 0
        suffix = f": {detail}" if detail else ""
        self.say(f"[{index}/{len(self.stages)}] {stage}{suffix}")

    def done(self, detail: str = "") -> float:
        elapsed = time.perf_counter() - self._started
        if self._stage is not None:
            self.timings[self._stage] = round(elapsed, 3)
        suffix = f" {detail}" if detail else ""
        self.say(f"      done in {elapsed:.1f} s{suffix}")
        self._stage = None
        return elapsed

    def epoch(self, epoch: int, epochs: int, logs: dict[str, float], seconds: float) -> None:
        shown = "  ".join(f"{k}={v:.4g}" for k, v in logs.items() if k != "learning_rate")
        self.say(f"      epoch {epoch:>3}/{epochs}  {shown}  ({seconds:.1f} s)")

    def keras_callback(self, epochs: int):
        """A Keras callback reporting each epoch here (imports keras lazily)."""
        import keras

        progress = self

        class _EpochProgress(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                self._t = time.perf_counter()

            def on_epoch_end(self, epoch, logs=None):
                logs = {k: float(v) for k, v in (logs or {}).items()}
                progress.epoch(epoch + 1, epochs, logs, time.perf_counter() - self._t)

        return _EpochProgress()
