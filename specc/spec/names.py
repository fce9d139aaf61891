"""Layer names and wiring as the spec gives them: the names lowering uses (generated where the
spec leaves them out) and what each layer reads, without lowering the network.

Checks that name layers (say, the `prune` pass's `layers` and `skip`) and lowering itself ask
this one module, so an error message and the generated code always agree on a name.
"""

from __future__ import annotations

from .schema import Spec

__all__ = ["layer_names", "layer_reads", "output_names"]


def layer_names(spec: Spec) -> list[str]:
    """The name of every layer, generated where the spec leaves it out: `<type>_<k>`, k counting
    unnamed layers of that type from 1 and skipping names the spec already uses."""
    used = {inp.name for inp in spec.model.inputs}
    used.update(layer.name for layer in spec.model.layers if layer.name)
    counters: dict[str, int] = {}
    names = []
    for layer in spec.model.layers:
        if layer.name:
            names.append(layer.name)
            continue
        k = counters.get(layer.type, 0)
        while True:
            k += 1
            candidate = f"{layer.type}_{k}"
            if candidate not in used:
                break
        counters[layer.type] = k
        used.add(candidate)
        names.append(candidate)
    return names


def layer_reads(spec: Spec, names: list[str], i: int) -> list[str]:
    """What layer `i` reads: its `inputs`, else the previous layer (or the first model input)."""
    layer = spec.model.layers[i]
    if layer.inputs:
        return list(layer.inputs)
    return [names[i - 1] if i else spec.model.inputs[0].name]


def output_names(spec: Spec, names: list[str]) -> list[str]:
    """The model's outputs: `model.outputs`, else the last layer."""
    return list(spec.model.outputs or [names[-1]])
