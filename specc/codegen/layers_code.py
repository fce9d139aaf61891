"""Per-layer code: one emitter per IR op turns a `Node` into the statements of `build_model()`.

Every emitter writes one Keras statement per layer (plus a `Dropout` for a `dropout:` field),
names the layer after the IR node and spells out only keyword arguments whose value differs
from the Keras default, so the generated code reads like hand-written Keras. Emitters get their
variable names, activations and helpers from a `Scope` (see `model_context`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from ..ir.graph import Node
from .pyfmt import INDENT, Arg, Call, Raw, literal, statement

__all__ = ["EMITTERS", "Scope", "emit"]


class Scope(Protocol):
    """What an emitter needs from the model being generated."""

    def read(self, name: str) -> str:
        """The variable holding the output of node `name`."""

    def target(self, node: Node) -> str:
        """The variable this node's output goes to."""

    def states(self, name: str) -> list[str]:
        """The variables holding the final states of recurrent node `name`."""

    def activation(self, name: str) -> Arg:
        """The `activation=` value for activation `name` (registers helpers it needs)."""

    def use_helper(self, name: str) -> None:
        """Include helper `name` (a function or class) in the model module."""

    def input_shape(self, node: Node) -> tuple[int | None, ...]:
        """Shape (without the batch axis) of the first input of `node`."""

    def backbone_path(self, source: str) -> str:
        """Where a `.keras` backbone file is, as written into the code."""


Emitter = Callable[[Node, Scope], list[str]]
EMITTERS: dict[str, Emitter] = {}


def emitter(*ops: str) -> Callable[[Emitter], Emitter]:
    def register(fn: Emitter) -> Emitter:
        for op in ops:
            EMITTERS[op] = fn
        return fn

    return register


def emit(node: Node, scope: Scope) -> list[str]:
    """The statements for `node`, indented for the body of `build_model()`."""
    return EMITTERS[node.op](node, scope)


# --------------------------------------------------------------------------- helpers


def lit(value: Any) -> Raw:
    return Raw(literal(tuple(value) if isinstance(value, list) else value))


def kw(**values: Any) -> tuple[tuple[str, Arg], ...]:
    """Keyword arguments, dropping those given as None (= the Keras default)."""
    return tuple(
        (k, v if isinstance(v, (Raw, Call)) else lit(v)) for k, v in values.items() if v is not None
    )


def unless(value: Any, default: Any) -> Any:
    """`value` as the spec wrote it (`3`, `(3, 5)`), or None when it equals the Keras default
    (so it is left out); an integer equals a tuple default of that integer repeated."""
    if isinstance(value, list):
        value = tuple(value)
    same = value == default
    if isinstance(default, tuple) and isinstance(value, int):
        same = (value,) * len(default) == default
    return None if same else value


def apply(node: Node, scope: Scope, layer: Call, call: Call | None = None) -> list[str]:
    """`target = layer(call)`; `call` defaults to the node's single input."""
    then = call if call is not None else Call.apply(Raw(scope.read(node.inputs[0])))
    return statement(scope.target(node), layer, INDENT, then)


def reads(node: Node, scope: Scope) -> list[Raw]:
    return [Raw(scope.read(name)) for name in node.inputs]


def regularizer(reg: Any) -> Call | None:
    if reg is None or (reg.l1 == 0 and reg.l2 == 0):
        return None
    return Call("keras.regularizers.L1L2", kwargs=kw(l1=reg.l1 or None, l2=reg.l2 or None))


def weighted(node: Node, scope: Scope) -> dict[str, Any]:
    """Keyword arguments of dense and convolution layers (activation, bias, init, penalties)."""
    layer = node.layer
    activation = node.attrs.get("activation", "linear")
    initializer = node.attrs.get("initializer", "glorot_uniform")
    return {
        "activation": None if activation == "linear" else scope.activation(activation),
        "use_bias": None if layer.use_bias else False,
        "kernel_initializer": unless(initializer, "glorot_uniform"),
        "kernel_regularizer": regularizer(layer.regularizer),
    }


