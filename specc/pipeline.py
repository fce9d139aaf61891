"""The compiler front end shared by every command: spec file -> validated Spec -> Graph."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from specc.ir import Graph
from specc.spec import LoadedSpec, SpecErrors, load_spec

__all__ = ["Compiled", "compile_spec"]


@dataclass(frozen=True)
class Compiled:
    loaded: LoadedSpec
    graph: Graph

    @property
    def spec(self):
        return self.loaded.spec


def compile_spec(path: str | Path) -> Compiled:
    """Validate the spec at `path` and lower it; raise `SpecErrors` (located) on any problem."""
    from specc.ir import lower

    loaded = load_spec(path)
    try:
        graph = lower(loaded.spec)
    except SpecErrors as errors:
        raise SpecErrors(loaded.locate(e) for e in errors.errors) from None
    return Compiled(loaded, graph)
