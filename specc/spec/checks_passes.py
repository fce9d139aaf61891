"""Checks of the `passes` list: every pass the spec names can run in this version of specc.

The pass registry (`specc.passes.registry`, importable without onnx or TensorFlow) says which
kinds have an implementation; a kind the spec language knows but this version cannot run is
refused here, located at its entry, so `build` never discovers it after training.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from .checks_base import check
from .errors import SpecError
from .schema import Spec

__all__ = ["passes_available"]


@check
def passes_available(spec: Spec, _: Path) -> Iterator[SpecError]:
    from specc.passes.registry import NOT_AVAILABLE, available

    runnable = ", ".join(f"`{k}`" for k in available())
    for i, entry in enumerate(spec.passes):
        if entry.kind in NOT_AVAILABLE:
            yield SpecError(
                ("passes", i, entry.kind),
                f"{NOT_AVAILABLE[entry.kind]}",
                f"remove this entry; passes that run today: {runnable}",
            )