def with_dropout(node: Node, scope: Scope, lines: list[str]) -> list[str]:
    """Append the `Dropout` layer that a `dropout:` field on dense/conv asks for."""
    rate = node.layer.dropout
    if not rate:
        return lines
    target = scope.target(node)
    layer = Call("layers.Dropout", (lit(rate),), kw(name=f"{node.name}_dropout"))
    return lines + statement(target, layer, INDENT, Call.apply(Raw(target)))


# --------------------------------------------------------------------------- core layers


@emitter("dense")
def _dense(node: Node, scope: Scope) -> list[str]:
    layer = Call(
        "layers.Dense", (lit(node.layer.units),), kw(**weighted(node, scope), name=node.name)
    )
    return with_dropout(node, scope, apply(node, scope, layer))


@emitter("conv1d", "conv2d")
def _conv(node: Node, scope: Scope) -> list[str]:
    spec = node.layer
    ones = (1,) if node.op == "conv1d" else (1, 1)
    kernel = spec.kernel_size if isinstance(spec.kernel_size, int) else tuple(spec.kernel_size)
    args = kw(
        strides=unless(spec.strides, ones),
        padding=unless(spec.padding, "valid"),
        dilation_rate=unless(spec.dilation_rate, ones),
        **weighted(node, scope),
        name=node.name,
    )
    cls = "layers.Conv1D" if node.op == "conv1d" else "layers.Conv2D"
    layer = Call(cls, (lit(spec.filters), lit(kernel)), args)
    return with_dropout(node, scope, apply(node, scope, layer))


_POOLS = {
    "max_pool1d": "layers.MaxPooling1D",
    "avg_pool1d": "layers.AveragePooling1D",
    "max_pool2d": "layers.MaxPooling2D",
    "avg_pool2d": "layers.AveragePooling2D",
}


@emitter(*_POOLS)
def _pool(node: Node, scope: Scope) -> list[str]:
    spec = node.layer
    rank = 1 if node.op.endswith("1d") else 2
    pool = tuple(spec.pool_size) if isinstance(spec.pool_size, list) else spec.pool_size
    strides = spec.strides
    if strides is not None and unless(strides, _pair(spec.pool_size, rank)) is None:
        strides = None  # Keras pools step by the pool size by default
    args = kw(  # the pool size is always written: average pooling has no default
        strides=unless(strides, None), padding=unless(spec.padding, "valid"), name=node.name
    )
    return apply(node, scope, Call(_POOLS[node.op], (lit(pool),), args))


def _pair(value: int | list[int], rank: int) -> tuple[int, ...]:
    return (value,) * rank if isinstance(value, int) else tuple(value)


@emitter("global_pool")
def _global_pool(node: Node, scope: Scope) -> list[str]:
    kind = "Average" if node.layer.mode == "avg" else "Max"
    dims = node.attrs.get("spatial_dims", len(scope.input_shape(node)) - 1)
    cls = f"layers.Global{kind}Pooling{dims}D"
    return apply(node, scope, Call(cls, kwargs=kw(name=node.name)))


@emitter("flatten")
def _flatten(node: Node, scope: Scope) -> list[str]:
    return apply(node, scope, Call("layers.Flatten", kwargs=kw(name=node.name)))


@emitter("reshape")
def _reshape(node: Node, scope: Scope) -> list[str]:
    shape = tuple(node.layer.target_shape)
    return apply(node, scope, Call("layers.Reshape", (lit(shape),), kw(name=node.name)))


@emitter("dropout")
def _dropout(node: Node, scope: Scope) -> list[str]:
    layer = Call("layers.Dropout", (lit(node.layer.rate),), kw(name=node.name))
    return apply(node, scope, layer)


