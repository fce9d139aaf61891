"""Prose for the generated code: module docstrings, the `spec: PATH` references that tie code to
spec entries, one-line layer summaries, and the spec author's own trailing YAML comments.

Every comment or docstring of generated code that names the spec entry it comes from starts with
`spec_ref(path)`: `spec: model.layers[0]`, `spec: training.schedule (cosine)`, so a path reads as
a place in the spec file, never as Python (`model.layers[0]` of a Keras model is another thing).
"""

from __future__ import annotations

from collections.abc import Sequence

from ..ir.graph import Graph, Node
from ..ir.shapes import fmt_shape
from ..spec import LoadedSpec
from ..spec.errors import dotted
from ..spec.tasks import task_kind
from .pyfmt import doc_text, wrap

__all__ = [
    "docstring",
    "layer_summary",
    "network_sentence",
    "spec_comment",
    "spec_ref",
    "task_phrase",
]


def spec_ref(path: str | Sequence[str | int], detail: str | None = None) -> str:
    """`spec: model.layers[0]`, or `spec: training.schedule (cosine)` with a `detail`."""
    text = path if isinstance(path, str) else dotted(path)
    return f"spec: {text}" + (f" ({detail})" if detail else "")


def _size(value: int | Sequence[int]) -> str:
    return "x".join(str(v) for v in value) if not isinstance(value, int) else f"{value}"


def _window(value: int | Sequence[int], rank: int) -> str:
    return _size((value,) * rank if isinstance(value, int) else value)


CONVOLUTIONS = frozenset(
    {"conv1d", "conv2d", "conv2d_transpose", "separable_conv2d", "depthwise_conv2d"}
)


def layer_summary(node: Node) -> str:
    """`conv2d 32@3x3, same`, `dense 10, softmax`, `lstm 128, returns state`, ..."""
    spec, op, attrs = node.layer, node.op, node.attrs
    parts: list[str]
    if op == "dense":
        parts = [f"dense {spec.units}", attrs.get("activation", "linear")]
    elif op in CONVOLUTIONS:
        rank = 1 if op == "conv1d" else 2
        filters = getattr(spec, "filters", None)
        window = _window(spec.kernel_size, rank)
        parts = [f"{op} {filters}@{window}" if filters else f"{op} {window}", spec.padding]
        if getattr(spec, "depth_multiplier", 1) != 1:
            parts.append(f"depth multiplier {spec.depth_multiplier}")
        if spec.strides not in (1, [1, 1]):
            parts.append(f"stride {_window(spec.strides, rank)}")
        parts.append(attrs.get("activation", "linear"))
    elif op.endswith(("pool1d", "pool2d")):
        parts = [f"{op} {_window(spec.pool_size, 1 if op.endswith('1d') else 2)}"]
    elif op == "global_pool":
        parts = [f"global {spec.mode} pool"]
    elif op == "reshape":
        parts = [f"reshape to {tuple(spec.target_shape)}"]
    elif op.startswith("upsampling"):
        parts = [f"{op} by {_window(spec.size, 1 if op.endswith('1d') else 2)}"]
        parts += (
            [spec.interpolation] if getattr(spec, "interpolation", "nearest") != "nearest" else []
        )
    elif op == "repeat_vector":
        parts = [f"repeat {spec.n} times"]
    elif op == "one_hot":
        parts = [f"one-hot over {spec.num_tokens} tokens"]
    elif op == "dropout":
        parts = [f"dropout {spec.rate}"]
    elif op == "activation":
        parts = [f"activation {attrs.get('activation', spec.activation)}"]
    elif op == "embedding":
        parts = [f"embedding of {spec.input_dim} tokens, width {spec.output_dim}"]
    elif op == "positional_embedding":
        parts = [f"learned positions (up to {spec.max_length}), width {spec.output_dim}"]
        if spec.input_dim:
            parts.append(f"after a token embedding of {spec.input_dim}")
    elif op in ("lstm", "gru", "simple_rnn"):
        parts = [f"{op} {spec.units}"]
        parts += ["every step"] if spec.return_sequences else []
        parts += ["returns its state"] if spec.return_state else []
        if spec.initial_state:
            parts.append(f"starts from the state of {spec.initial_state}")
    elif op == "bidirectional":
        parts = [f"bidirectional {spec.layer.type} {spec.layer.units}", spec.merge_mode]
    elif op in ("attention", "multi_head_attention"):
        kind = "self-attention" if len(node.inputs) == 1 else "attention"
        if op == "multi_head_attention":
            parts = [f"{spec.num_heads}-head {kind}, key_dim {spec.key_dim}"]
        else:
            parts = [f"{spec.score} {kind}"]
        parts += ["causal"] if spec.causal else []
    elif op in ("transformer_encoder", "transformer_decoder"):
        norm = "pre-norm" if spec.norm_first else "post-norm"
        parts = [f"{op} block, {spec.num_heads} heads, ff {spec.ff_dim}", norm]
    elif op in ("add", "multiply", "concatenate"):
        parts = [f"{op} {', '.join(node.inputs)}"]
    elif op == "backbone":
        parts = [f"backbone {spec.source}", spec.freeze]
    else:
        parts = [op]
    if getattr(spec, "dropout", 0) and (op == "dense" or op in CONVOLUTIONS):
        parts.append(f"dropout {spec.dropout}")
    return ", ".join(parts)


