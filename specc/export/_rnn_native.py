"""Recurrent Keras layers as the native ONNX `GRU`, `LSTM` and `RNN` ops.

tf2onnx turns the `tf.while_loop` of a Keras 3 recurrent layer into a native op only when the
loop body matches one of its cell patterns. Keras 3's LSTM matches; its GRU does not (the
recurrent bias comes out of `ops.split`/`squeeze` and the recurrent matrix is cut with strided
slices, where tf2onnx's `keras_gru_pattern` expects the tf.keras 2 `split`s), and SimpleRNN has
no pattern at all: those become a generic ONNX `Loop`, which runtimes and compilers handle
poorly and which `onnx.reference` evaluates with wrong shapes.

Rather than match TensorFlow op patterns (which change with every Keras release), the layer
itself is converted, from what Keras says it is:

1. While the model is traced (`native_recurrent`), the `call` of every recurrent layer whose
   configuration maps is wrapped: its input sequence and initial states pass through
   `tf.stop_gradient` ops named `specc_rnn_<k>_in<j>` and its outputs through ones named
   `specc_rnn_<k>_out<j>` (numerically identities that grappler keeps), and a `Plan` records
   the layer's weights in ONNX layout. A call the ONNX op cannot express (a mask) is left
   alone. A `Bidirectional` layer is one op when it can be (no initial state, no
   `return_state`, a merge mode), else its two layers are one op each; inside a marked
   call, the layers it calls are not marked again.
2. A tf2onnx rewriter (`rewriter(plans)`) builds the native op between the markers of each
   plan and reconnects the output markers to it; tf2onnx then deletes the now unused loop.
   A plan whose input markers are not all found is skipped, so the layer keeps its `Loop`;
   an output marker is missing when the model never reads that output (the trace drops it).

The verify stage's parity check (Keras vs ONNX Runtime) covers the result like any other
export. Gate orders: Keras GRU (z, r, h) = ONNX (z, r, h), `reset_after=True` is
`linear_before_reset=1` with both biases; Keras LSTM (i, f, c, o) -> ONNX (i, o, f, c).
"""

from __future__ import annotations

import contextlib
import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

__all__ = ["Call", "Plan", "native_recurrent", "plan_for", "rewriter"]

MARKER = re.compile(r"(?:^|/)specc_rnn_(\d+)_(in|out)(\d+)(?:_\d+)?$")
# Keras activation name -> ONNX activation name, as the ONNX op and onnx.reference both run it.
_ACTIVATIONS = {"tanh": "Tanh", "sigmoid": "Sigmoid", "relu": "Relu"}
_MERGES = ("concat", "sum", "mul", "ave")


@dataclass(frozen=True)
class Plan:
    """One recurrent layer (or a bidirectional pair) as one native ONNX op."""

    layer: str
    """The Keras layer's name (for messages and tests)."""
    op: str
    """`GRU`, `LSTM` or `RNN`."""
    hidden: int
    direction: str
    """`forward`, `reverse` (Keras `go_backwards`) or `bidirectional`."""
    weights: tuple[Any, Any, Any]
    """W, R, B in ONNX layout, with the leading num_directions axis."""
    activations: tuple[str, ...]
    linear_before_reset: int | None
    return_sequences: bool
    n_states: int
    """States the layer returns (`return_state`) or takes as `initial_state`: 0, 1 or 2."""
    merge_mode: str | None = None


@dataclass(frozen=True)
class Call:
    """A plan as traced: how many initial states went in and how many outputs came out."""

    plan: Plan
    n_states: int
    n_outputs: int


def _activation(fn: Any) -> str | None:
    import keras

    for name, onnx_name in _ACTIVATIONS.items():
        if fn is getattr(keras.activations, name):
            return onnx_name
    return None


def _single(layer: Any) -> tuple[str, Any, Any, Any, tuple[str, ...], int | None] | None:
    """(op, W, R, B, activations, linear_before_reset) of one direction, or None."""
    import keras
    import numpy as np

    kinds = {keras.layers.GRU: "GRU", keras.layers.LSTM: "LSTM", keras.layers.SimpleRNN: "RNN"}
    op = kinds.get(type(layer))
    if op is None or layer.stateful or layer.compute_dtype != "float32":
        return None
    cell = layer.cell
    act = _activation(cell.activation)
    if op == "RNN":
        acts: tuple[str, ...] = (act,) if act else ()
    else:
        gate = _activation(cell.recurrent_activation)
        # onnx.reference and most runtimes implement GRU/LSTM with the default activations only
        acts = ("Sigmoid", "Tanh") if (gate, act) == ("Sigmoid", "Tanh") else ()
        if op == "LSTM" and acts:
            acts = (*acts, "Tanh")
    if not acts:
        return None
    units = cell.units
    kernel = np.asarray(cell.kernel.numpy(), np.float32)
    recurrent = np.asarray(cell.recurrent_kernel.numpy(), np.float32)
    n_gates = kernel.shape[1] // units
    bias = np.asarray(cell.bias.numpy(), np.float32) if cell.use_bias else None
    w_bias = np.zeros(n_gates * units, np.float32)
    r_bias = np.zeros(n_gates * units, np.float32)
    linear_before_reset = None
    if op == "GRU":
        linear_before_reset = int(bool(cell.reset_after))
        if bias is not None and cell.reset_after:
            w_bias, r_bias = bias[0], bias[1]
        elif bias is not None:
            w_bias = bias
    elif bias is not None:
        w_bias = bias
    if op == "LSTM":  # Keras i, f, c, o -> ONNX i, o, f, c
        order = np.concatenate([np.arange(units) + g * units for g in (0, 3, 1, 2)])
        kernel, recurrent, w_bias = kernel[:, order], recurrent[:, order], w_bias[order]
    return (
        op,
        np.ascontiguousarray(kernel.T),
        np.ascontiguousarray(recurrent.T),
        np.concatenate([w_bias, r_bias]),
        acts,
        linear_before_reset,
    )


