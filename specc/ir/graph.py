"""The graph IR: plain dataclasses, independent of Keras and TensorFlow.

A `Graph` is the network after lowering: every layer resolved (names generated, `auto`
activations and initializers chosen, inputs wired), in topological order, with static shapes
(without the batch axis) and parameter counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Graph", "Node", "TensorSpec"]


@dataclass(frozen=True)
class TensorSpec:
    """Shape without the batch axis (`None` for a variable axis) and element type."""

    shape: tuple[int | None, ...]
    dtype: str = "float32"

    def __str__(self) -> str:
        dims = ", ".join("?" if d is None else str(d) for d in self.shape)
        return f"({dims})"


@dataclass
class Node:
    """One model input or layer.

    `op` is the spec layer `type` (`dense`, `lstm`, ...) or `input`. `layer` is the validated spec
    model of the layer (None for inputs). `attrs` holds resolved values that the spec left to
    specc (activation, initializer, ...), so code generators read them instead of re-deciding.
    `path` points at the spec entry the node came from, for error messages.
    """

    name: str
    op: str
    inputs: list[str]
    output: TensorSpec
    path: tuple[str | int, ...]
    layer: Any = None
    states: list[TensorSpec] = field(default_factory=list)
    params: int = 0
    trainable_params: int = 0
    attrs: dict[str, Any] = field(default_factory=dict)
    is_output: bool = False

    @property
    def non_trainable_params(self) -> int:
        return self.params - self.trainable_params


@dataclass
class Graph:
    """A lowered network: input nodes, layer nodes in topological order, output names."""

    name: str
    inputs: list[Node]
    nodes: list[Node]
    outputs: list[str]

    def node(self, name: str) -> Node:
        for n in self.inputs + self.nodes:
            if n.name == name:
                return n
        raise KeyError(name)

    @property
    def params(self) -> int:
        return sum(n.params for n in self.nodes)

    @property
    def trainable_params(self) -> int:
        return sum(n.trainable_params for n in self.nodes)

    @property
    def output_nodes(self) -> list[Node]:
        return [self.node(name) for name in self.outputs]