def task_phrase(loaded: LoadedSpec) -> str:
    """What the network does, e.g. `classifies into 10 classes` (from the task's record)."""
    return task_kind(loaded.spec).phrase(loaded.spec.task)


def _is_chain(graph: Graph) -> bool:
    previous = graph.inputs[0].name if len(graph.inputs) == 1 else None
    for node in graph.nodes:
        if node.inputs != [previous]:
            return False
        previous = node.name
    return True


def _layer_list(graph: Graph, joiner: str) -> str:
    runs: list[list] = []
    for node in graph.nodes:
        if runs and runs[-1][0] == node.op:
            runs[-1][1] += 1
        else:
            runs.append([node.op, 1])
    return joiner.join(op if n == 1 else f"{op} x{n}" for op, n in runs)


def network_sentence(loaded: LoadedSpec, graph: Graph) -> str:
    """One paragraph: what the network predicts from what, its layers and size."""
    inputs = ", ".join(f"`{n.name}` {fmt_shape(n.output.shape)}" for n in graph.inputs)
    if _is_chain(graph):
        layers = f"a stack of {len(graph.nodes)} layers: {_layer_list(graph, ' -> ')}"
    else:
        layers = f"a graph of {len(graph.nodes)} layers: {_layer_list(graph, ', ')}"
    if any(n.attrs.get("params_unknown") for n in graph.nodes):
        size = f"{graph.params:,} parameters besides the backbone"
    else:
        size = f"{graph.params:,} parameters"
    return f"The network {task_phrase(loaded)} from {inputs} with {layers}; {size}."


def docstring(loaded: LoadedSpec, graph: Graph) -> list[str]:
    """Lines of the module docstring of the generated model module (without the quotes)."""
    spec = loaded.spec
    described = " ".join(spec.description.split())
    title = doc_text(f"{spec.name}: {described}" if described else spec.name)
    lines = [title] if len(title) <= 94 else [spec.name, "", *wrap(spec.description)]
    lines += ["", *wrap(network_sentence(loaded, graph)), ""]
    lines += wrap(
        f"Generated by specc from {loaded.path.name} (spec hash {loaded.spec_hash}); change the "
        "spec and regenerate rather than editing this file. `build_model()` returns the untrained "
        "model; train.py trains it."
    )
    return lines


def spec_comment(loaded: LoadedSpec, path: tuple) -> str | None:
    """The `# comment` at the end of the spec line where the entry at `path` starts."""
    matched, line, _, full = loaded.source.resolve(path)
    if not full or not 0 < line <= len(loaded.text.splitlines()):
        return None
    text = loaded.text.splitlines()[line - 1]
    quote = None
    for i, ch in enumerate(text):
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or text[i - 1].isspace()):
            comment = text[i + 1 :].strip()
            return comment or None
    return None
