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

__all__ = [
    "PRUNABLE",
    "STRUCTURED_SAFE",
    "following_norms",
    "prune_entries",
    "pruned_layers",
    "skipped_layers",
]

PRUNABLE = ("dense", "conv1d", "conv2d")
"""Layer types whose kernel is pruned; biases and every other weight are left dense."""
STRUCTURED_SAFE = (
    *PRUNABLE,
    "batch_norm",
    "dropout",
    "activation",
    "max_pool1d",
    "avg_pool1d",
    "max_pool2d",
    "avg_pool2d",
    "global_pool",
    "flatten",
)
"""Layer types that may follow a layer losing units: each keeps channels apart (a flatten keeps
the channel as the fastest index), so the layers after it can drop the matching entries."""
NONZERO_AT_ZERO = ("sigmoid", "hard_sigmoid", "softplus", "softmax")
"""Activations with f(0) != 0 (softmax also mixes units): a removed unit would not be 0."""


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


def following_norms(spec: Spec, settings: Any) -> dict[str, list[str]]:
    """Pruned layer -> the batch norms between it and the next dense or convolution layer (for
    structured pruning, whose unit masks cover them too); the model is a plain stack."""
    names, pruned = layer_names(spec), pruned_layers(spec, settings)
    norms: dict[str, list[str]] = {}
    owner = None
    for name, layer in zip(names, spec.model.layers, strict=True):
        if layer.type in PRUNABLE:
            owner = name if name in pruned else None
        elif layer.type == "batch_norm" and owner is not None:
            norms.setdefault(owner, []).append(name)
    return norms


def _structured_errors(spec: Spec, path: tuple, settings: Any) -> Iterator[SpecError]:
    """Where removing units would not be exact: channels tied (merges, several inputs or
    outputs, layers mixing channels), activations with f(0) != 0, a pruned output."""
    names = layer_names(spec)
    pruned = pruned_layers(spec, settings)
    outputs = output_names(spec, names)
    tied = "structured pruning needs a plain stack of layers"
    if len(spec.model.inputs) > 1 or len(outputs) > 1 or outputs != names[-1:]:
        yield SpecError(
            ("model", "outputs") if spec.model.outputs else ("model", "inputs"),
            f"{tied} from one input to one output (the last layer)",
            "set `structured: false` to prune single weights",
        )
        return
    after_pruned = False
    for i, (name, layer) in enumerate(zip(names, spec.model.layers, strict=True)):
        where = ("model", "layers", i)
        if layer.inputs and list(layer.inputs) != [names[i - 1] if i else None]:
            yield SpecError(
                where + ("inputs",),
                f"{tied}, each reading the one before: `{name}` reads "
                + ", ".join(f"`{n}`" for n in layer.inputs)
                + " (channels tied across layers cannot lose units safely)",
                "set `structured: false` to prune single weights",
            )
            return
        if after_pruned and layer.type not in STRUCTURED_SAFE:
            yield SpecError(
                where,
                f"`{name}` ({layer.type}) reads channels that structured pruning removes, and "
                f"{layer.type} layers mix or reshape channels",
                f"layers allowed after a pruned layer: {', '.join(STRUCTURED_SAFE)}; or set "
                "`structured: false`",
            )
            return
        activation = getattr(layer, "activation", None)
        if (name in pruned or (after_pruned and layer.type == "activation")) and (
            activation in NONZERO_AT_ZERO
        ):
            yield SpecError(
                where + ("activation",),
                f"`{name}` applies {activation}, which is not 0 at 0: a removed unit would not "
                "be silent, so removing it would change the outputs",
                "use an activation with f(0) = 0 (relu, tanh, gelu, ...), or set "
                "`structured: false`",
            )
        if name in outputs and name in pruned:
            yield SpecError(
                path + ("skip",),
                f"the output layer `{name}` cannot lose units: the task fixes its width",
                f"add `{name}` to `skip`",
            )
        after_pruned = after_pruned or name in pruned


def _names_errors(
    spec: Spec, path: tuple, given: list[str], what: str, types: dict[str, str]
) -> Iterator[SpecError]:
    for k, name in enumerate(given):
        if name not in types:
            shown = f"`{name}`" if name.isidentifier() else repr(name)  # newlines, quotes
            yield SpecError(
                path + ((name,) if what == "layers" else (k,)),
                f"{shown} in `{what}` is not a layer of the model",
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
        known = all(n in types for n in [*settings.layers, *(settings.skip or [])])
        if settings.structured and known and pruned_layers(spec, settings):
            yield from _structured_errors(spec, path, settings)
        if known and not pruned_layers(spec, settings):
            prunable = [n for n in names if types[n] in PRUNABLE]
            yield SpecError(
                path,
                "nothing to prune: the model has no dense or convolution layer outside `skip`"
                + (f" (skipped: {', '.join(f'`{n}`' for n in prunable)})" if prunable else ""),
                "remove the `prune` pass"
                + (", or leave a layer out of `skip`" if prunable else ""),
            )
