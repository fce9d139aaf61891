"""The values `templates/model.py.j2` renders: the docstring, the helpers to include and the body
of `build_model()`, statement by statement.

Variables follow the usual Keras style: a straight chain of layers passes `x` along; a tensor
read anywhere else (a skip connection, a second branch, a model output, recurrent states) gets
a variable named after its layer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..ir.graph import Graph, Node
from ..ir.shapes import fmt_shape
from ..spec import LoadedSpec
from . import layers_code_more  # noqa: F401  (registers its emitters)
from .layers_code import emit
from .pyfmt import INDENT, Arg, Call, Raw, comment_lines, identifier, literal, statement
from .summary import docstring, layer_summary, spec_comment, spec_ref

__all__ = ["build_model_parameters", "model_context"]

TRANSFORMER_HELPERS = ("transformer_encoder", "transformer_decoder")


@dataclass
class _Scope:
    """Variable names of one generated `build_model()` (implements `layers_code.Scope`)."""

    loaded: LoadedSpec
    graph: Graph
    helpers: set[str] = field(default_factory=set)
    names: dict[str, str] = field(default_factory=dict)

    def read(self, name: str) -> str:
        return self.names[name]

    def target(self, node: Node) -> str:
        return self.names[node.name]

    def states(self, name: str) -> list[str]:
        base = identifier(name)
        if self.graph.node(name).op == "lstm":
            return [f"{base}_state_h", f"{base}_state_c"]
        return [f"{base}_state"]

    def activation(self, name: str) -> Arg:
        if name == "gelu_tanh":  # Keras' "gelu" string is the exact (erf) GELU
            self.use_helper("gelu_tanh")
            return Raw("gelu_tanh")
        return Raw(literal(name))

    def use_helper(self, name: str) -> None:
        self.helpers.add(name)

    def input_shape(self, node: Node) -> tuple[int | None, ...]:
        return self.graph.node(node.inputs[0]).output.shape

    def backbone_path(self, source: str) -> str:
        return str((self.loaded.base_dir / source).resolve())


def _readers(graph: Graph) -> dict[str, list[int]]:
    """Node name -> indices (in `graph.nodes`) of the layers that read its output."""
    readers: dict[str, list[int]] = {n.name: [] for n in graph.inputs + graph.nodes}
    for i, node in enumerate(graph.nodes):
        for name in dict.fromkeys(node.inputs):
            readers[name].append(i)
    return readers


def _normalized(loaded: LoadedSpec, graph: Graph) -> list[Node]:
    """Inputs that get a `Normalization` layer: float inputs when the spec scales inputs."""
    if loaded.spec.data.preprocessing == "none":
        return []
    return [n for n in graph.inputs if n.output.dtype.startswith("float")]


def build_model_parameters(loaded: LoadedSpec, graph: Graph) -> list[str]:
    """The parameters of the generated `build_model()`: `preprocessing` when the model scales
    inputs, `target_scaling` for regression (it rescales outputs); none that it would not use."""
    params = ["preprocessing"] if _normalized(loaded, graph) else []
    return params + (["target_scaling"] if loaded.spec.task.type == "regression" else [])


def _assign_names(scope: _Scope, normalized: list[Node]) -> dict[str, str]:
    """Variable of every tensor; inputs keep their `keras.Input` under their own name."""
    graph = scope.graph
    readers = _readers(graph)
    taken: set[str] = set()

    def named(name: str) -> str:
        var = identifier(name)
        while var in taken:
            var += "_"
        taken.add(var)
        return var

    names: dict[str, str] = {}
    inputs = {n.name: named(n.name) for n in graph.inputs}
    last_normalized = normalized[-1].name if normalized else None
    for node in graph.inputs:
        if node in normalized:
            chained = node.name == last_normalized and node.name == graph.inputs[-1].name
            chained = chained and readers[node.name] == [0] and len(graph.nodes[0].inputs) == 1
            names[node.name] = "x" if chained else named(f"{node.name}_normalized")
        else:
            names[node.name] = inputs[node.name]
    for i, node in enumerate(graph.nodes):
        keeps_state = bool(getattr(node.layer, "return_state", False))
        chained = readers[node.name] == [i + 1] and not node.is_output and not keeps_state
        # a merge or attention names what it reads: `[x, skip]` would hide where x comes from
        chained = chained and len(set(graph.nodes[i + 1].inputs)) == 1
        if keeps_state and not readers[node.name] and not node.is_output:
            names[node.name] = "_"  # only the final states are used
        else:
            names[node.name] = "x" if chained else named(node.name)
    scope.names = names
    return inputs


def _input_lines(
    graph: Graph, inputs: dict[str, str], scope: _Scope, normalized: list[Node]
) -> list[str]:
    lines: list[str] = []
    for node in graph.inputs:
        dtype = None if node.output.dtype == "float32" else node.output.dtype
        kwargs = [("shape", Raw(literal(tuple(node.output.shape))))]
        if dtype:
            kwargs.append(("dtype", Raw(literal(dtype))))
        kwargs.append(("name", Raw(literal(node.name))))
        lines += statement(inputs[node.name], Call("keras.Input", kwargs=tuple(kwargs)), INDENT)
    for node in normalized:
        stats = Raw(f"preprocessing.get({literal(node.name)})")
        name = Raw(literal(f"{node.name}_normalization"))
        call = Call("normalize", (Raw(inputs[node.name]), stats), (("name", name),))
        lines += statement(scope.read(node.name), call, INDENT)
    return lines


def _layer_lines(loaded: LoadedSpec, graph: Graph, scope: _Scope) -> list[str]:
    lines: list[str] = []
    for node in graph.nodes:
        text = f"{spec_ref(node.path, layer_summary(node))} -> {fmt_shape(node.output.shape)}"
        note = spec_comment(loaded, node.path)
        if note:
            text += f"; {note}"
        lines += [""] + comment_lines(text, INDENT) + emit(node, scope)
    return lines


def _output_lines(loaded: LoadedSpec, graph: Graph, scope: _Scope) -> list[str]:
    if loaded.spec.task.type != "regression":
        return []
    lines = [
        "",
        f"{INDENT}# The network learns standardized targets; rescale its outputs to real units.",
        f"{INDENT}if target_scaling is not None:",
        f"{INDENT * 2}mean, std = target_scaling",
    ]
    for name in graph.outputs:
        var = scope.read(name)
        layer = Call(
            "layers.Rescaling",
            kwargs=(
                ("scale", Raw("std")),
                ("offset", Raw("mean")),
                ("name", Raw(literal(f"{name}_rescaling"))),
            ),
        )
        lines += statement(var, layer, INDENT * 2, Call.apply(Raw(var)))
    return lines


def _io(values: list[str]) -> Raw:
    return Raw(values[0] if len(values) == 1 else "[" + ", ".join(values) + "]")


def model_context(loaded: LoadedSpec, graph: Graph) -> dict[str, Any]:
    """Everything `model.py.j2` needs, as plain strings, lists and flags."""
    spec = loaded.spec
    scope = _Scope(loaded, graph)
    normalized = _normalized(loaded, graph)
    inputs = _assign_names(scope, normalized)
    body = _input_lines(graph, inputs, scope, normalized)
    body += _layer_lines(loaded, graph, scope)
    body += _output_lines(loaded, graph, scope)
    model = Call(
        "keras.Model",
        kwargs=(
            # a list even for one input: the data passes inputs as a dict keyed by input name
            ("inputs", Raw("[" + ", ".join(inputs[n.name] for n in graph.inputs) + "]")),
            ("outputs", _io([scope.read(n) for n in graph.outputs])),
            ("name", Raw(literal(spec.name))),
        ),
    )
    body += [""] + model.lines(INDENT, "return ")
    helpers = scope.helpers
    return {
        "docstring": docstring(loaded, graph),
        "package": spec.name,
        "regression": spec.task.type == "regression",
        "signature": ", ".join(f"{p}=None" for p in build_model_parameters(loaded, graph)),
        "normalize": bool(normalized),
        "gelu_tanh": "gelu_tanh" in helpers,
        "positional_embedding": "positional_embedding" in helpers,
        "transformer": any(h in helpers for h in TRANSFORMER_HELPERS),
        "transformer_encoder": "transformer_encoder" in helpers,
        "transformer_decoder": "transformer_decoder" in helpers,
        "body": body,
    }
