"""The layers of `spec/layers_more.py` and simple_rnn: the Keras lines they generate, how their
fields are validated, and the transposed-convolution length formula against Keras.

Shapes and parameter counts against Keras are in `test_shapes_vs_keras.py`, ONNX parity in
`test_layer_parity.py` (cases in `codegen_cases.py`); these tests add what those do not pin.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from codegen_cases import generate_case, spec_text
from hypothesis import given, settings
from hypothesis import strategies as st

from specc.ir.shapes_conv import transpose_length
from specc.spec import parse_spec
from specc.spec.errors import SpecErrors


def model_code(tmp_path: Path, inputs: list[str], layers: list[str], **options) -> str:
    _, _, code = generate_case(spec_text("t", inputs, layers, **options), tmp_path)
    return code.files["spec_model.py"]


@pytest.mark.parametrize(
    ("inputs", "layer", "line"),
    [
        (
            "{name: x, shape: [5, 4, 2]}",
            "{type: zero_padding2d, padding: [[1, 0], [2, 3]]}",
            'layers.ZeroPadding2D(((1, 0), (2, 3)), name="zero_padding2d_1")',
        ),
        (
            "{name: x, shape: [5, 4, 2]}",
            "{type: zero_padding2d, padding: [1, 1]}",
            'layers.ZeroPadding2D(name="zero_padding2d_1")',  # the Keras default, left out
        ),
        (
            "{name: x, shape: [5, 2]}",
            "{type: zero_padding1d, padding: 3}",
            'layers.ZeroPadding1D(3, name="zero_padding1d_1")',
        ),
        (
            "{name: x, shape: [5, 4, 2]}",
            "{type: upsampling2d, size: [2, 2], interpolation: bilinear}",
            'layers.UpSampling2D(interpolation="bilinear", name="upsampling2d_1")',
        ),
        (
            "{name: x, shape: [5, 2]}",
            "{type: upsampling1d, size: 4}",
            'layers.UpSampling1D(size=4, name="upsampling1d_1")',
        ),
        (
            "{name: x, shape: [5]}",
            "{type: repeat_vector, n: 7}",
            'layers.RepeatVector(7, name="repeat_vector_1")',
        ),
        (
            "{name: ids, shape: [6], dtype: int32}",
            "{type: one_hot, num_tokens: 12}",
            'layers.CategoryEncoding(12, output_mode="one_hot", name="one_hot_1")',
        ),
        (
            "{name: x, shape: [6, 3]}",
            "{type: simple_rnn, units: 4, return_sequences: true}",
            'layers.SimpleRNN(4, return_sequences=True, name="simple_rnn_1")',  # tanh: default
        ),
    ],
)
def test_emitted_line(tmp_path: Path, inputs: str, layer: str, line: str) -> None:
    assert line in model_code(tmp_path, [inputs], [layer])


def test_convolution_variants_pass_their_kernel_settings(tmp_path: Path) -> None:
    code = model_code(
        tmp_path,
        ["{name: x, shape: [9, 9, 3]}"],
        [
            "{type: depthwise_conv2d, kernel_size: 3, depth_multiplier: 2, "
            "regularizer: {l1: 0.01}}",
            "{type: separable_conv2d, filters: 4, kernel_size: [3, 1], initializer: zeros}",
            "{type: conv2d_transpose, filters: 2, kernel_size: 2, strides: 2, activation: tanh}",
            "{type: dense, units: 1}",
        ],
    )
    depthwise = code[code.index("layers.DepthwiseConv2D(") : code.index('name="depthwise')]
    assert "depth_multiplier=2" in depthwise and 'activation="relu"' in depthwise
    assert 'depthwise_initializer="he_normal"' in depthwise  # auto: He for ReLU
    assert "depthwise_regularizer=keras.regularizers.L1L2(l1=0.01)" in depthwise
    assert "pointwise" not in depthwise and "kernel_initializer" not in depthwise
    separable = code[code.index("layers.SeparableConv2D(") : code.index('name="separable')]
    assert "(3, 1)," in separable
    assert 'depthwise_initializer="zeros"' in separable
    assert 'pointwise_initializer="zeros"' in separable
    transpose = code[code.index("layers.Conv2DTranspose(") : code.index('name="conv2d_transpose')]
    assert "strides=2" in transpose and 'activation="tanh"' in transpose
    assert "kernel_initializer" not in transpose  # glorot_uniform for tanh: the Keras default


def test_simple_rnn_activation_is_its_own_even_at_the_output(tmp_path: Path) -> None:
    """`auto` is ReLU wherever simple_rnn sits: a task's output activation (softmax) would be
    a poor recurrence, and the output check leaves simple_rnn alone as it does lstm and gru."""
    code = model_code(
        tmp_path,
        ["{name: x, shape: [6, 3]}"],
        ["{type: simple_rnn, units: 2, activation: auto}"],
        task="{type: multiclass, classes: 2}",
    )
    assert 'layers.SimpleRNN(2, activation="relu", name="simple_rnn_1")' in code
    code = model_code(
        tmp_path / "tanh", ["{name: x, shape: [6, 3]}"], ["{type: simple_rnn, units: 1}"]
    )
    assert 'layers.SimpleRNN(1, name="simple_rnn_1")' in code


def _errors(tmp_path: Path, inputs: str, layer: str) -> list[str]:
    (tmp_path / "data.npz").write_bytes(b"")
    with pytest.raises(SpecErrors) as caught:
        parse_spec(spec_text("t", [inputs], [layer]), tmp_path / "spec.yaml")
    return [f"{'.'.join(map(str, e.path))}: {e.message}" for e in caught.value.errors]


@pytest.mark.parametrize(
    ("layer", "message"),
    [
        ("{type: zero_padding1d, padding: [1, 2, 3]}", "expected an integer or [start, end]"),
        ("{type: zero_padding1d, padding: [[1, 2], [3, 4]]}", "expected an integer or [start"),
        ("{type: zero_padding1d, padding: [0, -1]}", "cannot be negative, got -1"),
        ("{type: zero_padding1d, padding: true}", "expected an integer or [start, end]"),
        ("{type: zero_padding1d, padding: 1.5}", "got 1.5 (a number)"),
        ("{type: zero_padding1d, padding: '2'}", "got '2' (a string)"),
    ],
)
def test_zero_padding_amounts_get_one_clear_error(tmp_path: Path, layer: str, message: str):
    errors = _errors(tmp_path, "{name: x, shape: [5, 2]}", layer)
    assert len(errors) == 1 and errors[0].startswith("model.layers.0.padding: "), errors
    assert message in errors[0]


@pytest.mark.parametrize(
    "padding", ["0", "2", "[0, 3]", "[[0, 1], [2, 0]]"], ids=["zero", "int", "pair", "sides"]
)
def test_zero_padding2d_accepts_every_form(tmp_path: Path, padding: str) -> None:
    code = model_code(
        tmp_path, ["{name: x, shape: [4, 4, 1]}"], [f"{{type: zero_padding2d, padding: {padding}}}"]
    )
    assert "layers.ZeroPadding2D(" in code


def test_one_hot_width_is_bounded(tmp_path: Path) -> None:
    errors = _errors(
        tmp_path, "{name: ids, shape: [3], dtype: int32}", "{type: one_hot, num_tokens: 100000}"
    )
    assert (
        errors
        == ["model.layers.0.num_tokens: expected an integer <= 65536, got 100000 (an integer)"]
        or "65536" in errors[0]
    ), errors


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 12),
    kernel=st.integers(1, 5),
    stride=st.integers(1, 4),
    padding=st.sampled_from(["valid", "same"]),
)
def test_transpose_length_matches_keras(n: int, kernel: int, stride: int, padding: str) -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    keras = pytest.importorskip("keras")
    layer = keras.layers.Conv2DTranspose(1, (kernel, 1), strides=(stride, 1), padding=padding)
    assert layer.compute_output_shape((None, n, 3, 2))[1] == transpose_length(
        n, kernel, stride, padding
    )
