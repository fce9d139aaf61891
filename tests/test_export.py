"""ONNX export, checking and parity: real Keras models, real tf2onnx, real ONNX Runtime."""

from __future__ import annotations

import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

keras = pytest.importorskip("keras")
onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from specc.export import (  # noqa: E402
    ExportError,
    NonFiniteOutputError,
    ParityResult,
    check_onnx,
    export_onnx,
    verify_parity,
)

L = keras.layers
VOCAB = 17
ATOL = 1e-4


@keras.saving.register_keras_serializable(package="specc_test")
class PositionalEmbedding(L.Layer):
    """Token embedding plus a learned position-embedding table (as the code generator emits)."""

    def __init__(self, input_dim, output_dim, max_length, **kwargs):
        super().__init__(**kwargs)
        self.input_dim, self.output_dim, self.max_length = input_dim, output_dim, max_length
        self.token = L.Embedding(input_dim, output_dim)
        self.position = L.Embedding(max_length, output_dim)

    def call(self, x):
        positions = keras.ops.arange(keras.ops.shape(x)[-1])
        return self.token(x) + self.position(positions)

    def get_config(self):
        return {
            **super().get_config(),
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "max_length": self.max_length,
        }


@keras.saving.register_keras_serializable(package="specc_test")
class ErfInv(L.Layer):
    """A layer whose TF op (Erfinv) tf2onnx cannot convert."""

    def call(self, x):
        return keras.ops.erfinv(keras.ops.tanh(x) * 0.5)


def _randomize(model: keras.Model, seed: int = 0) -> None:
    """Random weights everywhere (biases, norms and statistics included); variances stay > 0."""
    rng = np.random.default_rng(seed)
    for v in model.weights:
        shape = tuple(v.shape)
        if "variance" in v.path:
            v.assign(rng.uniform(0.5, 1.5, shape).astype(v.dtype))
        else:
            v.assign(rng.normal(0.0, 0.4, shape).astype(v.dtype))


def _random_inputs(
    model: keras.Model, n: int, seed: int = 1, length: int = 5, all_padding: bool = True
) -> list[np.ndarray]:
    """Random rows for every model input; a variable (None) axis gets `length` steps; token
    inputs get some padded rows, and (with `all_padding`) one row of padding only."""
    rng = np.random.default_rng(seed)
    out = []
    for t in model.inputs:
        shape = (n, *(length if d is None else d for d in t.shape[1:]))
        if "int" in str(t.dtype):
            x = rng.integers(1, VOCAB, shape).astype(np.int32)
            if x.ndim == 2 and x.shape[1] > 2:  # right padding with 0 on some rows
                x[::2, -2:] = 0
                if n > 2 and all_padding:
                    x[1, :] = 0  # one row that is all padding
            out.append(x)
        else:
            out.append(rng.normal(0.0, 1.0, shape).astype(np.float32))
    return out


def _call(model, xs):
    return model(xs[0] if len(xs) == 1 else xs, training=False)


def _export_and_check(model, tmp_path, *, atol=ATOL, scale_by_output=False, all_padding=True):
    """Export with fresh names, check, and verify parity at two batch sizes (3 at call time)."""
    _randomize(model)
    _call(model, _random_inputs(model, 3, seed=9))  # call-time batch: 3
    in_names = [f"in_{i}" for i in range(len(model.inputs))]
    out_names = [f"out_{i}" for i in range(len(model.outputs))]
    path = tmp_path / "model.onnx"
    export_onnx(model, path, input_names=in_names, output_names=out_names)
    check_onnx(path)
    proto = onnx.load(str(path))
    assert [i.name for i in proto.graph.input] == in_names
    assert [o.name for o in proto.graph.output] == out_names
    for vi in [*proto.graph.input, *proto.graph.output]:
        assert vi.type.tensor_type.shape.dim[0].dim_param == "batch", vi.name
    results = []
    for n, bs in ((7, 4), (2, 256)):  # 7 rows in chunks of 4 and 3, then 2 rows
        xs = _random_inputs(model, n, length=6, all_padding=all_padding)
        res = verify_parity(
            model,
            path,
            dict(zip(in_names, xs, strict=True)),
            atol=atol,
            scale_by_output=scale_by_output,
            batch_size=bs,
        )
        assert res.n_examples == n
        assert res.passed, res
        results.append(res)
    return results