@emitter("batch_norm")
def _batch_norm(node: Node, scope: Scope) -> list[str]:
    spec = node.layer
    args = kw(
        momentum=unless(spec.momentum, 0.99), epsilon=unless(spec.epsilon, 1e-3), name=node.name
    )
    return apply(node, scope, Call("layers.BatchNormalization", kwargs=args))


@emitter("layer_norm")
def _layer_norm(node: Node, scope: Scope) -> list[str]:
    args = kw(epsilon=unless(node.layer.epsilon, 1e-3), name=node.name)
    return apply(node, scope, Call("layers.LayerNormalization", kwargs=args))


@emitter("activation")
def _activation(node: Node, scope: Scope) -> list[str]:
    activation = node.attrs.get("activation", node.layer.activation)
    layer = Call("layers.Activation", (scope.activation(activation),), kw(name=node.name))
    return apply(node, scope, layer)


@emitter("add", "multiply", "concatenate")
def _merge(node: Node, scope: Scope) -> list[str]:
    cls = {"add": "layers.Add", "multiply": "layers.Multiply", "concatenate": "layers.Concatenate"}
    axis = unless(node.layer.axis, -1) if node.op == "concatenate" else None
    layer = Call(cls[node.op], kwargs=kw(axis=axis, name=node.name))
    return apply(node, scope, layer, Call.apply(Call.list(tuple(reads(node, scope)))))


# --------------------------------------------------------------------------- embeddings


@emitter("embedding")
def _embedding(node: Node, scope: Scope) -> list[str]:
    spec = node.layer
    args = kw(
        input_dim=spec.input_dim,
        output_dim=spec.output_dim,
        mask_zero=spec.mask_zero or None,
        name=node.name,
    )
    return apply(node, scope, Call("layers.Embedding", kwargs=args))


@emitter("positional_embedding")
def _positional_embedding(node: Node, scope: Scope) -> list[str]:
    spec = node.layer
    scope.use_helper("positional_embedding")
    args = kw(
        max_length=spec.max_length,
        output_dim=spec.output_dim,
        input_dim=spec.input_dim,
        name=node.name,
    )
    return apply(node, scope, Call("PositionalEmbedding", kwargs=args))


# --------------------------------------------------------------------------- recurrent


RECURRENT = {"lstm": "layers.LSTM", "gru": "layers.GRU", "simple_rnn": "layers.SimpleRNN"}


def recurrent_layer(kind: str, spec: Any, name: str | None, **extra: Any) -> Call:
    cls = RECURRENT[kind]
    args = kw(
        return_sequences=spec.return_sequences or None,
        **extra,
        dropout=spec.dropout or None,
        recurrent_dropout=spec.recurrent_dropout or None,
        kernel_regularizer=regularizer(getattr(spec, "regularizer", None)),
        name=name,
    )
    return Call(cls, (lit(spec.units),), args)


@emitter(*RECURRENT)
def _recurrent(node: Node, scope: Scope) -> list[str]:
    spec = node.layer
    activation = node.attrs.get("activation", "tanh")  # simple_rnn's; lstm and gru use tanh
    layer = recurrent_layer(
        node.op,
        spec,
        node.name,
        activation=None if activation == "tanh" else scope.activation(activation),
        return_state=spec.return_state or None,
    )
    source = node.attrs.get("initial_state")
    if source is None:
        call = Call.apply(*reads(node, scope))
    else:
        states = Call.list(tuple(Raw(s) for s in scope.states(source)))
        call = Call.apply(*reads(node, scope), initial_state=states)
    target = scope.target(node)
    if spec.return_state:
        target = ", ".join([target, *scope.states(node.name)])
    return statement(target, layer, INDENT, call)


@emitter("bidirectional")
def _bidirectional(node: Node, scope: Scope) -> list[str]:
    spec = node.layer
    inner = recurrent_layer(spec.layer.type, spec.layer, None)
    args = kw(merge_mode=unless(spec.merge_mode, "concat"), name=node.name)
    return apply(node, scope, Call("layers.Bidirectional", (inner,), args))


