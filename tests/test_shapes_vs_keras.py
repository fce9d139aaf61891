"""The IR's static shapes and parameter counts agree with the Keras 3 layers they describe.

Each case is a small spec and the Keras model the code generator would build for it; the output
shape (and recurrent states) of the last layer and the model's total and trainable parameter
counts must match. Transformer blocks and the positional embedding are built here exactly as the
code generator must build them. TensorFlow is imported only inside this module's fixtures.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from specc.ir import lower
from specc.ir.shapes_conv import conv_length, pool_length
from specc.spec.schema import Spec


@pytest.fixture(scope="module")
def keras():
    keras = pytest.importorskip("keras")
    return keras


def _spec(layers: list[dict], inputs: list[dict]) -> Spec:
    return Spec.model_validate(
        {
            "specc": 1,
            "name": "t",
            "task": {"type": "regression"},
            "data": {"type": "npz", "path": "d.npz"},
            "model": {"inputs": inputs, "layers": layers},
        }
    )


@dataclass
class Case:
    id: str
    inputs: list[tuple[list[int | None], str]]
    layers: list[dict]
    build: Callable[[Any, list[Any]], Any]
    """(keras, input tensors) -> the last layer's output (or [output, *states])."""


# --------------------------------------------------------------------------- reference builders


def positional_embedding(keras, max_length: int, output_dim: int, input_dim: int | None = None):
    """A learned position table of (max_length, output_dim) added to the sequence, after a token
    embedding of (input_dim, output_dim) when input_dim is given."""

    class PositionalEmbedding(keras.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.tokens = keras.layers.Embedding(input_dim, output_dim) if input_dim else None

        def build(self, input_shape):
            if self.tokens is not None:
                self.tokens.build(input_shape)
            self.positions = self.add_weight(shape=(max_length, output_dim), name="positions")

        def call(self, x):
            steps = keras.ops.shape(x)[1]
            h = self.tokens(x) if self.tokens is not None else x
            return h + self.positions[:steps]

        def compute_output_shape(self, input_shape):
            if self.tokens is not None:
                return (*input_shape, output_dim)
            return input_shape

    return PositionalEmbedding()


def encoder_block(keras, x, heads, ff_dim, dropout=0.1, activation="gelu", norm_first=True):
    L = keras.layers
    width = x.shape[-1]
    mha = L.MultiHeadAttention(heads, key_dim=width // heads, dropout=dropout)
    ln1, ln2 = L.LayerNormalization(epsilon=1e-6), L.LayerNormalization(epsilon=1e-6)
    ff1, ff2 = L.Dense(ff_dim, activation=activation), L.Dense(width)
    if norm_first:
        h = ln1(x)
        x = L.Add()([x, L.Dropout(dropout)(mha(h, h))])
        h = ln2(x)
        return L.Add()([x, L.Dropout(dropout)(ff2(ff1(h)))])
    x = ln1(L.Add()([x, L.Dropout(dropout)(mha(x, x))]))
    return ln2(L.Add()([x, L.Dropout(dropout)(ff2(ff1(x)))]))


def decoder_block(keras, x, memory, heads, ff_dim, dropout=0.1, activation="gelu"):
    L = keras.layers
    width = x.shape[-1]
    self_mha = L.MultiHeadAttention(heads, key_dim=width // heads, dropout=dropout)
    cross_mha = L.MultiHeadAttention(heads, key_dim=width // heads, dropout=dropout)
    ln1, ln2, ln3 = (L.LayerNormalization(epsilon=1e-6) for _ in range(3))
    ff1, ff2 = L.Dense(ff_dim, activation=activation), L.Dense(width)
    h = ln1(x)
    x = L.Add()([x, L.Dropout(dropout)(self_mha(h, h, use_causal_mask=True))])
    h = ln2(x)
    x = L.Add()([x, L.Dropout(dropout)(cross_mha(h, memory))])
    h = ln3(x)
    return L.Add()([x, L.Dropout(dropout)(ff2(ff1(h)))])


FLT = "float32"
INT = "int32"

# fmt: off
CASES = [
    Case("dense", [([16], FLT)], [{"type": "dense", "units": 8}],
         lambda k, x: k.layers.Dense(8)(x[0])),
    Case("dense_rank3_nobias", [([4, 4, 3], FLT)],
         [{"type": "dense", "units": 5, "use_bias": False}],
         lambda k, x: k.layers.Dense(5, use_bias=False)(x[0])),
    Case("conv1d_valid_stride", [([20, 3], FLT)],
         [{"type": "conv1d", "filters": 6, "kernel_size": 4, "strides": 2}],
         lambda k, x: k.layers.Conv1D(6, 4, strides=2)(x[0])),
    Case("conv1d_same_stride", [([10, 3], FLT)],
         [{"type": "conv1d", "filters": 2, "kernel_size": 3, "strides": 3, "padding": "same"}],
         lambda k, x: k.layers.Conv1D(2, 3, strides=3, padding="same")(x[0])),
    Case("conv1d_causal_dilated_varlen", [([None, 5], FLT)],
         [{"type": "conv1d", "filters": 4, "kernel_size": 3, "padding": "causal",
           "dilation_rate": 2}],
         lambda k, x: k.layers.Conv1D(4, 3, padding="causal", dilation_rate=2)(x[0])),
    Case("conv2d_rect", [([9, 7, 2], FLT)],
         [{"type": "conv2d", "filters": 3, "kernel_size": [3, 2], "strides": [2, 1]}],
         lambda k, x: k.layers.Conv2D(3, (3, 2), strides=(2, 1))(x[0])),
    Case("conv2d_same_stride", [([7, 7, 3], FLT)],
         [{"type": "conv2d", "filters": 8, "kernel_size": 3, "strides": 2, "padding": "same"}],
         lambda k, x: k.layers.Conv2D(8, 3, strides=2, padding="same")(x[0])),
    Case("conv2d_dilated_nobias", [([9, 9, 1], FLT)],
         [{"type": "conv2d", "filters": 2, "kernel_size": 3, "dilation_rate": [2, 1],
           "use_bias": False}],
         lambda k, x: k.layers.Conv2D(2, 3, dilation_rate=(2, 1), use_bias=False)(x[0])),
    Case("max_pool1d", [([10, 4], FLT)],
         [{"type": "max_pool1d", "pool_size": 3, "strides": 2}],
         lambda k, x: k.layers.MaxPooling1D(3, strides=2)(x[0])),
    Case("avg_pool1d_same", [([10, 4], FLT)],
         [{"type": "avg_pool1d", "pool_size": 3, "padding": "same"}],
         lambda k, x: k.layers.AveragePooling1D(3, padding="same")(x[0])),
    Case("max_pool2d", [([7, 7, 2], FLT)], [{"type": "max_pool2d"}],
         lambda k, x: k.layers.MaxPooling2D(2)(x[0])),
    Case("avg_pool2d_same", [([7, 5, 2], FLT)],
         [{"type": "avg_pool2d", "pool_size": [3, 2], "strides": [1, 2], "padding": "same"}],
         lambda k, x: k.layers.AveragePooling2D((3, 2), strides=(1, 2), padding="same")(x[0])),
    Case("global_pool_1d", [([None, 6], FLT)], [{"type": "global_pool"}],
         lambda k, x: k.layers.GlobalAveragePooling1D()(x[0])),
    Case("global_pool_2d", [([5, 5, 6], FLT)], [{"type": "global_pool", "mode": "max"}],
         lambda k, x: k.layers.GlobalMaxPooling2D()(x[0])),
    Case("flatten", [([3, 4, 5], FLT)], [{"type": "flatten"}],
         lambda k, x: k.layers.Flatten()(x[0])),
    Case("reshape", [([24], FLT)], [{"type": "reshape", "target_shape": [2, -1, 3]}],
         lambda k, x: k.layers.Reshape((2, -1, 3))(x[0])),
    Case("dropout", [([5, 6], FLT)], [{"type": "dropout", "rate": 0.5}],
         lambda k, x: k.layers.Dropout(0.5)(x[0])),
    Case("batch_norm", [([5, 6], FLT)], [{"type": "batch_norm"}],
         lambda k, x: k.layers.BatchNormalization()(x[0])),
    Case("layer_norm", [([5, 6], FLT)], [{"type": "layer_norm"}],
         lambda k, x: k.layers.LayerNormalization(epsilon=1e-6)(x[0])),
    Case("activation", [([5], FLT)], [{"type": "activation", "activation": "tanh"}],
         lambda k, x: k.layers.Activation("tanh")(x[0])),
    Case("embedding", [([2, 3], INT)],
         [{"type": "embedding", "input_dim": 11, "output_dim": 4}],
         lambda k, x: k.layers.Embedding(11, 4)(x[0])),
    Case("positional_embedding_ids", [([7], INT)],
         [{"type": "positional_embedding", "input_dim": 20, "output_dim": 8, "max_length": 9}],
         lambda k, x: positional_embedding(k, 9, 8, 20)(x[0])),
    Case("positional_embedding_float", [([6, 8], FLT)],
         [{"type": "positional_embedding", "output_dim": 8, "max_length": 6}],
         lambda k, x: positional_embedding(k, 6, 8)(x[0])),
    Case("lstm_sequences", [([None, 5], FLT)],
         [{"type": "lstm", "units": 7, "return_sequences": True}],
         lambda k, x: k.layers.LSTM(7, return_sequences=True)(x[0])),
    Case("lstm_state", [([4, 5], FLT)],
         [{"type": "lstm", "units": 6, "return_state": True}],
         lambda k, x: k.layers.LSTM(6, return_state=True)(x[0])),
    Case("gru_state_sequences", [([4, 5], FLT)],
         [{"type": "gru", "units": 3, "return_state": True, "return_sequences": True}],
         lambda k, x: k.layers.GRU(3, return_state=True, return_sequences=True)(x[0])),
    Case("lstm_initial_state", [([4, 5], FLT), ([3, 2], FLT)],
         [{"type": "lstm", "units": 6, "return_state": True, "name": "enc", "inputs": ["x0"]},
          {"type": "lstm", "units": 6, "initial_state": "enc", "inputs": ["x1"]}],
         lambda k, x: k.layers.LSTM(6)(
             x[1], initial_state=k.layers.LSTM(6, return_state=True)(x[0])[1:])),
    Case("bidirectional_lstm_concat", [([None, 5], FLT)],
         [{"type": "bidirectional",
           "layer": {"type": "lstm", "units": 4, "return_sequences": True}}],
         lambda k, x: k.layers.Bidirectional(k.layers.LSTM(4, return_sequences=True))(x[0])),
    Case("bidirectional_gru_sum", [([6, 5], FLT)],
         [{"type": "bidirectional", "layer": {"type": "gru", "units": 4}, "merge_mode": "sum"}],
         lambda k, x: k.layers.Bidirectional(k.layers.GRU(4), merge_mode="sum")(x[0])),
    Case("attention_dot_self", [([6, 5], FLT)], [{"type": "attention", "causal": True}],
         lambda k, x: k.layers.Attention()([x[0], x[0]], use_causal_mask=True)),
    Case("attention_additive", [([3, 4], FLT), ([6, 4], FLT)],
         [{"type": "attention", "score": "additive", "inputs": ["x0", "x1"]}],
         lambda k, x: k.layers.AdditiveAttention()([x[0], x[1]])),
    Case("attention_dot_qvk", [([3, 4], FLT), ([6, 2], FLT), ([6, 4], FLT)],
         [{"type": "attention", "inputs": ["x0", "x1", "x2"]}],
         lambda k, x: k.layers.Attention()([x[0], x[1], x[2]])),
    Case("mha_self", [([None, 12], FLT)],
         [{"type": "multi_head_attention", "num_heads": 3, "key_dim": 5}],
         lambda k, x: k.layers.MultiHeadAttention(3, 5)(x[0], x[0])),
    Case("mha_cross_qvk", [([3, 12], FLT), ([6, 7], FLT), ([6, 9], FLT)],
         [{"type": "multi_head_attention", "num_heads": 2, "key_dim": 4,
           "inputs": ["x0", "x1", "x2"]}],
         lambda k, x: k.layers.MultiHeadAttention(2, 4)(x[0], x[1], x[2])),
    Case("mha_image", [([4, 4, 6], FLT)],
         [{"type": "multi_head_attention", "num_heads": 2, "key_dim": 3}],
         lambda k, x: k.layers.MultiHeadAttention(2, 3)(x[0], x[0])),
    Case("transformer_encoder_pre_norm", [([8, 16], FLT)],
         [{"type": "transformer_encoder", "num_heads": 4, "ff_dim": 32}],
         lambda k, x: encoder_block(k, x[0], 4, 32)),
    Case("transformer_encoder_post_norm", [([None, 12], FLT)],
         [{"type": "transformer_encoder", "num_heads": 3, "ff_dim": 20, "norm_first": False,
           "activation": "relu"}],
         lambda k, x: encoder_block(k, x[0], 3, 20, activation="relu", norm_first=False)),
    Case("transformer_decoder", [([5, 16], FLT), ([7, 10], FLT)],
         [{"type": "transformer_decoder", "num_heads": 2, "ff_dim": 24,
           "inputs": ["x0", "x1"]}],
         lambda k, x: decoder_block(k, x[0], x[1], 2, 24)),
    Case("conv2d_transpose_same", [([5, 4, 3], FLT)],
         [{"type": "conv2d_transpose", "filters": 6, "kernel_size": 3, "strides": 2,
           "padding": "same"}],
         lambda k, x: k.layers.Conv2DTranspose(6, 3, strides=2, padding="same")(x[0])),
    Case("conv2d_transpose_valid_nobias", [([5, None, 2], FLT)],
         [{"type": "conv2d_transpose", "filters": 3, "kernel_size": [4, 2], "strides": [3, 2],
           "use_bias": False}],
         lambda k, x: k.layers.Conv2DTranspose(3, (4, 2), strides=(3, 2), use_bias=False)(x[0])),
    Case("separable_conv2d", [([9, 8, 3], FLT)],
         [{"type": "separable_conv2d", "filters": 5, "kernel_size": [3, 2], "strides": 2,
           "depth_multiplier": 2}],
         lambda k, x: k.layers.SeparableConv2D(5, (3, 2), strides=2, depth_multiplier=2)(x[0])),
    Case("separable_conv2d_dilated_nobias", [([9, 9, 4], FLT)],
         [{"type": "separable_conv2d", "filters": 2, "kernel_size": 3, "dilation_rate": 2,
           "padding": "same", "use_bias": False}],
         lambda k, x: k.layers.SeparableConv2D(
             2, 3, dilation_rate=2, padding="same", use_bias=False)(x[0])),
    Case("depthwise_conv2d", [([7, 6, 3], FLT)],
         [{"type": "depthwise_conv2d", "kernel_size": 3, "depth_multiplier": 4}],
         lambda k, x: k.layers.DepthwiseConv2D(3, depth_multiplier=4)(x[0])),
    Case("depthwise_conv2d_same_stride_nobias", [([7, 6, 3], FLT)],
         [{"type": "depthwise_conv2d", "kernel_size": [2, 3], "strides": 2, "padding": "same",
           "use_bias": False}],
         lambda k, x: k.layers.DepthwiseConv2D(
             (2, 3), strides=2, padding="same", use_bias=False)(x[0])),
    Case("zero_padding1d", [([None, 3], FLT)], [{"type": "zero_padding1d", "padding": [2, 1]}],
         lambda k, x: k.layers.ZeroPadding1D((2, 1))(x[0])),
    Case("zero_padding2d_int", [([4, 5, 2], FLT)], [{"type": "zero_padding2d", "padding": 2}],
         lambda k, x: k.layers.ZeroPadding2D(2)(x[0])),
    Case("zero_padding2d_pair", [([4, 5, 2], FLT)],
         [{"type": "zero_padding2d", "padding": [1, 0]}],
         lambda k, x: k.layers.ZeroPadding2D((1, 0))(x[0])),
    Case("zero_padding2d_sides", [([4, 5, 2], FLT)],
         [{"type": "zero_padding2d", "padding": [[0, 3], [2, 1]]}],
         lambda k, x: k.layers.ZeroPadding2D(((0, 3), (2, 1)))(x[0])),
    Case("upsampling1d", [([None, 4], FLT)], [{"type": "upsampling1d", "size": 3}],
         lambda k, x: k.layers.UpSampling1D(3)(x[0])),
    Case("upsampling2d_bilinear", [([3, 4, 2], FLT)],
         [{"type": "upsampling2d", "size": [2, 3], "interpolation": "bilinear"}],
         lambda k, x: k.layers.UpSampling2D((2, 3), interpolation="bilinear")(x[0])),
    Case("repeat_vector", [([5], FLT)], [{"type": "repeat_vector", "n": 4}],
         lambda k, x: k.layers.RepeatVector(4)(x[0])),
    Case("one_hot", [([6], INT)], [{"type": "one_hot", "num_tokens": 9}],
         lambda k, x: k.layers.CategoryEncoding(9, output_mode="one_hot")(x[0])),
    Case("one_hot_single_id", [([1], INT)], [{"type": "one_hot", "num_tokens": 5}],
         lambda k, x: k.layers.CategoryEncoding(5, output_mode="one_hot")(x[0])),
    Case("one_hot_varlen", [([None], INT)], [{"type": "one_hot", "num_tokens": 5}],
         lambda k, x: k.layers.CategoryEncoding(5, output_mode="one_hot")(x[0])),
    Case("simple_rnn_sequences", [([None, 5], FLT)],
         [{"type": "simple_rnn", "units": 7, "return_sequences": True}],
         lambda k, x: k.layers.SimpleRNN(7, return_sequences=True)(x[0])),
    Case("simple_rnn_initial_state", [([4, 5], FLT), ([3, 2], FLT)],
         [{"type": "simple_rnn", "units": 6, "return_state": True, "name": "enc",
           "inputs": ["x0"]},
          {"type": "simple_rnn", "units": 6, "initial_state": "enc", "inputs": ["x1"],
           "activation": "relu"}],
         lambda k, x: k.layers.SimpleRNN(6, activation="relu")(
             x[1], initial_state=k.layers.SimpleRNN(6, return_state=True)(x[0])[1:])),
    Case("bidirectional_simple_rnn", [([6, 5], FLT)],
         [{"type": "bidirectional", "layer": {"type": "simple_rnn", "units": 4,
                                               "return_sequences": True}}],
         lambda k, x: k.layers.Bidirectional(
             k.layers.SimpleRNN(4, return_sequences=True))(x[0])),
    Case("add", [([4, 3], FLT), ([4, 3], FLT)], [{"type": "add", "inputs": ["x0", "x1"]}],
         lambda k, x: k.layers.Add()([x[0], x[1]])),
    Case("multiply", [([5], FLT), ([5], FLT), ([5], FLT)],
         [{"type": "multiply", "inputs": ["x0", "x1", "x2"]}],
         lambda k, x: k.layers.Multiply()(list(x))),
    Case("concatenate_axis1", [([2, 3], FLT), ([5, 3], FLT)],
         [{"type": "concatenate", "axis": 1, "inputs": ["x0", "x1"]}],
         lambda k, x: k.layers.Concatenate(axis=1)([x[0], x[1]])),
]
# fmt: on


def _name(i: int, n: int) -> str:
    return "x" if n == 1 else f"x{i}"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_layer_matches_keras(keras, case: Case):
    import numpy as np

    n = len(case.inputs)
    spec_inputs = [
        {"name": _name(i, n), "shape": shape, "dtype": dtype}
        for i, (shape, dtype) in enumerate(case.inputs)
    ]
    graph = lower(_spec(case.layers, spec_inputs), check_task=False)
    node = graph.nodes[-1]

    tensors = [keras.Input(shape=tuple(s), dtype=d) for s, d in case.inputs]
    out = case.build(keras, tensors)
    outs = list(out) if isinstance(out, (list, tuple)) else [out]
    model = keras.Model(tensors, outs)

    assert node.output.shape == tuple(outs[0].shape[1:])
    assert [s.shape for s in node.states] == [tuple(t.shape[1:]) for t in outs[1:]]
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert (graph.params, graph.trainable_params) == (model.count_params(), trainable)


def test_backbone_output_shape_matches_keras(keras):
    spec = _spec(
        [{"type": "backbone", "source": "applications:MobileNetV3Small", "output_shape": [576]}],
        [{"name": "x", "shape": [64, 64, 3]}],
    )
    node = lower(spec, check_task=False).nodes[0]
    app = keras.applications.MobileNetV3Small(
        input_shape=(64, 64, 3), include_top=False, weights=None, pooling="avg"
    )
    assert node.output.shape == tuple(app.output.shape[1:])
    assert node.params == 0 and node.attrs["params_unknown"]


def test_every_layer_type_is_covered():
    from specc.spec.layers import LAYER_TYPES

    covered = {layer["type"] for case in CASES for layer in case.layers} | {"backbone"}
    assert covered == set(LAYER_TYPES)


# --------------------------------------------------------------------------- window formulas


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 40),
    kernel=st.integers(1, 7),
    stride=st.integers(1, 4),
    dilation=st.integers(1, 3),
    padding=st.sampled_from(["valid", "same", "causal"]),
)
def test_conv1d_length_matches_keras(keras, n, kernel, stride, dilation, padding):
    if stride > 1:
        dilation = 1
    ours = conv_length(n, kernel, stride, dilation, padding)
    layer = keras.layers.Conv1D(1, kernel, strides=stride, dilation_rate=dilation, padding=padding)
    if ours == 0:
        with pytest.raises(ValueError):
            layer.compute_output_shape((None, n, 2))
        return
    assert layer.compute_output_shape((None, n, 2))[1] == ours


@settings(max_examples=20, deadline=None)
@given(
    n=st.integers(1, 30),
    pool=st.integers(1, 5),
    stride=st.integers(1, 4),
    padding=st.sampled_from(["valid", "same"]),
)
def test_pool1d_length_matches_keras(keras, n, pool, stride, padding):
    ours = pool_length(n, pool, stride, padding)
    layer = keras.layers.MaxPooling1D(pool, strides=stride, padding=padding)
    if ours == 0:
        with pytest.raises(ValueError):
            layer.compute_output_shape((None, n, 2))
        return
    assert layer.compute_output_shape((None, n, 2))[1] == ours
