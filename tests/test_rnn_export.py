"""Recurrent layers export as the native ONNX GRU/LSTM/RNN ops, with exact parity.

Each case is a small Keras model with random weights (biases included), exported with
`specc.export.export_onnx`; the test asserts the op types of the exported graph (the native op,
no `Loop`), compares ONNX Runtime with Keras, and compares onnx's reference evaluator with
ONNX Runtime. Configurations the native ops cannot express (a mask, a GRU with other
activations) keep their `Loop`, with the same parity.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from onnx_reference import ReferenceUnsupported, max_reference_diff, op_types  # noqa: E402

keras = pytest.importorskip("keras")
ort = pytest.importorskip("onnxruntime")

from specc.export import export_onnx  # noqa: E402
from specc.export._rnn_native import plan_for  # noqa: E402

L = keras.layers
ATOL = 1e-5
STEPS, FEATURES = 6, 3


def _seq(layer_fn):
    def build():
        x = keras.Input((STEPS, FEATURES), name="x")
        return keras.Model(x, layer_fn()(x))

    return build


def _bi(kind, units, merge_mode, return_sequences):
    cls = {"gru": L.GRU, "lstm": L.LSTM, "simple_rnn": L.SimpleRNN}[kind]
    return _seq(
        lambda: L.Bidirectional(
            cls(units, return_sequences=return_sequences), merge_mode=merge_mode
        )
    )


def _encoder_decoder(cls, n_states):
    def build():
        source = keras.Input((5, FEATURES), name="source")
        target = keras.Input((4, 2), name="target")
        encoded = cls(6, return_state=True)(source)
        states = list(encoded[1:])
        decoded = cls(6, return_sequences=True, return_state=True)(target, initial_state=states)
        assert len(states) == n_states
        return keras.Model([source, target], [encoded[0], *decoded])

    return build


def _state_only_encoder(cls):
    """The encoder's sequence output is never read (the trace drops it): the state still goes."""

    def build():
        source = keras.Input((5, FEATURES), name="source")
        target = keras.Input((4, 2), name="target")
        _, *states = cls(6, return_state=True)(source)
        return keras.Model([source, target], cls(6)(target, initial_state=states))

    return build


def _bidirectional_encoder_decoder():
    """Bidirectional with return_state and with an initial state: each direction its own op."""
    source = keras.Input((5, FEATURES), name="source")
    target = keras.Input((4, 2), name="target")
    _, *states = L.Bidirectional(L.GRU(3, return_state=True))(source)
    decoder = L.Bidirectional(L.GRU(3, return_sequences=True))
    return keras.Model([source, target], decoder(target, initial_state=states))


def _variable_length():
    x = keras.Input((None, FEATURES), name="x")
    h = L.GRU(4, return_sequences=True)(x)
    h = L.LSTM(4, return_sequences=True)(h)
    return keras.Model(x, L.SimpleRNN(3)(h))


def _shared_layer():
    a = keras.Input((STEPS, FEATURES), name="a")
    b = keras.Input((STEPS, FEATURES), name="b")
    gru = L.GRU(4)
    return keras.Model([a, b], L.Add()([gru(a), gru(b)]))


