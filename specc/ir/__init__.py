"""The graph IR: lowering from a spec, static shape inference, parameter counts, text dump."""

from .graph import Graph, Node, TensorSpec

__all__ = ["Graph", "Node", "TensorSpec"]
