"""Tests of the shape and wiring errors found by lowering: message, hint and spec path."""

from __future__ import annotations

import textwrap

import pytest
from ir_helpers import errors_of, make, one_error

from specc.ir import lower
from specc.spec import SpecErrors, parse_spec

# --------------------------------------------------------------------------- errors


def test_kernel_larger_than_input():
    spec = make(
        [{"type": "conv2d", "filters": 2, "kernel_size": 5}, {"type": "flatten"}],
        inputs=[{"name": "x", "shape": [4, 4, 1]}],
    )
    path, message, hint = one_error(spec, check_task=False)
    assert path == ("model", "layers", 0, "kernel_size")
    assert message == "kernel 5x5 does not fit the 4x4 input with padding `valid`"
    assert hint == "use `padding: same` or a kernel of at most 4"


def test_conv1d_kernel_and_dilation():
    spec = make(
        [
            {"type": "conv1d", "filters": 2, "kernel_size": 9, "name": "a"},
            {"type": "conv1d", "filters": 2, "kernel_size": 3, "dilation_rate": 4, "inputs": ["x"]},
            {
                "type": "conv1d",
                "filters": 2,
                "kernel_size": 3,
                "dilation_rate": 2,
                "strides": 2,
                "inputs": ["x"],
            },
        ],
        inputs=[{"name": "x", "shape": [8, 1]}],
    )
    found = errors_of(spec, check_task=False)
    assert found[0][0] == ("model", "layers", 0, "kernel_size")
    assert "kernel 9 does not fit the 8-step input" in found[0][1]
    assert found[1][0] == ("model", "layers", 1, "dilation_rate")
    assert "spans 9" in found[1][1]
    assert found[2][0] == ("model", "layers", 2, "dilation_rate")
    assert "cannot combine strides 2 with dilation_rate 2" in found[2][1]


def test_pool_larger_than_input():
    spec = make(
        [{"type": "max_pool2d", "pool_size": [3, 2]}],
        inputs=[{"name": "x", "shape": [2, 5, 1]}],
    )
    path, message, hint = one_error(spec, check_task=False)
    assert path == ("model", "layers", 0, "pool_size")
    assert message == "pool 3x2 does not fit the 2x5 input with padding `valid`"
    assert hint == "use `padding: same` or a pool of at most 2x5"
    same = make(
        [{"type": "max_pool2d", "pool_size": [3, 2], "padding": "same"}],
        inputs=[{"name": "x", "shape": [2, 5, 1]}],
    )
    assert lower(same, check_task=False).nodes[0].output.shape == (1, 3, 1)


def test_conv2d_on_flat_input():
    spec = make(
        [{"type": "conv2d", "filters": 2, "kernel_size": 3}], inputs=[{"name": "x", "shape": [64]}]
    )
    path, message, hint = one_error(spec, check_task=False)
    assert path == ("model", "layers", 0)
    assert message.startswith("conv2d expects (height, width, channels), got (64,)")
    assert "target_shape: [8, 8, 1]" in hint


def test_dense_after_conv_as_classifier_output():
    spec = make(
        [
            {"type": "conv2d", "filters": 4, "kernel_size": 3},
            {"type": "dense", "units": 10, "name": "out"},
        ],
        inputs=[{"name": "x", "shape": [6, 6, 1]}],
        task={"type": "multiclass", "classes": 10},
    )
    path, message, hint = one_error(spec)
    assert path == ("model", "layers", 1)
    assert message == "the output has shape (4, 4, 10) but a multiclass task needs (10,)"
    assert hint == "add a `flatten` or `global_pool` before it"
    # the same dense is legal (per pixel) when it is not checked against the task
    graph = lower(spec, check_task=False)
    assert graph.node("out").output.shape == (4, 4, 10)
    assert graph.node("out").params == 4 * 10 + 10


def test_seq2seq_output_needs_steps():
    spec = make(
        [
            {"type": "embedding", "input_dim": 13, "output_dim": 8},
            {"type": "lstm", "units": 16},
            {"type": "dense", "units": 13},
        ],
        inputs=[{"name": "ids", "shape": [5], "dtype": "int32"}],
        task={"type": "seq2seq", "vocab_size": 13},
    )
    path, message, hint = one_error(spec)
    assert path == ("model", "layers", 2)
    assert message == "the output has shape (13,) but a seq2seq task needs (steps, 13)"
    assert "return_sequences: true" in hint


