"""Tests of lowering: the example specs, naming, wiring, resolved attributes, shape errors, dump."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from ir_helpers import make, one_error

from specc.ir import Graph, lower, render
from specc.spec import load_spec

SPECS = sorted((Path(__file__).resolve().parent.parent / "specs").glob("*.yaml"))


def shapes(graph: Graph) -> dict[str, tuple]:
    return {n.name: n.output.shape for n in graph.inputs + graph.nodes}


# --------------------------------------------------------------------------- example specs


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_example_specs_lower(path):
    graph = lower(load_spec(path).spec)
    assert graph.nodes and graph.outputs
    assert all(graph.node(name).is_output for name in graph.outputs)
    text = render(graph)
    assert text == render(lower(load_spec(path).spec))
    assert "Total params:" in text


def test_digits_cnn_by_hand():
    graph = lower(load_spec(SPECS[0].parent / "digits_cnn.yaml").spec)
    assert shapes(graph) == {
        "pixels": (8, 8, 1),
        "conv2d_1": (8, 8, 32),
        "batch_norm_1": (8, 8, 32),
        "conv2d_2": (8, 8, 32),
        "max_pool2d_1": (4, 4, 32),
        "conv2d_3": (4, 4, 64),
        "global_pool_1": (64,),
        "dropout_1": (64,),
        "digit": (10,),
    }
    params = {n.name: n.params for n in graph.nodes}
    assert params["conv2d_1"] == 3 * 3 * 1 * 32 + 32
    assert params["conv2d_2"] == 3 * 3 * 32 * 32 + 32
    assert params["conv2d_3"] == 3 * 3 * 32 * 64 + 64
    assert params["batch_norm_1"] == 128 and graph.node("batch_norm_1").trainable_params == 64
    assert params["digit"] == 64 * 10 + 10
    assert graph.params == 28842 and graph.trainable_params == 28778
    assert graph.node("conv2d_1").attrs == {
        "activation": "relu",
        "initializer": "he_normal",
        "kernel_size": (3, 3),
        "strides": (1, 1),
        "dilation_rate": (1, 1),
    }
    assert graph.node("digit").attrs == {"activation": "softmax", "initializer": "glorot_uniform"}
    assert graph.node("max_pool2d_1").attrs == {"pool_size": (2, 2), "strides": (2, 2)}
    assert graph.node("global_pool_1").attrs == {"spatial_dims": 2}
    assert graph.outputs == ["digit"]


def test_seq2seq_by_hand():
    graph = lower(load_spec(SPECS[0].parent / "addition_seq2seq.yaml").spec)
    encoder, decoder = graph.node("encoder"), graph.node("decoder")
    assert encoder.output.shape == (128,)
    assert [s.shape for s in encoder.states] == [(128,), (128,)]
    assert encoder.params == 4 * (32 * 128 + 128 * 128 + 128)
    assert decoder.inputs == ["answer_embedding"]
    assert decoder.attrs == {"initial_state": "encoder"}
    assert decoder.output.shape == (3, 128) and decoder.states == []
    assert graph.node("question_embedding").params == 13 * 32
    assert graph.node("next_token").output.shape == (3, 13)
    assert graph.node("encoder_input").output.dtype == "int32"
    assert graph.node("encoder_input").attrs == {"source": "encoder_input"}
    assert "(state from encoder)" in render(graph)


def test_transformer_by_hand():
    graph = lower(load_spec(SPECS[0].parent / "digits_transformer.yaml").spec)
    w, ff = 32, 64
    block = graph.node("transformer_encoder_1")
    assert block.params == 4 * (w * w + w) + 2 * 2 * w + (w * ff + ff) + (ff * w + w)
    assert block.attrs == {"activation": "gelu", "model_width": 32, "key_dim": 8}
    pos = graph.node("positional_embedding_1")
    assert pos.params == 8 * 32
    assert pos.attrs == {"model_width": 32, "token_ids": False}
    assert graph.node("dense_1").attrs["activation"] == "linear"
    assert graph.node("dense_1").attrs["initializer"] == "glorot_uniform"


# --------------------------------------------------------------------------- naming and wiring


def test_auto_naming_skips_used_names():
    spec = make(
        [
            {"type": "dense", "units": 8},
            {"type": "dense", "units": 8, "name": "dense_1"},
            {"type": "dropout", "rate": 0.1},
            {"type": "dense", "units": 8},
            {"type": "dense", "units": 1},
        ],
        inputs=[{"name": "dense_3", "shape": [4]}],
    )
    graph = lower(spec)
    assert [n.name for n in graph.nodes] == [
        "dense_2",
        "dense_1",
        "dropout_1",
        "dense_4",
        "dense_5",
    ]
    assert graph.outputs == ["dense_5"]
    assert [n.inputs for n in graph.nodes] == [
        ["dense_3"],
        ["dense_2"],
        ["dense_1"],
        ["dropout_1"],
        ["dense_4"],
    ]


def test_dag_wiring():
    spec = make(
        [
            {"type": "dense", "units": 16, "name": "a"},
            {"type": "dense", "units": 16, "name": "b"},
            {"type": "add", "inputs": ["a", "b"], "name": "res"},
            {"type": "dense", "units": 4, "inputs": ["y"], "name": "side"},
            {"type": "concatenate", "inputs": ["res", "side", "x"]},
            {"type": "multiply", "inputs": ["concatenate_1", "concatenate_1"]},
            {"type": "dense", "units": 2},
        ],
        inputs=[{"name": "x", "shape": [16]}, {"name": "y", "shape": [3]}],
        task={"type": "regression", "outputs": 2},
    )
    graph = lower(spec)
    assert graph.node("a").inputs == ["x"]
    assert graph.node("b").inputs == ["a"]
    assert graph.node("res").inputs == ["a", "b"]
    assert graph.node("side").inputs == ["y"]
    assert graph.node("concatenate_1").output.shape == (16 + 4 + 16,)
    assert graph.node("multiply_1").output.shape == (36,)
    assert graph.node("dense_1").inputs == ["multiply_1"]
    assert graph.node("x").attrs == {"source": "x"}
    assert graph.outputs == ["dense_1"] and graph.node("dense_1").is_output
    assert not graph.node("res").is_output
    assert graph.params == sum(n.params for n in graph.nodes)


def test_multiple_outputs_and_activation_resolution():
    spec = make(
        [
            {"type": "dense", "units": 8, "name": "h", "activation": "selu"},
            {"type": "dense", "units": 3, "name": "p"},
            {"type": "dense", "units": 3, "name": "q", "inputs": ["h"], "activation": "tanh"},
            {"type": "activation", "activation": "auto", "inputs": ["h"], "name": "act"},
            {"type": "dense", "units": 3, "inputs": ["h"], "initializer": "orthogonal"},
        ],
        task={"type": "multilabel", "labels": 3},
        outputs=["p", "dense_1"],
    )
    graph = lower(spec)
    assert graph.outputs == ["p", "dense_1"]
    assert graph.node("h").attrs == {"activation": "selu", "initializer": "lecun_normal"}
    assert graph.node("p").attrs == {"activation": "sigmoid", "initializer": "glorot_uniform"}
    assert graph.node("q").attrs == {"activation": "tanh", "initializer": "glorot_uniform"}
    assert graph.node("act").attrs == {"activation": "relu"}
    assert graph.node("dense_1").attrs == {"activation": "sigmoid", "initializer": "orthogonal"}


def test_output_head_looks_through_dropout_and_activation():
    task = {"type": "multiclass", "classes": 3}
    through_dropout = make(
        [{"type": "dense", "units": 3}, {"type": "dropout", "rate": 0.1}], task=task
    )
    graph = lower(through_dropout)
    assert graph.node("dense_1").attrs["activation"] == "softmax"
    assert graph.outputs == ["dropout_1"]
    before_activation = make(
        [
            {"type": "dense", "units": 8},
            {"type": "dense", "units": 3},
            {"type": "activation", "activation": "auto"},
        ],
        task=task,
    )
    graph = lower(before_activation)
    assert graph.node("dense_1").attrs["activation"] == "relu"
    assert graph.node("dense_2").attrs == {"activation": "linear", "initializer": "glorot_uniform"}
    assert graph.node("activation_1").attrs == {"activation": "softmax"}


@pytest.mark.parametrize(
    ("task", "activation"),
    [
        ({"type": "regression"}, "linear"),
        ({"type": "binary"}, "sigmoid"),
        ({"type": "multiclass", "classes": 1 + 1}, "softmax"),
    ],
)
def test_output_activation_follows_task(task, activation):
    units = 2 if task["type"] == "multiclass" else 1
    spec = make([{"type": "dense", "units": units}], task=task)
    assert lower(spec).node("dense_1").attrs["activation"] == activation


def test_variable_length_sequences():
    spec = make(
        [
            {"type": "embedding", "input_dim": 50, "output_dim": 8},
            {"type": "conv1d", "filters": 4, "kernel_size": 3, "padding": "causal"},
            {"type": "gru", "units": 6, "return_sequences": True},
            {"type": "multi_head_attention", "num_heads": 2, "key_dim": 3},
            {"type": "dense", "units": 50},
        ],
        inputs=[{"name": "ids", "shape": [None], "dtype": "int32"}],
        task={"type": "seq2seq", "vocab_size": 50},
    )
    graph = lower(spec)
    assert graph.node("dense_1").output.shape == (None, 50)
    assert graph.node("gru_1").params == 3 * (4 * 6 + 6 * 6 + 2 * 6)
    assert graph.node("multi_head_attention_1").attrs == {
        "self_attention": True,
        "value_dim": 3,
        "output_dim": 6,
    }
    assert "(None, 50)" in render(graph)


# --------------------------------------------------------------------------- dump and imports


def test_render_backbone_and_states():
    spec = make(
        [
            {"type": "backbone", "source": "applications:MobileNetV2", "output_shape": [1280]},
            {"type": "dense", "units": 3},
        ],
        inputs=[{"name": "img", "shape": [96, 96, 3]}],
        task={"type": "multiclass", "classes": 3},
    )
    graph = lower(spec)
    assert graph.node("backbone_1").attrs == {"params_unknown": True}
    text = render(graph)
    lines = text.splitlines()
    assert lines[0] == "Model `t`"
    row = next(line for line in lines if line.startswith("backbone_1"))
    assert row.split()[-1] == "?" and "(1280,)" in row
    assert "Total params:          3,843 + ?" in text
    assert text.endswith("\n")
    bad = make(
        [{"type": "backbone", "source": "applications:MobileNetV2", "output_shape": [8]}],
        inputs=[{"name": "img", "shape": [96, 96, 1]}],
    )
    assert "3-channel" in one_error(bad, check_task=False)[1]


def test_lower_does_not_import_tensorflow():
    code = textwrap.dedent(
        f"""
        import sys
        import specc.ir
        from specc.ir import lower, render
        from specc.spec import load_spec
        for path in {[str(p) for p in SPECS]!r}:
            render(lower(load_spec(path).spec))
        heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras"))
        assert not heavy, heavy
        print("ok")
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