def _seq_head(x, units=3):
    return L.Dense(units, activation="softmax")(L.GlobalAveragePooling1D()(x))


# ---- model builders, one per case -----------------------------------------------------------


def dense():
    x = keras.Input((6,), name="x")
    return keras.Model(x, L.Dense(3, activation="softmax")(L.Dense(8, activation="relu")(x)))


def conv1d(padding, strides=1, dilation=1):
    def build():
        x = keras.Input((10, 3), name="x")
        h = L.Conv1D(4, 3, padding=padding, strides=strides, dilation_rate=dilation)(x)
        return keras.Model(x, L.Dense(3, activation="sigmoid")(L.Flatten()(h)))

    return build


def conv2d_pools():
    x = keras.Input((8, 8, 2), name="img")
    h = L.Conv2D(4, 3, padding="same", activation="relu")(x)
    h = L.Conv2D(4, (3, 2), strides=(1, 2), padding="valid")(h)
    a = L.MaxPooling2D(2)(h)
    b = L.AveragePooling2D(2, padding="same")(h)
    g = L.Concatenate()([L.GlobalAveragePooling2D()(a), L.GlobalMaxPooling2D()(b), L.Flatten()(a)])
    return keras.Model(x, L.Dense(3, activation="softmax")(g))


def pools1d():
    x = keras.Input((12, 3), name="x")
    a = L.MaxPooling1D(2)(x)
    b = L.AveragePooling1D(3, strides=2, padding="same")(x)
    g = L.Concatenate()([L.GlobalAveragePooling1D()(a), L.GlobalMaxPooling1D()(b)])
    return keras.Model(x, L.Dense(3, activation="softmax")(g))


def reshape_flatten():
    x = keras.Input((12,), name="x")
    h = L.Conv1D(2, 2, padding="same")(L.Reshape((4, 3))(x))
    return keras.Model(x, L.Dense(3, activation="softmax")(L.Flatten()(h)))


def norms_dropout():
    x = keras.Input((10, 3), name="x")
    h = L.BatchNormalization()(L.Conv1D(4, 3)(x))
    h = L.Dropout(0.5)(L.Activation("relu")(h))
    h = L.LayerNormalization(epsilon=1e-6)(h)
    d = L.BatchNormalization()(L.Dense(5)(L.Flatten()(h)))
    return keras.Model(x, L.Dense(3, activation="softmax")(L.Dropout(0.3)(d)))


def activation(act):
    def build():
        x = keras.Input((8,), name="x")
        return keras.Model(x, L.Activation(act)(L.Dense(8)(x)))

    return build


def gelu_approximate():
    x = keras.Input((8,), name="x")
    act = L.Activation(lambda t: keras.activations.gelu(t, approximate=True))
    return keras.Model(x, act(L.Dense(8)(x)))


def dense_gelu_exact():
    x = keras.Input((8,), name="x")
    h = L.Dense(16, activation="gelu")(x)
    return keras.Model(x, L.Dense(3, activation="softmax")(h))


def embedding():
    x = keras.Input((7,), dtype="int32", name="tokens")
    return keras.Model(x, _seq_head(L.Embedding(VOCAB, 4)(x)))


def lstm(return_sequences):
    def build():
        x = keras.Input((7,), dtype="int32", name="tokens")
        h = L.LSTM(5, return_sequences=return_sequences)(L.Embedding(VOCAB, 4)(x))
        if return_sequences:
            h = L.LSTM(4)(h)
        return keras.Model(x, L.Dense(3, activation="softmax")(h))

    return build


