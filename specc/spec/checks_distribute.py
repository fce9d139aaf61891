"""Checks of `training.distribute`: the combinations the generated training code cannot run are
refused here, located, so `build` never meets them after starting.

A `prune` pass keeps its masks in a Python callback that replicas do not share, and a `distill`
pass loads its teacher outside the strategy's scope, so either trains in one process. (A pruned
spec also trains without backups, whatever `training.resume` says: a backup
holds the weights, not the masks; the field's documentation says so.)
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from .checks_base import check
from .checks_prune import prune_entries
from .errors import SpecError
from .schema import Spec

__all__ = ["distribute_with_distill", "distribute_with_prune"]


@check
def distribute_with_prune(spec: Spec, _: Path) -> Iterator[SpecError]:
    strategy = spec.training.distribute.strategy
    entries = prune_entries(spec)
    if strategy != "none" and entries:
        yield SpecError(
            ("training", "distribute", "strategy"),
            f"the `{strategy}` strategy cannot train with a `prune` pass (passes[{entries[0][0]}]):"
            " its masks live in a callback that replicas do not share",
            "use `strategy: none` for a pruned spec, or remove the prune pass",
        )


@check
def distribute_with_distill(spec: Spec, _: Path) -> Iterator[SpecError]:
    """The Distiller wraps a teacher loaded outside any strategy's scope: one process only."""
    strategy = spec.training.distribute.strategy
    index = next((i for i, e in enumerate(spec.passes) if e.kind == "distill"), None)
    if strategy != "none" and index is not None:
        yield SpecError(
            ("training", "distribute", "strategy"),
            f"the `{strategy}` strategy cannot train with a `distill` pass (passes[{index}]): "
            "the teacher is loaded outside the strategy's scope",
            "use `strategy: none` for a distilled spec, or remove the distill pass",
        )