# --------------------------------------------------------------------------- attention


@emitter("attention")
def _attention(node: Node, scope: Scope) -> list[str]:
    spec = node.layer
    cls = "layers.AdditiveAttention" if spec.score == "additive" else "layers.Attention"
    layer = Call(cls, kwargs=kw(dropout=spec.dropout or None, name=node.name))
    sequences = reads(node, scope)
    if len(sequences) == 1:
        sequences *= 2  # self-attention: the sequence is query and value
    causal = {"use_causal_mask": Raw("True")} if spec.causal else {}
    return apply(node, scope, layer, Call.apply(Call.list(tuple(sequences)), **causal))


@emitter("multi_head_attention")
def _multi_head_attention(node: Node, scope: Scope) -> list[str]:
    spec = node.layer
    args = kw(
        num_heads=spec.num_heads,
        key_dim=spec.key_dim,
        dropout=spec.dropout or None,
        name=node.name,
    )
    sequences = reads(node, scope)
    roles = {"query": sequences[0], "value": sequences[1 if len(sequences) > 1 else 0]}
    if len(sequences) > 2:
        roles["key"] = sequences[2]
    if spec.causal:
        roles["use_causal_mask"] = Raw("True")
    return apply(node, scope, Call("layers.MultiHeadAttention", kwargs=args), Call.apply(**roles))


@emitter("transformer_encoder", "transformer_decoder")
def _transformer(node: Node, scope: Scope) -> list[str]:
    spec = node.layer
    scope.use_helper(node.op)
    args = kw(
        num_heads=spec.num_heads,
        ff_dim=spec.ff_dim,
        dropout=spec.dropout,
        activation=scope.activation(node.attrs.get("activation", spec.activation)),
        norm_first=spec.norm_first,
        epsilon=spec.epsilon,
        name=node.name,
    )
    block = Call(f"{node.op}_block", tuple(reads(node, scope)), args)
    return statement(scope.target(node), block, INDENT)


# --------------------------------------------------------------------------- backbone


@emitter("backbone")
def _backbone(node: Node, scope: Scope) -> list[str]:
    spec = node.layer
    net = f"{node.name}_model"
    if spec.source.startswith("applications:"):
        app = spec.source.split(":", 1)[1]
        weights = spec.weights
        if weights not in (None, "imagenet"):  # a local weights file, relative to the spec
            weights = scope.backbone_path(weights)
        args = kw(
            include_top=False,
            weights=weights if weights is not None else Raw("None"),
            input_shape=tuple(scope.input_shape(node)),
            pooling=spec.pooling,
            name=node.name,
        )
        lines = statement(net, Call(f"keras.applications.{app}", kwargs=args), INDENT)
    else:
        load = Call("keras.saving.load_model", (lit(scope.backbone_path(spec.source)),))
        lines = statement(net, load, INDENT)
        if spec.output_layer is not None:
            lines.append(f"{INDENT}# output_layer: the backbone ends at this layer's output")
            end = f"{net}_end"
            lines += statement(end, Call(f"{net}.get_layer", (lit(spec.output_layer),)), INDENT)
            cut = (Raw(f"{net}.inputs"), Raw(f"{end}.output"))
            lines += statement(net, Call("keras.Model", cut, kw(name=node.name)), INDENT)
    if spec.freeze == "feature_extractor":
        lines.append(f"{INDENT}{net}.trainable = False")
        call = f"{scope.read(node.inputs[0])}, training=False"  # batch norm stays in inference
    elif spec.freeze == "hybrid":
        lines.append(f"{INDENT}for layer in {net}.layers[:{spec.frozen_layers}]:")
        lines.append(f"{INDENT}{INDENT}layer.trainable = False")
        call = scope.read(node.inputs[0])
    else:  # fine_tune: every layer trains
        call = scope.read(node.inputs[0])
    return lines + [f"{INDENT}{scope.target(node)} = {net}({call})"]