def plan_for(layer: Any) -> Plan | None:
    """The native-op plan of a Keras recurrent or Bidirectional layer, None where none maps."""
    import keras
    import numpy as np

    if type(layer) is keras.layers.Bidirectional:
        if layer.merge_mode not in _MERGES or layer.return_state:
            return None
        fw, bw = layer.forward_layer, layer.backward_layer
        pair = (_single(fw), _single(bw))
        if None in pair or fw.go_backwards or not bw.go_backwards:
            return None
        (op, *w_fw, acts, lbr), (op_bw, *w_bw, acts_bw, lbr_bw) = pair
        if (op, acts, lbr, fw.cell.units) != (op_bw, acts_bw, lbr_bw, bw.cell.units):
            return None
        if fw.return_sequences != bw.return_sequences:
            return None
        weights = tuple(np.stack([a, b]) for a, b in zip(w_fw, w_bw, strict=True))
        return Plan(
            layer=layer.name,
            op=op,
            hidden=fw.cell.units,
            direction="bidirectional",
            weights=weights,
            activations=acts * 2,
            linear_before_reset=lbr,
            return_sequences=fw.return_sequences,
            n_states=0,
            merge_mode=layer.merge_mode,
        )
    one = _single(layer)
    if one is None:
        return None
    op, w, r, b, acts, lbr = one
    return Plan(
        layer=layer.name,
        op=op,
        hidden=layer.cell.units,
        direction="reverse" if layer.go_backwards else "forward",
        weights=(w[None], r[None], b[None]),
        activations=acts,
        linear_before_reset=lbr,
        return_sequences=layer.return_sequences,
        n_states=2 if op == "LSTM" else 1,
        merge_mode=None,
    )


def _layers(model: Any) -> Iterator[Any]:
    for layer in getattr(model, "layers", ()):
        yield layer
        if hasattr(layer, "layers") and not hasattr(layer, "forward_layer"):
            yield from _layers(layer)  # a nested model (a backbone)


@contextlib.contextmanager
def native_recurrent(model: Any, *, enabled: bool = True) -> Iterator[dict[int, Call]]:
    """While active, mapped recurrent layers mark their calls; yields token -> Call.

    The plans are filled in as the model is traced: a layer called twice gets two tokens.
    Not `enabled`, nothing is marked (tf2onnx's own conversion, for comparisons).
    """
    plans: dict[int, Call] = {}
    state = {"counter": itertools.count(), "depth": 0}
    patched = []
    try:
        for outer in _layers(model) if enabled else ():
            # a Bidirectional's own layers too: they map one by one where the pair cannot
            inner = (getattr(outer, "forward_layer", None), getattr(outer, "backward_layer", None))
            for layer in (outer, *(x for x in inner if x is not None)):
                plan = plan_for(layer)
                if plan is None:
                    continue
                patched.append((layer, layer.__dict__.get("call")))
                object.__setattr__(layer, "call", _marked(layer.call, plan, plans, state))
        yield plans
    finally:
        for layer, own in patched:  # the instance attribute goes; the class's call is back
            if own is None:
                object.__delattr__(layer, "call")
            else:
                object.__setattr__(layer, "call", own)


