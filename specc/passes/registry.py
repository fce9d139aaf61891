"""The pass registry: the spec's pass kinds and the module that implements each.

Importing this module imports no pass (and so neither onnx nor onnxruntime): `specc validate`
asks `available()` and `NOT_AVAILABLE` to refuse a pass that this version cannot run, with a
located error, before anything is built. Adding a pass means one module and one line here.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .base import PassInfo

__all__ = ["NOT_AVAILABLE", "available", "get"]

_MODULES = {
    "distill": "specc.passes.distill",
    "prune": "specc.passes.prune",
    "quantize": "specc.passes.quantize",
}

NOT_AVAILABLE: dict[str, str] = {}
"""Pass kinds the spec language knows but this version cannot run, and why."""


def available() -> tuple[str, ...]:
    """The pass kinds this version can run."""
    return tuple(_MODULES)


def get(kind: str) -> PassInfo:
    """The declaration (`PASS`) of the pass `kind`."""
    if kind not in _MODULES:
        known = ", ".join(f"`{k}`" for k in _MODULES)
        why = NOT_AVAILABLE.get(kind, "no such pass")
        raise KeyError(f"pass `{kind}`: {why} (available: {known})")
    return import_module(_MODULES[kind]).PASS