def test_global_pool_output_with_wrong_width():
    spec = make(
        [{"type": "conv1d", "filters": 4, "kernel_size": 2}, {"type": "global_pool"}],
        inputs=[{"name": "x", "shape": [6, 2]}],
        task={"type": "multiclass", "classes": 3},
    )
    path, message, _ = one_error(spec)
    assert path == ("model", "layers", 1)
    assert message == "the output has shape (4,) but a multiclass task needs (3,)"


def test_embedding_on_float_input():
    spec = make([{"type": "embedding", "input_dim": 10, "output_dim": 4}, {"type": "flatten"}])
    path, message, hint = one_error(spec, check_task=False)
    assert path == ("model", "layers", 0)
    assert message.startswith("embedding expects int32 token ids, got float32 values (16,)")
    assert "dtype: int32" in hint


@pytest.mark.parametrize("shape", [[16], [4, 4, 1]])
def test_recurrent_needs_sequences(shape):
    spec = make([{"type": "lstm", "units": 4}], inputs=[{"name": "x", "shape": shape}])
    path, message, hint = one_error(spec, check_task=False)
    assert path == ("model", "layers", 0)
    got = "(16,)" if len(shape) == 1 else "(4, 4, 1)"
    assert message == f"lstm expects (steps, features), got {got} from `x`"
    assert "reshape" in hint


def test_reshape_size_mismatch():
    spec = make(
        [
            {"type": "reshape", "target_shape": [3, 5]},
            {"type": "reshape", "target_shape": [-1, 5], "inputs": ["x"]},
            {"type": "reshape", "target_shape": [-1, -1], "inputs": ["x"]},
            {"type": "reshape", "target_shape": [0, 16], "inputs": ["x"]},
            {"type": "reshape", "target_shape": [2, -1, 2], "inputs": ["x"], "name": "ok"},
        ]
    )
    found = errors_of(spec, check_task=False)
    assert [p for p, _, _ in found] == [
        ("model", "layers", 0, "target_shape"),
        ("model", "layers", 1, "target_shape"),
        ("model", "layers", 2, "target_shape"),
        ("model", "layers", 3, "target_shape", 0),
    ]
    assert found[0][1] == "cannot reshape (16,) from `x` (16 values) to [3, 5] (15 values)"
    assert "not a multiple of 5" in found[1][1]
    ok = make([{"type": "reshape", "target_shape": [2, -1, 2]}])
    assert lower(ok, check_task=False).nodes[0].output.shape == (2, 4, 2)


def test_mismatched_residual_add():
    spec = make(
        [
            {"type": "dense", "units": 32, "name": "a"},
            {"type": "dense", "units": 16, "name": "b"},
            {"type": "add", "inputs": ["a", "b"]},
            {"type": "dense", "units": 1},
        ]
    )
    path, message, hint = one_error(spec)  # nothing reported downstream of the broken add
    assert path == ("model", "layers", 2, "inputs")
    assert message == "mismatched residual add: `a` has shape (32,) but `b` has shape (16,)"
    assert "dense" in hint


def test_merge_needs_two_inputs():
    spec = make([{"type": "dense", "units": 4}, {"type": "add"}, {"type": "dense", "units": 1}])
    path, message, _ = one_error(spec)
    assert path == ("model", "layers", 1)
    assert message == "add combines two or more inputs, got 1 input"
    spec = make([{"type": "dense", "units": 1, "inputs": ["x", "x"]}])
    path, message, _ = one_error(spec)
    assert path == ("model", "layers", 0, "inputs")
    assert message == "dense reads one input, got 2 inputs"


def test_concatenate_errors():
    spec = make(
        [
            {"type": "reshape", "target_shape": [4, 4], "name": "a"},
            {"type": "reshape", "target_shape": [2, 8], "name": "b", "inputs": ["x"]},
            {"type": "concatenate", "inputs": ["a", "b"], "axis": -1},
            {"type": "concatenate", "inputs": ["a", "b"], "axis": 0},
            {"type": "concatenate", "inputs": ["a", "x"]},
            {"type": "concatenate", "inputs": ["a", "a"], "axis": 1, "name": "ok"},
        ]
    )
    found = errors_of(spec, check_task=False)
    assert [p for p, _, _ in found] == [
        ("model", "layers", 2, "inputs"),
        ("model", "layers", 3, "axis"),
        ("model", "layers", 4, "inputs"),
    ]
    assert "every other axis equal" in found[0][1]
    assert "batch axis" in found[1][1]
    assert "one rank" in found[2][1]