# case -> (model builder, {native op: count})
CASES = {
    "gru_sequences": (_seq(lambda: L.GRU(5, return_sequences=True)), {"GRU": 1}),
    "gru_last": (_seq(lambda: L.GRU(4)), {"GRU": 1}),
    "gru_reset_before": (_seq(lambda: L.GRU(4, reset_after=False)), {"GRU": 1}),
    "gru_no_bias": (_seq(lambda: L.GRU(4, use_bias=False, return_sequences=True)), {"GRU": 1}),
    "gru_go_backwards": (
        _seq(lambda: L.GRU(4, return_sequences=True, go_backwards=True)),
        {"GRU": 1},
    ),
    "lstm_sequences": (_seq(lambda: L.LSTM(5, return_sequences=True)), {"LSTM": 1}),
    "lstm_last": (_seq(lambda: L.LSTM(4)), {"LSTM": 1}),
    "lstm_go_backwards": (_seq(lambda: L.LSTM(4, go_backwards=True)), {"LSTM": 1}),
    "simple_rnn_sequences": (_seq(lambda: L.SimpleRNN(5, return_sequences=True)), {"RNN": 1}),
    "simple_rnn_last_relu": (_seq(lambda: L.SimpleRNN(4, activation="relu")), {"RNN": 1}),
    "simple_rnn_sigmoid": (_seq(lambda: L.SimpleRNN(4, activation="sigmoid")), {"RNN": 1}),
    "bidirectional_gru_sequences": (_bi("gru", 3, "concat", True), {"GRU": 1}),
    "bidirectional_gru_last_sum": (_bi("gru", 3, "sum", False), {"GRU": 1}),
    "bidirectional_lstm_sequences_mul": (_bi("lstm", 3, "mul", True), {"LSTM": 1}),
    "bidirectional_lstm_last": (_bi("lstm", 3, "concat", False), {"LSTM": 1}),
    "bidirectional_simple_rnn_sequences_ave": (_bi("simple_rnn", 3, "ave", True), {"RNN": 1}),
    "bidirectional_simple_rnn_last": (_bi("simple_rnn", 3, "concat", False), {"RNN": 1}),
    "bidirectional_gru_no_merge": (  # the pair as two ops: one per direction
        _seq(lambda: L.Bidirectional(L.GRU(3, return_sequences=True), merge_mode=None)),
        {"GRU": 2},
    ),
    "bidirectional_lstm_return_state": (
        _seq(lambda: L.Bidirectional(L.LSTM(3, return_state=True))),
        {"LSTM": 2},
    ),
    "bidirectional_encoder_decoder": (_bidirectional_encoder_decoder, {"GRU": 4}),
    "gru_encoder_decoder": (_encoder_decoder(L.GRU, 1), {"GRU": 2}),
    "lstm_encoder_decoder": (_encoder_decoder(L.LSTM, 2), {"LSTM": 2}),
    "simple_rnn_encoder_decoder": (_encoder_decoder(L.SimpleRNN, 1), {"RNN": 2}),
    "gru_state_only_encoder": (_state_only_encoder(L.GRU), {"GRU": 2}),
    "lstm_state_only_encoder": (_state_only_encoder(L.LSTM), {"LSTM": 2}),
    "simple_rnn_state_only_encoder": (_state_only_encoder(L.SimpleRNN), {"RNN": 2}),
    "variable_length_stack": (_variable_length, {"GRU": 1, "LSTM": 1, "RNN": 1}),
    "shared_gru": (_shared_layer, {"GRU": 2}),
}


def random_weights(model, seed: int) -> None:
    rng = np.random.default_rng(seed)
    for variable in model.weights:
        variable.assign(rng.normal(0.0, 0.5, tuple(variable.shape)).astype("float32"))


def export(model, path: Path, opset: int = 17) -> None:
    export_onnx(
        model,
        path,
        input_names=[t.name.split(":")[0] for t in model.inputs],
        output_names=[f"out{i}" for i in range(len(model.outputs))],
        opset=opset,
    )


def check_outputs(model, path: Path, steps: int = STEPS, batch: int = 4, seed: int = 0):
    """ONNX Runtime vs Keras (atol) and onnx.reference vs ONNX Runtime; returns the worst."""
    rng = np.random.default_rng(seed)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feeds = {}
    for meta, tensor in zip(session.get_inputs(), model.inputs, strict=True):
        shape = [batch] + [steps if d is None else d for d in tensor.shape[1:]]
        feeds[meta.name] = rng.normal(0.0, 1.0, shape).astype(np.float32)
    got = session.run(None, feeds)
    want = model(list(feeds.values()) if len(feeds) > 1 else next(iter(feeds.values())))
    want = [keras.ops.convert_to_numpy(w) for w in keras.tree.flatten(want)]
    worst = 0.0
    for have, expect in zip(got, want, strict=True):
        assert have.shape == expect.shape
        assert np.ptp(expect) > 1e-3, "degenerate output"
        worst = max(worst, float(np.abs(have - expect).max()))
    assert worst <= ATOL, f"max |onnx - keras| = {worst:.2e}"
    return worst, feeds, got


