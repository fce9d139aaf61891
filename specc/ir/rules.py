"""The shape-rule registry: what a rule sees of one layer (`Ctx`), and `rule` to register one.

Every layer type has a rule in `RULES`. A rule receives a `Ctx` (the layer, its input tensors
and where it sits in the spec), records problems with `ctx.error(...)`, sets `ctx.params`,
`ctx.states` and `ctx.attrs`, and returns the output `TensorSpec`, or None when the output cannot
be inferred (then the layers reading it are skipped rather than reported again). Shapes never
include the batch axis; `None` marks an axis of unknown (variable) length. The rules themselves
live in `shapes` (dense and friends), `shapes_conv` and `shapes_seq`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..spec.errors import SpecError
from .graph import Node, TensorSpec

__all__ = ["RULES", "Ctx", "Rule", "Shape", "f32", "fmt_shape", "rule", "size_of"]

Shape = tuple[int | None, ...]


def fmt_shape(shape: Sequence[int | None]) -> str:
    """(64,) / (None, 32) / (4, 4, 10): Python tuple notation, batch axis left out."""
    dims = ", ".join("None" if d is None else str(d) for d in shape)
    return f"({dims},)" if len(shape) == 1 else f"({dims})"


def size_of(shape: Sequence[int | None]) -> int | None:
    """Number of values in one example, or None when an axis is unknown."""
    if any(d is None for d in shape):
        return None
    return math.prod(shape)  # type: ignore[arg-type]


@dataclass
class Ctx:
    """What a shape rule sees of one layer, and what it hands back besides the output."""

    name: str
    op: str
    path: tuple[str | int, ...]
    layer: Any
    inputs: list[str]
    specs: list[TensorSpec]
    nodes: dict[str, Node]
    errors: list[SpecError]
    is_output: bool = False
    attrs: dict[str, Any] = field(default_factory=dict)
    states: list[TensorSpec] = field(default_factory=list)
    params: int = 0
    trainable: int | None = None
    """Trainable parameters; None means all of `params`."""

    def error(self, where: str | int | tuple | None, message: str, hint: str | None = None) -> None:
        """Record a problem at this layer, or at one of its fields (`where`)."""
        if where is None:
            sub: tuple = ()
        elif isinstance(where, tuple):
            sub = where
        else:
            sub = (where,)
        self.errors.append(SpecError(self.path + sub, message, hint))

    @property
    def inputs_field(self) -> str | None:
        """The field to point at for problems with what the layer reads."""
        return "inputs" if getattr(self.layer, "inputs", None) else None

    def shape(self, k: int = 0) -> Shape:
        return self.specs[k].shape

    def got(self, k: int = 0) -> str:
        """How input `k` is described in messages: its shape and producer."""
        return f"{fmt_shape(self.shape(k))} from `{self.inputs[k]}`"

    def expect_rank(self, ranks: int | Sequence[int], what: str, hint: str | None = None) -> bool:
        """Check input 0 has one of `ranks`; `what` describes the expected shape."""
        allowed = (ranks,) if isinstance(ranks, int) else tuple(ranks)
        if len(self.shape()) in allowed:
            return True
        self.error(None, f"{self.op} expects {what}, got {self.got()}", hint)
        return False

    def expect_floats(self) -> bool:
        """Check input 0 holds float values, not token ids (which need a one_hot or embedding)."""
        dtype = self.specs[0].dtype
        if dtype.startswith("float"):
            return True
        self.error(
            None,
            f"{self.op} computes with float values, got {dtype} token ids {self.got()}",
            "turn the ids into vectors first with a `one_hot` or `embedding` layer",
        )
        return False

    def known_last(self, k: int = 0) -> int | None:
        """The last axis of input `k`, which weights are sized by; an error when unknown."""
        last = self.shape(k)[-1] if self.shape(k) else None
        if last is None:
            self.error(
                None,
                f"{self.op} needs a known last axis (features), got {self.got(k)}",
                "weights are sized by the last axis; give it a size in the input `shape`",
            )
        return last


Rule = Callable[[Ctx], "TensorSpec | None"]
RULES: dict[str, Rule] = {}


def rule(*ops: str) -> Callable[[Rule], Rule]:
    """Register a shape rule for the given layer types."""

    def register(fn: Rule) -> Rule:
        for op in ops:
            RULES[op] = fn
        return fn

    return register


def f32(shape: Sequence[int | None]) -> TensorSpec:
    return TensorSpec(tuple(shape), "float32")
