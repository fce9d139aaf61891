"""Checks of layers against the data they read: a `one_hot` or `embedding` reading the token ids
of a built-in dataset must cover its whole vocabulary (an id past the table would make one_hot
give a zero vector and embedding fail in the middle of training)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from .checks_base import check
from .datasets import DATASETS
from .errors import SpecError
from .schema import BuiltinData, Spec

__all__: list[str] = []

_WIDTH_FIELD = {
    "one_hot": "num_tokens",
    "embedding": "input_dim",
    "positional_embedding": "input_dim",
}


@check
def token_layers_cover_the_vocabulary(spec: Spec, _: Path) -> Iterator[SpecError]:
    data = spec.data
    if not isinstance(data, BuiltinData):
        return
    vocab = len(DATASETS[data.dataset].vocab or "")
    if not vocab:
        return
    inputs = {inp.name for inp in spec.model.inputs if inp.dtype.startswith("int")}
    first = spec.model.inputs[0].name
    for i, layer in enumerate(spec.model.layers):
        field = _WIDTH_FIELD.get(layer.type)
        width = getattr(layer, field, None) if field else None
        reads = layer.inputs or ([first] if i == 0 else [])
        if width is None or not any(name in inputs for name in reads):
            continue
        if width < vocab:
            yield SpecError(
                ("model", "layers", i, field),
                f"{layer.type} covers token ids 0..{width - 1}, but dataset `{data.dataset}` "
                f"has a vocabulary of {vocab} tokens (ids 0..{vocab - 1})",
                f"set `{field}: {vocab}`",
            )