@pytest.mark.parametrize("case", sorted(CASES))
def test_recurrent_layer_exports_as_native_op(case: str, tmp_path: Path) -> None:
    build, native = CASES[case]
    model = build()
    random_weights(model, sorted(CASES).index(case))
    path = tmp_path / "model.onnx"
    export(model, path)
    assert not [layer.name for layer in model.layers if "call" in vars(layer)]  # unpatched
    ops = op_types(path)
    assert "Loop" not in ops and "Scan" not in ops, sorted(ops)
    import onnx

    nodes = [n.op_type for n in onnx.load(str(path)).graph.node]
    assert {op: nodes.count(op) for op in native} == native, nodes
    worst, feeds, got = check_outputs(model, path, steps=7 if "variable" in case else STEPS)
    print(f"{case}: ops {sorted(ops)}, max |onnx - keras| = {worst:.1e}")
    try:
        ref = max_reference_diff(path, feeds, got)
    except ReferenceUnsupported as exc:
        pytest.skip(f"{case}: native op and parity checked ({worst:.1e}); {exc}")
    assert ref <= ATOL, f"max |reference - onnxruntime| = {ref:.2e}"


def _masked_gru():
    tokens = keras.Input((STEPS,), dtype="int32", name="tokens")
    h = L.Embedding(11, 4, mask_zero=True)(tokens)
    return keras.Model(tokens, L.GRU(5)(h))


@pytest.mark.parametrize(
    "case", ["masked_gru", "gru_relu", "lstm_hard_sigmoid_gates", "simple_rnn_elu"]
)
def test_unmappable_configurations_keep_their_loop_with_parity(case: str, tmp_path: Path) -> None:
    """A mask, or activations the native ops cannot take: the exporter falls back, exactly."""
    build = {
        "masked_gru": _masked_gru,
        "gru_relu": _seq(lambda: L.GRU(4, activation="relu")),
        "lstm_hard_sigmoid_gates": _seq(lambda: L.LSTM(4, recurrent_activation="hard_sigmoid")),
        "simple_rnn_elu": _seq(lambda: L.SimpleRNN(4, activation="elu")),
    }[case]
    model = build()
    random_weights(model, 3)
    recurrent = [layer for layer in model.layers if hasattr(layer, "cell") or "bid" in layer.name]
    if case != "masked_gru":  # the mask is only known when the layer is called
        assert recurrent and all(plan_for(layer) is None for layer in recurrent)
    path = tmp_path / "model.onnx"
    export(model, path)
    ops = op_types(path)
    assert "Loop" in ops and not ops & {"GRU", "LSTM", "RNN"}, sorted(ops)
    rng = np.random.default_rng(4)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    if case == "masked_gru":
        x = rng.integers(1, 11, (4, STEPS)).astype(np.int32)
        x[1, 3:] = 0
        x[2, 1] = 0  # a masked step in the middle: no ONNX sequence_lens can say this
    else:
        x = rng.normal(0.0, 1.0, (4, STEPS, FEATURES)).astype(np.float32)
    got = session.run(None, {name: x})
    want = [keras.ops.convert_to_numpy(w) for w in keras.tree.flatten(model(x))]
    for have, expect in zip(got, want, strict=True):
        np.testing.assert_allclose(have, expect, rtol=0, atol=ATOL)


@pytest.mark.parametrize("opset", [13, 21])
def test_native_ops_at_the_lowest_and_highest_opset(opset: int, tmp_path: Path) -> None:
    model = _variable_length()
    random_weights(model, opset)
    path = tmp_path / "model.onnx"
    export(model, path, opset=opset)
    import onnx

    proto = onnx.load(str(path))
    assert {o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")} == {opset}
    assert {"GRU", "LSTM", "RNN"} <= op_types(path) and "Loop" not in op_types(path)
    check_outputs(model, path, steps=9)
