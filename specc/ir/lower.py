"""Lowering: a validated `Spec` becomes a `Graph` with names, wiring, resolved attributes, static
shapes and parameter counts, or `SpecErrors` listing every shape and wiring problem found.

Rules:

* Model inputs become `input` nodes (path `('model', 'inputs', i)`).
* Layers without a `name` are called `<type>_<k>`, k counting unnamed layers of that type from 1
  and skipping names the spec already uses.
* A layer reads the previous layer (the first model input for layer 0) unless it lists `inputs`.
  `add`, `multiply` and `concatenate` need two or more inputs; `attention` and
  `multi_head_attention` take 1 (self-attention) to 3 (`[query, value, key]`);
  `transformer_decoder` takes `[target, encoder_output]`; every other layer reads exactly one.
* `auto` activations resolve to ReLU in hidden layers and to the task's activation in output
  layers (looking through trailing `dropout` layers; a dense/conv feeding a final `activation`
  layer stays linear); `auto` initializers follow the resolved activation (He for the ReLU
  family, LeCun for SELU, Glorot otherwise).
* The outputs are `model.outputs` (or the last layer); their shapes must fit the task.

Errors carry a `path` into the spec and no location; the caller locates them
(`LoadedSpec.locate`).
"""

from __future__ import annotations

from typing import Any

from ..spec.errors import SpecError, SpecErrors
from ..spec.names import layer_names, layer_reads
from ..spec.schema import Spec
from ..spec.tasks import task_kind
from .graph import Graph, Node, TensorSpec
from .shapes import RULES, Ctx, fmt_shape

__all__ = ["lower", "resolve_initializer"]

HE_ACTIVATIONS = frozenset(
    {"relu", "relu6", "leaky_relu", "elu", "gelu", "gelu_tanh", "silu", "swish", "mish"}
)
WEIGHTED = frozenset(
    {"dense", "conv1d", "conv2d", "conv2d_transpose", "separable_conv2d", "depthwise_conv2d"}
)
# (fewest, most) inputs; None: no upper bound.
ARITY: dict[str, tuple[int, int | None]] = {
    "add": (2, None),
    "multiply": (2, None),
    "concatenate": (2, None),
    "attention": (1, 3),
    "multi_head_attention": (1, 3),
    "transformer_decoder": (2, 2),
}


def resolve_initializer(initializer: str, activation: str) -> str:
    """`auto` -> He normal for the ReLU family, LeCun normal for SELU, Glorot uniform otherwise."""
    if initializer != "auto":
        return initializer
    if activation in HE_ACTIVATIONS:
        return "he_normal"
    if activation == "selu":
        return "lecun_normal"
    return "glorot_uniform"


def _names(spec: Spec) -> list[str]:
    """The name of every layer, generated where the spec leaves it out (`spec.names`)."""
    return layer_names(spec)


def _arity_error(layer: Any, op: str, count: int, path: tuple) -> SpecError | None:
    low, high = ARITY.get(op, (1, 1))
    if low <= count and (high is None or count <= high):
        return None
    where = path + ("inputs",) if layer.inputs else path
    got = f"got {count} input{'s' if count != 1 else ''}"
    if op in ("add", "multiply", "concatenate"):
        return SpecError(
            where,
            f"{op} combines two or more inputs, {got}",
            "list them with `inputs: [a, b]`",
        )
    if op == "transformer_decoder":
        return SpecError(
            where,
            f"transformer_decoder reads [target, encoder_output], {got}",
            "name both with `inputs: [target, encoder_output]`",
        )
    if high == 3:
        return SpecError(
            where,
            f"{op} reads 1 (self-attention) to 3 inputs ([query, value, key]), {got}",
        )
    return SpecError(
        where,
        f"{op} reads one input, {got}",
        "combine them first with `concatenate`, `add` or `multiply`",
    )


def _reads(spec: Spec, names: list[str], i: int) -> list[str]:
    """What layer `i` reads: its `inputs`, else the previous layer (or the first model input)."""
    return layer_reads(spec, names, i)


def _heads(spec: Spec, names: list[str], outputs: list[str]) -> dict[str, str]:
    """Where an `auto` activation is not ReLU: the layer that produces an output (looking through
    trailing `dropout` layers) takes the task's activation; a weighted layer feeding a final
    `activation` layer stays linear, so the activation layer applies the only nonlinearity."""
    index = {name: i for i, name in enumerate(names)}
    layers = spec.model.layers

    def skip_dropout(name: str | None) -> str | None:
        while name in index and layers[index[name]].type == "dropout":
            reads = _reads(spec, names, index[name])
            name = reads[0] if len(reads) == 1 else None
        return name if name in index else None

    heads: dict[str, str] = {}
    for output in outputs:
        head = skip_dropout(output)
        if head is None:
            continue
        heads[head] = "task"
        if layers[index[head]].type == "activation":
            reads = _reads(spec, names, index[head])
            before = skip_dropout(reads[0]) if len(reads) == 1 else None
            if before is not None and layers[index[before]].type in WEIGHTED:
                heads.setdefault(before, "linear")
    return heads


