"""The graph IR: lowering from a spec, static shape inference, parameter counts, text dump.

`lower(spec)` turns a validated spec into a `Graph` (or raises `SpecErrors`); `render(graph)` is
the table `specc show` prints. Nothing here imports TensorFlow.
"""

from .dump import render
from .graph import Graph, Node, TensorSpec
from .lower import lower
from .shapes import fmt_shape

__all__ = ["Graph", "Node", "TensorSpec", "fmt_shape", "lower", "render"]
