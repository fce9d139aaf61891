"""The `prune` pass's settings against the model: which layers it prunes, and the checks.

`pruned_layers` is the one place that says which kernels a `prune` entry prunes and to what
sparsity (the generated `train.py` and the pass's measurements ask it); the checks refuse, each
located at the field to change, what would make the pass prune nothing or something unknown.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .checks_base import check
from .errors import SpecError, did_you_mean
from .names import layer_names, output_names
from .schema import Spec

__all__ = ["PRUNABLE", "prune_entries", "pruned_layers", "skipped_layers"]

PRUNABLE = ("dense", "conv1d", "conv2d")
"""Layer types whose kernel is pruned; biases and every other weight are left dense."""


def prune_entries(spec: Spec) -> list[tuple[int, Any]]:
    """(index in `passes`, `Prune` settings) of every `prune` entry."""
    return [(i, e.prune) for i, e in enumerate(spec.passes) if e.kind == "prune"]


def skipped_layers(spec: Spec, settings: Any) -> list[str]:
    """The layers `settings.skip` leaves dense: as given, else the model's outputs."""
    if settings.skip is not None:
        return list(settings.skip)
    return output_names(spec, layer_names(spec))


def pruned_layers(spec: Spec, settings: Any) -> dict[str, float]:
    """Layer name -> target sparsity of every kernel the `prune` entry prunes, in model order."""
    skip = set(skipped_layers(spec, settings))
    return {
        name: settings.layers.get(name, settings.target_sparsity)
        for name, layer in zip(layer_names(spec), spec.model.layers, strict=True)
        if layer.type in PRUNABLE and name not in skip
    }


def _names_errors(
    spec: Spec, path: tuple, given: list[str], what: str, types: dict[str, str]
) -> Iterator[SpecError]:
    for k, name in enumerate(given):
        if name not in types:
            yield SpecError(
                path + ((name,) if what == "layers" else (k,)),
                f"`{name}` in `{what}` is not a layer of the model",
                did_you_mean(name, types) or f"layers: {', '.join(types)}",
            )


@check
def prune_settings(spec: Spec, _: Path) -> Iterator[SpecError]:
    entries = prune_entries(spec)
    if not entries:
        return
    names = layer_names(spec)
    types = {name: layer.type for name, layer in zip(names, spec.model.layers, strict=True)}
    for i, settings in entries[:1]:  # a second entry is refused by `passes_fit`
        path = ("passes", i, "prune")
        if settings.structured:
            yield SpecError(
                path + ("structured",),
                "structured pruning (removing whole units and filters) is not available yet",
                "set `structured: false` to prune single weights",
            )
        epochs = spec.training.epochs
        if settings.start_epoch >= epochs:
            yield SpecError(
                path + ("start_epoch",),
                f"pruning starts at epoch {settings.start_epoch} but training has {epochs} "
                "epochs (counted from 0)",
                f"set `start_epoch` below {epochs}",
            )
        yield from _names_errors(spec, path + ("layers",), list(settings.layers), "layers", types)
        yield from _names_errors(spec, path + ("skip",), settings.skip or [], "skip", types)
        skip = set(skipped_layers(spec, settings))
        default_skip = settings.skip is None
        for name in settings.layers:
            if name in types and types[name] not in PRUNABLE:
                yield SpecError(
                    path + ("layers", name),
                    f"`{name}` is a {types[name]} layer: it has no kernel to prune",
                    f"prunable layer types: {', '.join(PRUNABLE)}",
                )
            elif name in skip:
                why = " (unset `skip` leaves the output layers dense)" if default_skip else ""
                fix = "set `skip: []`" if default_skip else "leave it out of `skip`"
                yield SpecError(
                    path + ("layers", name),
                    f"`{name}` has a sparsity in `layers` but is skipped{why}",
                    f"remove `{name}` from `layers` or {fix}",
                )
        if not pruned_layers(spec, settings) and all(n in types for n in settings.skip or []):
            prunable = [n for n in names if types[n] in PRUNABLE]
            yield SpecError(
                path,
                "nothing to prune: the model has no dense or convolution layer outside `skip`"
                + (f" (skipped: {', '.join(f'`{n}`' for n in prunable)})" if prunable else ""),
                "remove the `prune` pass"
                + (", or leave a layer out of `skip`" if prunable else ""),
            )