def _resolve_attrs(layer: Any, role: str | None, task: str) -> dict[str, Any]:
    attrs: dict[str, Any] = {}
    activation = getattr(layer, "activation", None)
    if activation is None:
        return attrs
    if layer.type in ("transformer_encoder", "transformer_decoder", "simple_rnn"):
        attrs["activation"] = "relu" if activation == "auto" else activation
        return attrs
    if activation == "auto":
        task_activation = task_kind(task).activation
        activation = {"task": task_activation, "linear": "linear"}.get(role or "", "relu")
    attrs["activation"] = activation
    if layer.type in WEIGHTED:
        attrs["initializer"] = resolve_initializer(layer.initializer, activation)
    return attrs


def _check_output(node: Node, spec: Spec) -> SpecError | None:
    task = spec.task.type
    width = task_kind(task).width(spec.task)
    shape = node.output.shape
    if task == "seq2seq":
        if len(shape) == 2 and shape[-1] == width:
            return None
        needed = f"(steps, {width})"
        if len(shape) == 1:
            hint = "set `return_sequences: true` on the recurrent layer before it"
        else:
            hint = f"end with a `dense` layer of {width} units applied at every step"
    else:
        if shape == (width,):
            return None
        needed = f"({width},)"
        if len(shape) > 1:
            hint = "add a `flatten` or `global_pool` before it"
        else:
            hint = f"end with a `dense` layer of {width} units"
    return SpecError(
        node.path,
        f"the output has shape {fmt_shape(shape)} but a {task} task needs {needed}",
        hint,
    )


def lower(spec: Spec, *, check_task: bool = True) -> Graph:
    """Lower a validated spec to a `Graph`; raise `SpecErrors` with every problem found.

    `check_task=False` skips the check that output shapes fit the task (for building graphs of
    single layers, e.g. in tests).
    """
    spec = getattr(spec, "spec", spec)  # a LoadedSpec works too
    errors: list[SpecError] = []
    nodes: dict[str, Node] = {}
    inputs: list[Node] = []
    single = len(spec.model.inputs) == 1
    for i, inp in enumerate(spec.model.inputs):
        node = Node(
            name=inp.name,
            op="input",
            inputs=[],
            output=TensorSpec(tuple(inp.shape), inp.dtype),
            path=("model", "inputs", i),
            attrs={"source": inp.source or ("x" if single else inp.name)},
        )
        inputs.append(node)
        nodes[node.name] = node

    names = _names(spec)
    outputs = list(spec.model.outputs or [names[-1]])
    heads = _heads(spec, names, outputs)
    broken: set[str] = set()
    layer_nodes: list[Node] = []
    for i, (layer, name) in enumerate(zip(spec.model.layers, names, strict=True)):
        path: tuple[str | int, ...] = ("model", "layers", i)
        reads = _reads(spec, names, i)
        is_output = name in outputs
        attrs = _resolve_attrs(layer, heads.get(name), spec.task.type)
        problem = _arity_error(layer, layer.type, len(reads), path)
        if problem is not None:
            errors.append(problem)
        for j, ref in enumerate(reads):
            if ref not in nodes and ref not in broken:  # only in specs that skipped the checks
                where = path + ("inputs", j) if layer.inputs else path
                errors.append(SpecError(where, f"`{ref}` is not a model input or an earlier layer"))
                problem = problem or errors[-1]
        if problem is not None or any(r in broken for r in reads):
            broken.add(name)
            continue
        ctx = Ctx(
            name=name,
            op=layer.type,
            path=path,
            layer=layer,
            inputs=reads,
            specs=[nodes[r].output for r in reads],
            nodes=nodes,
            errors=errors,
            is_output=is_output,
            attrs=attrs,
        )
        output = RULES[layer.type](ctx)
        if output is None:
            broken.add(name)
            continue
        node = Node(
            name=name,
            op=layer.type,
            inputs=reads,
            output=output,
            path=path,
            layer=layer,
            states=list(ctx.states),
            params=ctx.params,
            trainable_params=ctx.params if ctx.trainable is None else ctx.trainable,
            attrs=ctx.attrs,
            is_output=is_output,
        )
        nodes[name] = node
        layer_nodes.append(node)

    for k, name in enumerate(outputs):
        if name not in nodes and name not in broken:
            errors.append(SpecError(("model", "outputs", k), f"`{name}` is not a layer name"))
    if check_task:
        for name in outputs:
            if name in nodes and name not in broken:
                problem = _check_output(nodes[name], spec)
                if problem is not None:
                    errors.append(problem)
    if errors:
        raise SpecErrors(errors)
    return Graph(name=spec.name, inputs=inputs, nodes=layer_nodes, outputs=outputs)