def lstm_float_recurrent_dropout():
    x = keras.Input((6, 3), name="series")
    h = L.LSTM(4, dropout=0.2, recurrent_dropout=0.2)(x)
    return keras.Model(x, L.Dense(1, activation="sigmoid")(h))


def encoder_decoder(cell):
    def build():
        enc_in = keras.Input((7,), dtype="int32", name="source")
        dec_in = keras.Input((5,), dtype="int32", name="target")
        rnn = L.LSTM if cell == "lstm" else L.GRU
        _, *state = rnn(6, return_state=True)(L.Embedding(VOCAB, 4)(enc_in))
        dec = rnn(6, return_sequences=True)(L.Embedding(VOCAB, 4)(dec_in), initial_state=state)
        return keras.Model([enc_in, dec_in], L.Dense(VOCAB, activation="softmax")(dec))

    return build


def gru():
    x = keras.Input((6, 3), name="series")
    h = L.GRU(3)(L.GRU(4, return_sequences=True)(x))
    return keras.Model(x, L.Dense(3, activation="softmax")(h))


def bidirectional(merge_mode):
    def build():
        x = keras.Input((6, 3), name="series")
        h = L.Bidirectional(L.LSTM(4, return_sequences=True), merge_mode=merge_mode)(x)
        h = L.Bidirectional(L.GRU(3))(h)
        return keras.Model(x, L.Dense(3, activation="softmax")(h))

    return build


def masked(kind):
    def build():
        x = keras.Input((7,), dtype="int32", name="tokens")
        e = L.Embedding(VOCAB, 4, mask_zero=True)(x)
        if kind == "lstm":
            h = L.LSTM(4)(L.LSTM(5, return_sequences=True)(e))
        elif kind == "gru":
            h = L.GRU(4)(e)
        else:
            h = L.Bidirectional(L.LSTM(3))(e)
        return keras.Model(x, L.Dense(3, activation="softmax")(h))

    return build


def attention(score, causal=False):
    def build():
        q = keras.Input((5, 4), name="query")
        v = keras.Input((6, 4), name="value")
        if score == "dot":
            a = L.Attention(use_scale=True)([q, v])
        else:
            a = L.AdditiveAttention()([q, v])
        if causal:
            a = L.Attention()([a, a], use_causal_mask=True)
        return keras.Model([q, v], _seq_head(a))

    return build


def mha(kind):
    def build():
        q = keras.Input((6, 8), name="query")
        if kind == "self":
            a = L.MultiHeadAttention(2, 4)(q, q, use_causal_mask=True)
            return keras.Model(q, _seq_head(a))
        v = keras.Input((4, 8), name="value")
        a = L.MultiHeadAttention(2, 4, dropout=0.1)(q, v, use_causal_mask=kind == "cross_causal")
        return keras.Model([q, v], _seq_head(a))

    return build


def mha_masked():
    x = keras.Input((7,), dtype="int32", name="tokens")
    e = L.Embedding(VOCAB, 8, mask_zero=True)(x)
    return keras.Model(x, _seq_head(L.MultiHeadAttention(2, 4)(e, e)))