def _marked(call: Callable, plan: Plan, plans: dict[int, Call], state: dict) -> Callable:
    import keras
    import tensorflow as tf

    def wrapper(sequences, initial_state=None, mask=None, **kwargs):
        states = [] if initial_state is None else keras.tree.flatten(initial_state)
        masked = mask is not None or getattr(sequences, "_keras_mask", None) is not None
        takes_states = plan.direction != "bidirectional" and len(states) == plan.n_states
        inside = state["depth"] > 0  # a marked Bidirectional's own layers are part of its op
        if inside or masked or (states and not takes_states) or len(sequences.shape) != 3:
            return call(sequences, initial_state=initial_state, mask=mask, **kwargs)
        k = next(state["counter"])
        sequences = tf.stop_gradient(sequences, name=f"specc_rnn_{k}_in0")
        states = [
            tf.stop_gradient(s, name=f"specc_rnn_{k}_in{j + 1}") for j, s in enumerate(states)
        ]
        state["depth"] += 1
        try:
            out = call(sequences, initial_state=states or None, mask=None, **kwargs)
        finally:
            state["depth"] -= 1
        flat = keras.tree.flatten(out)
        marked = [tf.stop_gradient(t, name=f"specc_rnn_{k}_out{j}") for j, t in enumerate(flat)]
        if len(flat) in (1, 1 + plan.n_states):  # else unplanned: the markers stay identities
            plans[k] = Call(plan, n_states=len(states), n_outputs=len(flat))
        return keras.tree.pack_sequence_as(out, marked)

    return wrapper


# --------------------------------------------------------------------------------------------
# the tf2onnx rewriter


def rewriter(calls: dict[int, Call]) -> Callable:
    """A tf2onnx rewriter that puts the native op of every marked call in place."""

    def rewrite(g, ops):
        found: dict[int, dict[str, dict[int, Any]]] = {}
        for node in ops:
            m = MARKER.search(node.name) if node.type == "StopGradient" else None
            if m and int(m.group(1)) in calls:
                slots = found.setdefault(int(m.group(1)), {"in": {}, "out": {}})
                slots[m.group(2)].setdefault(int(m.group(3)), node)
        for k, slots in sorted(found.items()):
            call = calls[k]
            if sorted(slots["in"]) != list(range(1 + call.n_states)):
                continue  # a marker went missing: the layer keeps tf2onnx's conversion
            if not slots["out"] or not set(slots["out"]) <= set(range(call.n_outputs)):
                continue  # (an output the model never reads has lost its marker: fine)
            _build(g, call, slots["in"], slots["out"])
        return g.get_nodes()

    return rewrite


def _build(g, call: Call, ins: dict[int, Any], outs: dict[int, Any]) -> None:
    import numpy as np
    from onnx import TensorProto
    from tf2onnx import utils
    from tf2onnx.graph_builder import GraphBuilder

    plan = call.plan
    gb = GraphBuilder(g)
    base = utils.make_name(f"{plan.layer}_native")
    f32 = TensorProto.FLOAT

    def node(op, inputs, attr=None, count=1):
        made = g.make_node(
            op,
            inputs,
            attr=attr or {},
            output_count=count,
            op_name_scope=base,
            dtypes=[f32] * count,
        )
        return made.output

    def const(name, value):
        return g.make_const(utils.make_name(f"{base}/{name}"), value).output[0]

    x = node("Transpose", [ins[0].output[0]], {"perm": [1, 0, 2]})[0]
    inputs = [x, *(const(n, w) for n, w in zip("WRB", plan.weights, strict=True)), ""]
    for j in range(1, 1 + call.n_states):
        inputs.append(gb.make_unsqueeze({"data": ins[j].output[0], "axes": [0]}))
    while inputs[-1] == "":
        inputs.pop()
    attr: dict[str, Any] = {
        "hidden_size": plan.hidden,
        "direction": plan.direction,
        "activations": list(plan.activations),
    }
    if plan.linear_before_reset is not None:
        attr["linear_before_reset"] = plan.linear_before_reset
    n_out = 3 if plan.op == "LSTM" else 2
    y, *finals = node(plan.op, inputs, attr, n_out)

    def pick(tensor, index, axis):  # one direction of a native op's output
        index = const("index", np.array(index, np.int64))
        return node("Gather", [tensor, index], {"axis": axis})[0]

    def merged(parts):
        if len(parts) == 1:
            return parts[0]
        op = {"concat": "Concat", "sum": "Add", "mul": "Mul", "ave": "Add"}[plan.merge_mode]
        out = node(op, parts, {"axis": -1} if op == "Concat" else None)[0]
        if plan.merge_mode == "ave":
            out = node("Div", [out, const("two", np.array(2.0, np.float32))])[0]
        return out

    n_dir = 2 if plan.direction == "bidirectional" else 1
    if plan.return_sequences:
        seq = merged([pick(y, d, 1) for d in range(n_dir)])  # (time, batch, units)
        if plan.direction == "reverse":  # go_backwards returns the steps in reverse order
            seq = gb.make_slice(
                {"data": seq, "starts": [-1], "ends": [-(2**62)], "axes": [0], "steps": [-1]}
            )
        first = node("Transpose", [seq], {"perm": [1, 0, 2]})[0]
    else:
        first = merged([pick(finals[0], d, 0) for d in range(n_dir)])
    results = [first] + [pick(f, 0, 0) for f in finals[: call.n_outputs - 1]]
    for j, marker in outs.items():
        g.replace_input(marker, marker.input[0], results[j], 0)
