"""The text table `specc show` prints: one row per node, then parameter totals.

Deterministic (no timestamps, no TensorFlow) so it can be compared in tests. Shapes leave out the
batch axis and show a variable-length axis as `None`; the final states of recurrent layers with
`return_state` follow the output shape. Parameters of a backbone are unknown without loading it
and show as `?`.
"""

from __future__ import annotations

from .graph import Graph, Node
from .shapes import fmt_shape

__all__ = ["render"]

HEADER = ("name", "op", "reads", "output shape", "params")


def _count(n: int) -> str:
    return f"{n:,}"


def _params(node: Node) -> str:
    if node.attrs.get("params_unknown"):
        return "?"
    return _count(node.params)


def _shape(node: Node) -> str:
    text = fmt_shape(node.output.shape)
    if node.output.dtype != "float32":
        text += f" {node.output.dtype}"
    if node.states:
        text += " + states [" + ", ".join(fmt_shape(s.shape) for s in node.states) + "]"
    return text


def _row(node: Node) -> tuple[str, str, str, str, str]:
    name = node.name + (" *" if node.is_output else "")
    reads = ", ".join(node.inputs)
    if node.attrs.get("initial_state"):
        reads += f" (state from {node.attrs['initial_state']})"
    return (name, node.op, reads, _shape(node), _params(node))


def render(graph: Graph) -> str:
    """The table for `specc show`, ending with a newline."""
    rows = [_row(n) for n in graph.inputs + graph.nodes]
    widths = [max(len(r[c]) for r in [HEADER, *rows]) for c in range(len(HEADER))]

    def line(cells: tuple[str, ...]) -> str:
        left = [cell.ljust(w) for cell, w in zip(cells[:-1], widths[:-1], strict=True)]
        return "  ".join(left + [cells[-1].rjust(widths[-1])]).rstrip()

    unknown = any(n.attrs.get("params_unknown") for n in graph.nodes)
    plus = " + ?" if unknown else ""
    total = graph.params
    trainable = graph.trainable_params
    totals = [
        ("Total params:", _count(total) + plus),
        ("Trainable params:", _count(trainable) + plus),
        ("Non-trainable params:", _count(total - trainable) + plus),
    ]
    label_w = max(len(label) for label, _ in totals)
    value_w = max(len(value) for _, value in totals)
    out = [f"Model `{graph.name}`", line(HEADER), line(tuple("-" * w for w in widths))]
    out += [line(r) for r in rows]
    out.append("-" * len(line(HEADER)))
    out += [f"{label.ljust(label_w)}  {value.rjust(value_w)}" for label, value in totals]
    out.append(f"Outputs: {', '.join(graph.outputs)} (marked *)")
    out.append("Shapes leave out the batch axis; None is a variable length.")
    if unknown:
        out.append("? = parameters of a backbone, known once it is loaded.")
    return "\n".join(out) + "\n"
