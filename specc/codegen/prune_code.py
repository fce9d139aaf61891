"""What the `prune` pass adds to the generated `train.py` (`templates/train/prune.py.j2`).

The pass's training is plain code in `train.py`: the constants it reads (the layers pruned and
their sparsity, the schedule) with the spec fields they come from, a `KeepPruned` constraint that
multiplies a kernel by its mask after every optimizer step, and a `MagnitudePruning` callback
that raises the sparsity on the schedule and recomputes the masks by magnitude. `train_context`
asks this module for the constants, the callback and the flags, in one place each.
"""

from __future__ import annotations

from typing import Any

from ..spec.checks_prune import following_norms, prune_entries, pruned_layers, skipped_layers
from ..spec.schema import Spec
from .pyfmt import constant, wrap
from .summary import spec_ref

__all__ = ["prune_callback", "prune_constants", "prune_settings", "prune_structured"]


def prune_settings(spec: Spec) -> tuple[int, Any] | None:
    """(index in `passes`, settings) of the spec's `prune` entry, or None."""
    entries = prune_entries(spec)
    return entries[0] if entries else None


def prune_constants(spec: Spec) -> list[list[str]]:
    """The constant groups the pruning code reads, each with its spec reference; [] without a
    `prune` pass."""
    found = prune_settings(spec)
    if found is None:
        return []
    index, settings = found
    base = f"passes[{index}].prune"
    skipped = ", ".join(skipped_layers(spec, settings)) or "none"
    what = "units removed" if settings.structured else "weights zeroed"
    text = (
        f"{spec_ref(base)}: the layers whose kernel is pruned, and the fraction of its {what} "
        f"at the end (target_sparsity, layers; skipped: {skipped})"
    )
    layers = [f"# {line}" for line in wrap(text, "# ")]
    layers.append(constant("PRUNE_SPARSITY", pruned_layers(spec, settings)))
    if settings.structured:
        layers += [
            "# the batch norms after each pruned layer: their scale and offset are masked too, so "
            "a pruned",
            "# unit outputs exactly 0 and removing it changes nothing",
            constant("PRUNE_NORMS", following_norms(spec, settings)),
        ]
    schedule = [
        f"# {spec_ref(base + '.schedule', settings.schedule)}, start_epoch, end_fraction: the "
        "sparsity",
        "# rises from the start epoch and reaches the target after END_FRACTION of the epochs",
        constant("PRUNE_SCHEDULE", settings.schedule),
        constant("PRUNE_START_EPOCH", settings.start_epoch),
        constant("PRUNE_END_FRACTION", settings.end_fraction),
    ]
    return [layers, schedule]


def prune_callback(spec: Spec) -> str | None:
    """The statement that makes the pruning callback (`pruning = ...`; it goes in
    `fit_callbacks` after early stopping, whose weights it prunes last), or None without a
    `prune` pass."""
    if prune_settings(spec) is None:
        return None
    return "pruning = MagnitudePruning(model, steps_per_epoch)"


def prune_structured(spec: Spec) -> bool:
    """Whether the spec's `prune` pass removes whole units and filters."""
    found = prune_settings(spec)
    return found is not None and found[1].structured
