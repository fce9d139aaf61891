"""Helpers shared by the IR tests: small specs around a few layers, and the errors lowering
reports for them."""

from __future__ import annotations

import pytest

from specc.ir import lower
from specc.spec import SpecErrors
from specc.spec.schema import Spec


def make(layers, inputs=None, task=None, outputs=None) -> Spec:
    """A spec around `layers`, validated by the schema only (no file or dataset checks)."""
    model = {"inputs": inputs or [{"name": "x", "shape": [16]}], "layers": layers}
    if outputs:
        model["outputs"] = outputs
    return Spec.model_validate(
        {
            "specc": 1,
            "name": "t",
            "task": task or {"type": "regression"},
            "data": {"type": "npz", "path": "d.npz"},
            "model": model,
        }
    )


def errors_of(spec: Spec, **kwargs) -> list[tuple[tuple, str, str | None]]:
    with pytest.raises(SpecErrors) as info:
        lower(spec, **kwargs)
    for error in info.value.errors:
        assert error.location is None
    return [(e.path, e.message, e.hint) for e in info.value.errors]


def one_error(spec: Spec, **kwargs) -> tuple[tuple, str, str | None]:
    found = errors_of(spec, **kwargs)
    assert len(found) == 1, found
    return found[0]