def test_initial_state_mismatch():
    spec = make(
        [
            {"type": "lstm", "units": 8, "return_state": True, "name": "enc"},
            {"type": "gru", "units": 4, "return_state": True, "name": "genc", "inputs": ["x"]},
            {"type": "lstm", "units": 6, "initial_state": "enc", "inputs": ["x"]},
            {"type": "lstm", "units": 4, "initial_state": "genc", "inputs": ["x"]},
            {"type": "gru", "units": 8, "initial_state": "enc", "inputs": ["x"]},
        ],
        inputs=[{"name": "x", "shape": [5, 3]}],
    )
    found = errors_of(spec, check_task=False)
    assert all(p[-1] == "initial_state" for p, _, _ in found)
    messages = {p[2]: [] for p, _, _ in found}
    for p, m, _ in found:
        messages[p[2]].append(m)
    assert messages[2] == ["the initial state from `enc` is 8 wide, but this lstm has 6 units"]
    assert messages[3] == ["an lstm starts from [h, c] states, but gru `genc` provides [h]"]
    assert messages[4] == ["a gru starts from one state [h], but lstm `enc` provides [h, c]"]


def test_transformer_width_not_divisible():
    spec = make(
        [{"type": "transformer_encoder", "num_heads": 4, "ff_dim": 8}],
        inputs=[{"name": "x", "shape": [5, 30]}],
    )
    path, message, hint = one_error(spec, check_task=False)
    assert path == ("model", "layers", 0, "num_heads")
    assert "model width 30" in message and "not divisible by num_heads 4" in message
    assert "1, 2, 3, 5, 6, 10, 15" in hint


def test_transformer_decoder_needs_two_inputs():
    spec = make(
        [{"type": "transformer_decoder", "num_heads": 2, "ff_dim": 8}],
        inputs=[{"name": "x", "shape": [5, 8]}],
    )
    path, message, _ = one_error(spec, check_task=False)
    assert path == ("model", "layers", 0)
    assert message == "transformer_decoder reads [target, encoder_output], got 1 input"


def test_positional_embedding_errors():
    spec = make(
        [
            {"type": "positional_embedding", "output_dim": 8, "max_length": 4},
            {"type": "positional_embedding", "output_dim": 6, "max_length": 9, "inputs": ["x"]},
        ],
        inputs=[{"name": "x", "shape": [6, 8]}],
    )
    found = errors_of(spec, check_task=False)
    assert found[0][:2] == (
        ("model", "layers", 0, "max_length"),
        "the sequence has 6 steps but max_length is 4",
    )
    assert found[1][0] == ("model", "layers", 1, "output_dim")
    ids = make(
        [{"type": "positional_embedding", "input_dim": 20, "output_dim": 8, "max_length": 6}],
        inputs=[{"name": "x", "shape": [6], "dtype": "int32"}],
    )
    node = lower(ids, check_task=False).nodes[0]
    assert node.output.shape == (6, 8) and node.params == 20 * 8 + 6 * 8


def test_attention_width_mismatch():
    spec = make(
        [{"type": "attention", "inputs": ["q", "v", "k"]}],
        inputs=[
            {"name": "q", "shape": [3, 4]},
            {"name": "v", "shape": [5, 6]},
            {"name": "k", "shape": [5, 2]},
        ],
    )
    path, message, _ = one_error(spec, check_task=False)
    assert path == ("model", "layers", 0, "inputs")
    assert "widths must match" in message


def test_all_errors_reported_together():
    spec = make(
        [
            {"type": "conv2d", "filters": 2, "kernel_size": 3, "name": "c"},
            {"type": "dense", "units": 4, "inputs": ["x"], "name": "a"},
            {"type": "dense", "units": 5, "name": "b"},
            {"type": "add", "inputs": ["a", "b"]},
            {"type": "dense", "units": 1, "inputs": ["c"]},
        ]
    )
    found = errors_of(spec)
    assert [p for p, _, _ in found] == [("model", "layers", 0), ("model", "layers", 3, "inputs")]


def test_errors_locate_into_the_file():
    text = textwrap.dedent(
        """\
        specc: 1
        name: t
        task: {type: multiclass, classes: 10}
        data: {type: builtin, dataset: "sklearn:digits"}
        model:
          inputs:
            - {name: pixels, shape: [8, 8, 1]}
          layers:
            - {type: conv2d, filters: 8, kernel_size: 9}
            - {type: flatten}
            - {type: dense, units: 10}
        """
    )
    loaded = parse_spec(text, "t.yaml")
    with pytest.raises(SpecErrors) as info:
        lower(loaded.spec)
    located = [loaded.locate(e) for e in info.value.errors]
    assert [(e.location.line, e.path[-1]) for e in located] == [(9, "kernel_size")]
    assert located[0].format().startswith("t.yaml:9:")