def _encoder_block(h, width=8, norm_first=True):
    """Self-attention + feed-forward, each residual; pre- or post-norm."""
    ln = lambda t: L.LayerNormalization(epsilon=1e-6)(t)  # noqa: E731
    src = ln(h) if norm_first else h
    a = L.MultiHeadAttention(2, width // 2, dropout=0.1)(src, src)
    h = L.Add()([h, L.Dropout(0.1)(a)])
    h = h if norm_first else ln(h)
    f = ln(h) if norm_first else h
    f = L.Dense(width)(L.Dense(2 * width, activation="gelu")(f))
    h = L.Add()([h, L.Dropout(0.1)(f)])
    return ln(h)


def transformer_encoder(length=8, norm_first=True):
    def build():
        x = keras.Input((length,), dtype="int32", name="tokens")
        h = PositionalEmbedding(VOCAB, 8, 8)(x)
        return keras.Model(x, _seq_head(_encoder_block(h, norm_first=norm_first)))

    return build


def transformer_seq2seq():
    src = keras.Input((7,), dtype="int32", name="source")
    tgt = keras.Input((5,), dtype="int32", name="target")
    memory = _encoder_block(PositionalEmbedding(VOCAB, 8, 8, name="src_emb")(src))
    h = PositionalEmbedding(VOCAB, 8, 8, name="tgt_emb")(tgt)
    n = L.LayerNormalization(epsilon=1e-6)(h)
    h = L.Add()([h, L.MultiHeadAttention(2, 4)(n, n, use_causal_mask=True)])
    n = L.LayerNormalization(epsilon=1e-6)(h)
    h = L.Add()([h, L.MultiHeadAttention(2, 4)(n, memory)])
    f = L.Dense(8)(L.Dense(16, activation="gelu")(L.LayerNormalization(epsilon=1e-6)(h)))
    h = L.LayerNormalization(epsilon=1e-6)(L.Add()([h, f]))
    return keras.Model([src, tgt], L.Dense(VOCAB, activation="softmax")(h))


def variable_length_lstm():
    x = keras.Input((None,), dtype="int32", name="tokens")
    h = L.LSTM(4)(L.Embedding(VOCAB, 4, mask_zero=True)(x))
    return keras.Model(x, L.Dense(3, activation="softmax")(h))


def merges():
    a = keras.Input((4,), name="a")
    b = keras.Input((4,), name="b")
    h = L.Concatenate()([L.Add()([a, b]), L.Multiply()([a, b]), a])
    return keras.Model([a, b], L.Dense(2, activation="softmax")(h))


def normalization_first():
    x = keras.Input((4,), name="x")
    h = L.Normalization(mean=[1.0, -2.0, 0.5, 10.0], variance=[4.0, 0.25, 1.0, 100.0])(x)
    return keras.Model(x, L.Dense(3, activation="softmax")(L.Dense(6, activation="relu")(h)))


def normalization_sequence():
    x = keras.Input((5, 2), name="x")
    h = L.Normalization(axis=-1, mean=[1.0, -2.0], variance=[4.0, 0.25])(x)
    return keras.Model(x, L.Dense(1, activation="sigmoid")(L.LSTM(3)(h)))


ACTIVATIONS = [
    "linear", "relu", "relu6", "leaky_relu", "elu", "selu", "gelu", "silu", "swish", "tanh",
    "sigmoid", "hard_sigmoid", "softmax", "softplus", "softsign", "mish",
]  # fmt: skip

CASES = {
    "dense": dense,
    "conv1d_valid": conv1d("valid"),
    "conv1d_same_stride2": conv1d("same", strides=2),
    "conv1d_causal_dilated": conv1d("causal", dilation=2),
    "conv2d_pools": conv2d_pools,
    "pools1d": pools1d,
    "reshape_flatten": reshape_flatten,
    "norms_dropout": norms_dropout,
    **{f"act_{a}": activation(a) for a in ACTIVATIONS},
    "act_gelu_approximate": gelu_approximate,
    "dense_gelu_exact": dense_gelu_exact,
    "embedding": embedding,
    "lstm_last": lstm(False),
    "lstm_sequences": lstm(True),
    "lstm_recurrent_dropout": lstm_float_recurrent_dropout,
    "encdec_lstm": encoder_decoder("lstm"),
    "encdec_gru": encoder_decoder("gru"),
    "gru": gru,
    "bidirectional_concat": bidirectional("concat"),
    "bidirectional_sum": bidirectional("sum"),
    "masked_lstm": masked("lstm"),
    "masked_gru": masked("gru"),
    "masked_bidirectional": masked("bidirectional"),
    "attention_dot_causal": attention("dot", causal=True),
    "attention_additive": attention("additive"),
    "mha_self_causal": mha("self"),
    "mha_cross": mha("cross"),
    "mha_cross_causal": mha("cross_causal"),
    "mha_masked": mha_masked,
    "transformer_encoder": transformer_encoder(),
    "transformer_encoder_postnorm_variable_length": transformer_encoder(None, norm_first=False),
    "transformer_seq2seq": transformer_seq2seq,
    "lstm_variable_length_masked": variable_length_lstm,
    "merges": merges,
    "normalization_first": normalization_first,
    "normalization_sequence": normalization_sequence,
}


# Masked average pooling over a row that is all padding divides 0 by 0: NaN in Keras and in ONNX
# Runtime alike, which parity refuses (see test_parity_fails_on_non_finite_outputs).
NAN_ON_ALL_PADDING = {"mha_masked"}


@pytest.mark.parametrize("case", sorted(CASES))
def test_layer_exports_with_parity(case, tmp_path):
    keras.utils.set_random_seed(0)
    model = CASES[case]()
    nan_on_padding = case in NAN_ON_ALL_PADDING
    results = _export_and_check(model, tmp_path, all_padding=not nan_on_padding)
    assert all(r.max_abs_diff <= ATOL for r in results)
    if nan_on_padding:
        xs = _random_inputs(model, 7, length=6)
        with pytest.raises(NonFiniteOutputError, match="NaN"):
            verify_parity(model, tmp_path / "model.onnx", {"in_0": xs[0]}, atol=ATOL)


# ---- names, metadata, dynamic batch, file handling --------------------------------------------


def _two_in_two_out(name_a="numeric", name_b="tokens"):
    a = keras.Input((3,), name=name_a)
    b = keras.Input((5,), dtype="int32", name=name_b)
    h = L.Concatenate()(
        [L.Dense(4, activation="relu")(a), L.GlobalAveragePooling1D()(L.Embedding(VOCAB, 4)(b))]
    )
    reg = L.Dense(1, name="reg")(h)
    probs = L.Dense(4, activation="softmax", name="probs")(h)
    # outputs deliberately not in creation order
    return keras.Model([a, b], [probs, reg])


def test_names_metadata_producer_and_dynamic_batch(tmp_path):
    keras.utils.set_random_seed(1)
    model = _two_in_two_out()  # never called: export must cope
    path = tmp_path / "nested" / "dir" / "model.onnx"
    meta = {"specc.spec_hash": "abc123", "labels": json.dumps(["a", "b", "c", "d"])}
    export_onnx(
        model, path, input_names=["num", "tok"], output_names=["class_probs", "value"],
        opset=17, metadata=meta,
    )  # fmt: skip
    check_onnx(path)
    proto = onnx.load(str(path))
    assert proto.producer_name == "specc"
    assert {p.key: p.value for p in proto.metadata_props} == meta
    assert [o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")] == [17]
    assert [i.name for i in proto.graph.input] == ["num", "tok"]
    assert [o.name for o in proto.graph.output] == ["class_probs", "value"]
    dtypes = [i.type.tensor_type.elem_type for i in proto.graph.input]
    assert dtypes == [onnx.TensorProto.FLOAT, onnx.TensorProto.INT32]
    shapes = {
        v.name: [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]
        for v in [*proto.graph.input, *proto.graph.output]
    }
    assert shapes == {
        "num": ["batch", 3],
        "tok": ["batch", 5],
        "class_probs": ["batch", 4],
        "value": ["batch", 1],
    }
    assert not list(path.parent.glob("*.partial*"))

    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert sess.get_modelmeta().custom_metadata_map == meta
    for n in (1, 13):
        xs = _random_inputs(model, n)
        probs, value = sess.run(["class_probs", "value"], {"num": xs[0], "tok": xs[1]})
        assert probs.shape == (n, 4) and value.shape == (n, 1)
        k_probs, k_value = _call(model, xs)
        np.testing.assert_allclose(probs, k_probs, atol=ATOL)
        np.testing.assert_allclose(value, k_value, atol=ATOL)

    res = verify_parity(model, path, {"num": xs[0], "tok": xs[1]}, atol=ATOL)
    assert res.passed and set(res.per_output) == {"class_probs", "value"}
    assert res.max_abs_diff == max(res.per_output.values())


def test_names_that_collide_with_converter_names(tmp_path):
    """Swapped and clashing names: the rename is simultaneous, so nothing gets crossed."""
    keras.utils.set_random_seed(2)
    model = _two_in_two_out()
    path = tmp_path / "m.onnx"
    in_names, out_names = ["input_1:0", "input_0:0"], ["Identity_1:0", "Identity:0"]
    export_onnx(model, path, input_names=in_names, output_names=out_names)
    check_onnx(path)
    proto = onnx.load(str(path))
    assert [i.name for i in proto.graph.input] == in_names
    assert [o.name for o in proto.graph.output] == out_names
    xs = _random_inputs(model, 6)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    probs, value = sess.run(out_names, dict(zip(in_names, xs, strict=True)))
    assert probs.shape == (6, 4) and value.shape == (6, 1)
    np.testing.assert_allclose(probs, _call(model, xs)[0], atol=ATOL)


def test_overwrites_existing_file_atomically(tmp_path):
    model = dense()
    path = tmp_path / "m.onnx"
    path.write_bytes(b"old contents")
    export_onnx(model, path, input_names=["x"], output_names=["y"], metadata={"v": "2"})
    check_onnx(path)
    assert {p.key: p.value for p in onnx.load(str(path)).metadata_props} == {"v": "2"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx"]


@pytest.mark.parametrize("opset", [13, 21])
def test_other_opsets_with_exact_gelu(opset, tmp_path):
    """13 is the oldest opset the spec allows; 21 is above tf2onnx's 18 (version converter)."""
    keras.utils.set_random_seed(3)
    model = dense_gelu_exact()
    _randomize(model)
    path = tmp_path / "m.onnx"
    export_onnx(model, path, input_names=["x"], output_names=["y"], opset=opset)
    check_onnx(path)
    proto = onnx.load(str(path))
    assert [o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")] == [opset]
    assert "Erf" in {n.op_type for n in proto.graph.node}
    assert proto.ir_version == onnx.helper.find_min_ir_version_for(proto.opset_import)
    x = np.random.default_rng(0).normal(0, 3, (9, 8)).astype(np.float32)
    assert verify_parity(model, path, {"x": x}, atol=ATOL).passed


def test_sequential_and_dict_structured_models(tmp_path):
    """Sequential models export; dict inputs/outputs follow model.inputs/outputs (sorted keys)."""
    keras.utils.set_random_seed(6)
    seq = keras.Sequential([keras.Input((5,)), L.Dense(4, activation="relu"), L.Dense(2)])
    export_onnx(seq, tmp_path / "s.onnx", input_names=["x"], output_names=["y"])
    x = np.random.default_rng(0).normal(0, 1, (9, 5)).astype(np.float32)
    assert verify_parity(seq, tmp_path / "s.onnx", {"x": x}, atol=ATOL).passed

    a, b = keras.Input((5,), name="x"), keras.Input((3,), name="b")
    h = L.Dense(4)(L.Concatenate()([a, b]))
    outputs = {"zeta": L.Dense(3, activation="softmax")(h), "alpha": L.Dense(1)(h)}
    model = keras.Model({"x": a, "b": b}, outputs)
    assert [t.name for t in model.inputs] == ["b", "x"]
    path = tmp_path / "d.onnx"
    export_onnx(model, path, input_names=["in_b", "in_x"], output_names=["alpha", "zeta"])
    proto = onnx.load(str(path))
    widths = {o.name: o.type.tensor_type.shape.dim[1].dim_value for o in proto.graph.output}
    assert widths == {"alpha": 1, "zeta": 3}
    xs = _random_inputs(model, 6)
    res = verify_parity(model, path, {"in_b": xs[0], "in_x": xs[1]}, atol=ATOL)
    assert res.passed and set(res.per_output) == {"alpha", "zeta"}


# ---- errors -----------------------------------------------------------------------------------


def test_unconvertible_op_raises_helpful_error(tmp_path):
    x = keras.Input((4,), name="x")
    model = keras.Model(x, ErfInv(name="my_erfinv")(L.Dense(4)(x)))
    path = tmp_path / "m.onnx"
    with pytest.raises(ExportError) as err:
        export_onnx(model, path, input_names=["x"], output_names=["y"])
    msg = str(err.value)
    assert "Erfinv" in msg and "my_erfinv" in msg and "cannot convert" in msg
    assert not path.exists()
    assert not list(tmp_path.iterdir())


def test_check_onnx_rejects_corrupted_and_missing_files(tmp_path):
    model = dense()
    path = tmp_path / "m.onnx"
    export_onnx(model, path, input_names=["x"], output_names=["y"])
    data = path.read_bytes()
    truncated = tmp_path / "truncated.onnx"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(ExportError, match="not a valid ONNX model"):
        check_onnx(truncated)
    with pytest.raises(ExportError, match="does not exist"):
        check_onnx(tmp_path / "nope.onnx")

    # well-formed protobuf, invalid model: an operator ONNX does not define
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Erfc", ["x"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 2])],
    )
    bad = tmp_path / "bad.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(bad))
    with pytest.raises(ExportError, match="Erfc"):
        check_onnx(bad)


def test_argument_errors(tmp_path):
    model = _two_in_two_out()
    path = tmp_path / "m.onnx"
    cases = [
        (dict(input_names=["a"], output_names=["p", "v"]), "2 input"),
        (dict(input_names=["a", "b"], output_names=["p"]), "2 output"),
        (dict(input_names=["a", "a"], output_names=["p", "v"]), "duplicates"),
        (dict(input_names=["a", "b"], output_names=["a", "v"]), "both as an input and an output"),
        (dict(input_names=["a", "b"], output_names=["p", "v"], metadata={"n": 3}), "str to str"),
    ]
    for kwargs, fragment in cases:
        with pytest.raises(ExportError, match=fragment):
            export_onnx(model, path, **kwargs)
    assert not path.exists()

    export_onnx(model, path, input_names=["a", "b"], output_names=["p", "v"])
    xs = _random_inputs(model, 4)
    with pytest.raises(ExportError, match=r"missing \['b'\]"):
        verify_parity(model, path, {"a": xs[0]}, atol=ATOL)
    with pytest.raises(ExportError, match="must be integer"):
        verify_parity(model, path, {"a": xs[0], "b": xs[1] + 0.5}, atol=ATOL)
    with pytest.raises(ExportError, match="same number of rows"):
        verify_parity(model, path, {"a": xs[0], "b": xs[1][:2]}, atol=ATOL)
    with pytest.raises(ExportError, match="does not exist"):
        verify_parity(model, tmp_path / "missing.onnx", {"a": xs[0], "b": xs[1]}, atol=ATOL)
    # int64 token ids are accepted and cast to the graph's int32
    res = verify_parity(model, path, {"a": xs[0], "b": xs[1].astype(np.int64)}, atol=ATOL)
    assert res.passed and res.n_examples == 4


# ---- parity semantics -------------------------------------------------------------------------


def test_parity_detects_a_different_model(tmp_path):
    keras.utils.set_random_seed(4)
    model = dense()
    path = tmp_path / "m.onnx"
    export_onnx(model, path, input_names=["x"], output_names=["probs"])
    x = np.random.default_rng(0).normal(0, 1, (20, 6)).astype(np.float32)
    assert verify_parity(model, path, {"x": x}, atol=ATOL).passed
    kernel = model.layers[1].kernel
    kernel.assign(kernel.numpy() + 0.5)  # Keras side changes, the ONNX file does not
    res = verify_parity(model, path, {"x": x}, atol=ATOL, batch_size=7)
    assert isinstance(res, ParityResult)
    assert not res.passed
    assert res.max_abs_diff > ATOL and res.per_output["probs"] == res.max_abs_diff
    assert res.n_examples == 20
    d = json.loads(json.dumps(res.to_dict()))
    assert d == {
        "max_abs_diff": res.max_abs_diff, "atol": ATOL, "passed": False, "n_examples": 20,
        "per_output": {"probs": res.max_abs_diff},
    }  # fmt: skip
    with pytest.raises(AttributeError):
        res.passed = True  # frozen


def test_parity_fails_on_non_finite_outputs(tmp_path):
    """A model trained on NaN data outputs NaN everywhere, in Keras and ONNX Runtime alike:
    that must never pass as parity (NaN is not equal to NaN here)."""
    keras.utils.set_random_seed(6)
    model = dense()
    path = tmp_path / "m.onnx"
    x = np.random.default_rng(0).normal(0, 1, (20, 6)).astype(np.float32)
    kernel = model.layers[-1].kernel
    kernel.assign(np.full(kernel.shape, np.nan, dtype=np.float32))  # as after NaN training
    export_onnx(model, path, input_names=["x"], output_names=["probs"])
    with pytest.raises(NonFiniteOutputError) as info:
        verify_parity(model, path, {"x": x}, atol=ATOL, batch_size=7)
    err = info.value
    assert isinstance(err, ExportError) and err.n_examples == 20
    total = 20 * 3  # 20 rows, 3 classes
    assert err.counts == {
        ("Keras", "probs"): (total, 0, total),
        ("ONNX Runtime", "probs"): (total, 0, total),
    }
    assert f"Keras output 'probs': {total} NaN and 0 inf of {total} values" in str(err)
    assert "ONNX Runtime output 'probs'" in str(err)

    # only one side non-finite (an inf input row): still a failure that names that side
    keras.utils.set_random_seed(6)
    model = dense()
    export_onnx(model, path, input_names=["x"], output_names=["probs"])
    assert verify_parity(model, path, {"x": x}, atol=ATOL).passed
    kernel = model.layers[1].kernel
    poisoned = kernel.numpy()
    poisoned[0, 0] = np.inf
    kernel.assign(poisoned)  # Keras side only; the ONNX file keeps the finite weights
    with pytest.raises(NonFiniteOutputError, match="Keras output 'probs'") as info:
        verify_parity(model, path, {"x": x}, atol=ATOL)
    assert {engine for engine, _ in info.value.counts} == {"Keras"}


def test_scale_by_output_uses_output_magnitude(tmp_path):
    keras.utils.set_random_seed(5)
    x_in = keras.Input((6,), name="x")
    model = keras.Model(x_in, L.Dense(2)(L.Dense(16, activation="relu")(x_in)))
    _randomize(model)
    path = tmp_path / "m.onnx"
    export_onnx(model, path, input_names=["x"], output_names=["y"])
    x = np.random.default_rng(0).normal(0, 500, (50, 6)).astype(np.float32)
    peak = float(np.max(np.abs(_call(model, [x]).numpy())))
    assert peak > 10
    scaled = verify_parity(model, path, {"x": x}, atol=ATOL, scale_by_output=True)
    assert scaled.atol == pytest.approx(ATOL * peak, rel=1e-6)
    assert scaled.passed
    plain = verify_parity(model, path, {"x": x}, atol=ATOL)
    assert plain.atol == ATOL and plain.max_abs_diff == scaled.max_abs_diff
    small = verify_parity(model, path, {"x": x / 1e4}, atol=ATOL, scale_by_output=True)
    assert small.atol == ATOL  # max(1, |y|) floors the scale at 1


def test_importing_specc_export_does_not_import_heavy_libraries():
    import subprocess
    import sys

    code = (
        "import sys, specc.export\n"
        "heavy = [m for m in ('tensorflow', 'keras', 'onnx', 'onnxruntime', 'tf2onnx')"
        " if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
