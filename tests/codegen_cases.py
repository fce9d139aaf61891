"""Small specs for code-generation tests: one network per layer type of the catalogue (plus DAGs),
and training recipes that exercise every branch of the generated train.py.

`spec_text` wraps model and training YAML snippets in a complete spec that passes
`specc.spec.parse_spec`: the data is an `npz` file (`write_matching_npz` writes one whose arrays
fit the inputs and the task when the test has none), the task a regression of the output width.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

from specc.codegen import GeneratedCode, generate
from specc.ir.lower import lower
from specc.spec import LoadedSpec, parse_spec

__all__ = [
    "LAYER_CASES",
    "TRAINING_CASES",
    "generate_case",
    "import_file",
    "spec_text",
    "write_matching_npz",
]

# name -> (inputs, layers); YAML flow mappings, one per line.
LAYER_CASES: dict[str, tuple[list[str], list[str]]] = {
    "dense": (
        ["{name: x, shape: [6]}"],
        [
            "{type: dense, units: 5, activation: tanh, regularizer: {l1: 0.01, l2: 0.02}, "
            "dropout: 0.5}",
            "{type: dense, units: 3, use_bias: false, initializer: lecun_normal}",
        ],
    ),
    "conv1d": (
        ["{name: x, shape: [12, 3]}"],
        [
            "{type: conv1d, filters: 5, kernel_size: 2, strides: 2, padding: same, "
            "activation: elu}",
            "{type: conv1d, filters: 4, kernel_size: 3, padding: causal, dilation_rate: 2}",
        ],
    ),
    "conv2d": (
        ["{name: x, shape: [9, 8, 2]}"],
        [
            "{type: conv2d, filters: 3, kernel_size: 2, padding: same, dilation_rate: 2, "
            "activation: swish}",
            "{type: conv2d, filters: 4, kernel_size: [3, 2], strides: [2, 1], dropout: 0.2}",
        ],
    ),
    "pool1d": (
        ["{name: x, shape: [11, 3]}"],
        [
            "{type: max_pool1d, pool_size: 3, strides: 1, padding: same}",
            "{type: avg_pool1d}",
        ],
    ),
    "pool2d": (
        ["{name: x, shape: [9, 8, 2]}"],
        [
            "{type: max_pool2d, pool_size: [3, 2], strides: 2}",
            "{type: avg_pool2d, pool_size: 2, padding: same}",
        ],
    ),
    "global_pool": (
        ["{name: x, shape: [6, 5, 3]}", "{name: s, shape: [7, 4]}"],
        [
            "{name: g_avg2d, type: global_pool, inputs: [x]}",
            "{name: g_max2d, type: global_pool, mode: max, inputs: [x]}",
            "{name: g_avg1d, type: global_pool, inputs: [s]}",
            "{name: g_max1d, type: global_pool, mode: max, inputs: [s]}",
            "{type: concatenate, inputs: [g_avg2d, g_max2d, g_avg1d, g_max1d]}",
        ],
    ),
    "flatten_reshape_dropout": (
        ["{name: x, shape: [4, 6]}"],
        [
            "{type: reshape, target_shape: [3, -1]}",
            "{type: dropout, rate: 0.3}",
            "{type: flatten}",
        ],
    ),
    "batch_norm": (
        ["{name: x, shape: [5, 4]}"],
        ["{type: batch_norm, momentum: 0.9, epsilon: 0.01}"],
    ),
    "layer_norm": (
        ["{name: x, shape: [5, 4]}"],
        ["{type: layer_norm}", "{type: layer_norm, epsilon: 0.001}"],
    ),
    "activations": (
        ["{name: x, shape: [7]}"],
        [
            f"{{name: act_{a}, type: activation, activation: {a}, inputs: [x]}}"
            for a in (
                "linear relu relu6 leaky_relu elu selu silu swish tanh sigmoid hard_sigmoid "
                "softmax softplus softsign mish"
            ).split()
        ]
        + [
            "{type: concatenate, inputs: [act_linear, act_relu, act_relu6, act_leaky_relu, "
            "act_elu, act_selu, act_silu, act_swish, act_tanh, act_sigmoid, act_hard_sigmoid, "
            "act_softmax, act_softplus, act_softsign, act_mish]}"
        ],
    ),
    "gelu_exact": (
        ["{name: x, shape: [9]}"],
        [
            "{type: dense, units: 8, activation: gelu}",
            "{type: activation, activation: gelu}",
            "{type: flatten}",
        ],
    ),
    "gelu_tanh": (
        ["{name: x, shape: [9]}"],
        [
            "{type: dense, units: 8, activation: gelu_tanh}",
            "{type: activation, activation: gelu_tanh}",
            "{type: flatten}",
        ],
    ),
    "embedding": (
        ["{name: tokens, shape: [6], dtype: int32}"],
        ["{type: embedding, input_dim: 11, output_dim: 4}", "{type: flatten}"],
    ),
    "embedding_masked_gru": (
        ["{name: tokens, shape: [6], dtype: int32}"],
        [
            "{type: embedding, input_dim: 11, output_dim: 4, mask_zero: true}",
            "{type: gru, units: 5}",
        ],
    ),
    "positional_embedding_float": (
        ["{name: x, shape: [6, 8]}"],
        ["{type: positional_embedding, max_length: 10, output_dim: 8}"],
    ),
    "positional_embedding_tokens": (
        ["{name: tokens, shape: [5], dtype: int32}"],
        ["{type: positional_embedding, input_dim: 20, max_length: 5, output_dim: 6}"],
    ),
    "lstm": (
        ["{name: x, shape: [6, 3]}"],
        ["{type: lstm, units: 5, return_sequences: true}", "{type: lstm, units: 4}"],
    ),
    "gru": (
        ["{name: x, shape: [6, 3]}"],
        ["{type: gru, units: 5, return_sequences: true}", "{type: gru, units: 4}"],
    ),
    "bidirectional": (
        ["{name: x, shape: [6, 3]}"],
        [
            "{type: bidirectional, layer: {type: lstm, units: 4, return_sequences: true}}",
            "{type: bidirectional, layer: {type: gru, units: 3}, merge_mode: sum}",
        ],
    ),
    "lstm_encoder_decoder": (
        [
            "{name: encoder_input, shape: [7], dtype: int32}",
            "{name: decoder_input, shape: [4], dtype: int32}",
        ],
        [
            "{name: question, type: embedding, input_dim: 13, output_dim: 8, "
            "inputs: [encoder_input]}",
            "{name: encoder, type: lstm, units: 6, return_state: true}",
            "{name: answer, type: embedding, input_dim: 13, output_dim: 8, "
            "inputs: [decoder_input]}",
            "{name: decoder, type: lstm, units: 6, return_sequences: true, initial_state: encoder}",
            "{name: next_token, type: dense, units: 13}",
        ],
    ),
    "gru_encoder_decoder": (
        ["{name: source, shape: [5, 3]}", "{name: target, shape: [4, 2]}"],
        [
            "{name: encoder, type: gru, units: 6, return_state: true, inputs: [source]}",
            "{name: decoder, type: gru, units: 6, return_sequences: true, initial_state: encoder, "
            "inputs: [target]}",
        ],
    ),
    "attention": (
        ["{name: query, shape: [4, 6]}", "{name: value, shape: [5, 6]}"],
        [
            "{name: dot, type: attention, inputs: [query, value]}",
            "{name: additive, type: attention, score: additive, inputs: [query, value]}",
            "{name: causal, type: attention, causal: true, dropout: 0.1, inputs: [query]}",
            "{type: concatenate, inputs: [dot, additive, causal]}",
        ],
    ),
    "multi_head_self_attention": (
        ["{name: x, shape: [5, 8]}"],
        ["{type: multi_head_attention, num_heads: 2, key_dim: 3, causal: true, dropout: 0.1}"],
    ),
    "multi_head_cross_attention": (
        [
            "{name: query, shape: [4, 8]}",
            "{name: value, shape: [6, 5]}",
            "{name: key, shape: [6, 3]}",
        ],
        [
            "{name: cross, type: multi_head_attention, num_heads: 2, key_dim: 4, "
            "inputs: [query, value]}",
            "{name: with_key, type: multi_head_attention, num_heads: 3, key_dim: 2, "
            "inputs: [query, value, key]}",
            "{type: add, inputs: [cross, with_key]}",
        ],
    ),
    "transformer_encoder": (
        ["{name: x, shape: [6, 8]}"],
        [
            "{type: transformer_encoder, num_heads: 2, ff_dim: 16}",
            "{type: transformer_encoder, num_heads: 4, ff_dim: 12, norm_first: false, "
            "activation: gelu_tanh, epsilon: 0.001}",
            "{type: flatten}",
        ],
    ),
    "transformer_decoder": (
        ["{name: target, shape: [5, 8]}", "{name: memory, shape: [7, 6]}"],
        [
            "{name: block, type: transformer_decoder, num_heads: 2, ff_dim: 16, "
            "inputs: [target, memory]}",
            "{type: transformer_decoder, num_heads: 2, ff_dim: 8, norm_first: false, "
            "activation: relu, inputs: [block, memory]}",
        ],
    ),
    "residual_add_multiply": (
        ["{name: x, shape: [6]}"],
        [
            "{name: hidden, type: dense, units: 6}",
            "{name: gate, type: dense, units: 6, activation: sigmoid, inputs: [x]}",
            "{name: gated, type: multiply, inputs: [hidden, gate]}",
            "{type: add, inputs: [x, gated]}",
        ],
    ),
    "concatenate_branches": (
        ["{name: a, shape: [3, 4]}", "{name: b, shape: [2, 4]}"],
        [
            "{name: joined, type: concatenate, axis: 1, inputs: [a, b]}",
            "{name: wide, type: dense, units: 3, inputs: [a]}",
            "{name: also_wide, type: dense, units: 2, inputs: [a]}",
            "{type: concatenate, inputs: [wide, also_wide]}",
            "{name: flat_wide, type: flatten}",
            "{name: flat_joined, type: flatten, inputs: [joined]}",
            "{type: concatenate, inputs: [flat_wide, flat_joined]}",
        ],
    ),
    "zero_padding1d": (
        ["{name: x, shape: [6, 3]}"],
        ["{type: zero_padding1d, padding: [1, 2]}", "{type: zero_padding1d}"],
    ),
    "zero_padding2d": (
        ["{name: x, shape: [5, 4, 2]}"],
        [
            "{type: zero_padding2d, padding: [[1, 0], [2, 3]]}",
            "{type: zero_padding2d, padding: [1, 2]}",
            "{type: zero_padding2d}",
        ],
    ),
    "upsampling1d": (
        ["{name: x, shape: [5, 3]}"],
        ["{type: upsampling1d, size: 3}", "{type: upsampling1d}"],
    ),
    "upsampling2d": (
        ["{name: x, shape: [4, 5, 2]}"],
        ["{type: upsampling2d, size: [2, 3]}", "{type: upsampling2d, interpolation: bilinear}"],
    ),
    "repeat_vector": (
        ["{name: x, shape: [4]}"],
        ["{type: repeat_vector, n: 3}"],
    ),
    "one_hot_simple_rnn": (
        ["{name: tokens, shape: [6], dtype: int32}"],
        [
            "{type: one_hot, num_tokens: 11}",
            "{type: simple_rnn, units: 5, return_sequences: true, activation: relu}",
            "{type: simple_rnn, units: 4, dropout: 0.1}",
        ],
    ),
    "simple_rnn_encoder_decoder": (
        ["{name: source, shape: [5, 3]}", "{name: target, shape: [4, 2]}"],
        [
            "{name: encoder, type: simple_rnn, units: 6, return_state: true, inputs: [source]}",
            "{name: decoder, type: simple_rnn, units: 6, return_sequences: true, "
            "initial_state: encoder, inputs: [target]}",
            "{type: bidirectional, layer: {type: simple_rnn, units: 3}}",
        ],
    ),
    "conv2d_transpose": (
        ["{name: x, shape: [5, 4, 2]}"],
        [
            "{type: conv2d_transpose, filters: 3, kernel_size: 3, strides: 2, padding: same, "
            "activation: tanh}",
            "{type: conv2d_transpose, filters: 2, kernel_size: [3, 2], strides: [1, 2], "
            "use_bias: false, dropout: 0.2}",
        ],
    ),
    "separable_conv2d": (
        ["{name: x, shape: [9, 8, 3]}"],
        [
            "{type: separable_conv2d, filters: 4, kernel_size: 3, strides: 2, padding: same, "
            "depth_multiplier: 2}",
            "{type: separable_conv2d, filters: 2, kernel_size: [2, 1], dilation_rate: 2, "
            "initializer: glorot_normal, regularizer: {l2: 0.01}, activation: linear}",
        ],
    ),
    "depthwise_conv2d": (
        ["{name: x, shape: [7, 6, 2]}"],
        [
            "{type: depthwise_conv2d, kernel_size: 3, depth_multiplier: 3, activation: elu}",
            "{type: depthwise_conv2d, kernel_size: 2, strides: 2, padding: same, use_bias: false}",
        ],
    ),
    "backbone_keras_file": (
        ["{name: image, shape: [8, 8, 3]}"],
        [
            "{type: backbone, source: backbone.keras, freeze: hybrid, frozen_layers: 1, "
            "output_shape: [4]}",
            "{type: dense, units: 2}",
        ],
    ),
    "backbone_keras_cut": (
        ["{name: image, shape: [8, 8, 3]}"],
        [
            "{type: backbone, source: backbone.keras, output_layer: features, freeze: fine_tune, "
            "output_shape: [6, 6, 4]}",
            "{type: global_pool, mode: max}",
            "{type: dense, units: 2}",
        ],
    ),
    "backbone_application": (
        ["{name: image, shape: [32, 32, 3]}"],
        [
            "{type: backbone, source: 'applications:MobileNetV2', weights: null, "
            "output_shape: [1280]}",
            "{type: dense, units: 2}",
        ],
    ),
}

# name -> (task YAML, training YAML, data YAML extras, model inputs, model layers)
TRAINING_CASES: dict[str, dict[str, object]] = {
    "sgd_step_classweights": {
        "task": "{type: multiclass, classes: 3}",
        "training": (
            "{optimizer: {type: sgd, momentum: 0.5, nesterov: true}, "
            "schedule: {type: step, every_epochs: 1, factor: 0.5}, "
            "class_weight: {'0': 1.0, '1': 2.0, '2': 0.5}, "
            "loss: categorical_crossentropy, batch_size: full, epochs: 2, shuffle: false, "
            "gradient_clipping: {value: 0.5}}"
        ),
        "inputs": ["{name: x, shape: [4]}"],
        "layers": ["{type: dense, units: 8}", "{type: dense, units: 3}"],
        "arrays": {"x": (40, 4), "y": "classes:3"},
    },
    "rmsprop_exponential_binary_balanced": {
        "task": "{type: binary}",
        "training": (
            "{optimizer: {type: rmsprop, rho: 0.8, momentum: 0.1}, "
            "schedule: {type: exponential, decay_rate: 0.5}, class_weight: balanced, "
            "metrics: [accuracy, auc, precision, recall], batch_size: 8, epochs: 2}"
        ),
        "inputs": ["{name: x, shape: [4]}"],
        "layers": ["{type: dense, units: 8}", "{type: dense, units: 1}"],
        "arrays": {"x": (40, 4), "y": "binary"},
    },
    "adamw_one_cycle_regression_two_outputs": {
        "task": "{type: regression, outputs: 2}",
        "training": (
            "{optimizer: {type: adamw, weight_decay: 0.05, beta_2: 0.99}, "
            "schedule: {type: one_cycle, max_learning_rate: 0.01}, loss: huber, "
            "metrics: [mae, mse, rmse], epochs: 3, early_stopping: {patience: 1, min_delta: 0.1}}"
        ),
        "inputs": ["{name: x, shape: [4]}"],
        "layers": ["{type: dense, units: 8}", "{type: dense, units: 2}"],
        "arrays": {"x": (40, 4), "y": (40, 2)},
    },
    "adam_cyclical_augmented_images_no_validation": {
        "task": "{type: multiclass, classes: 2}",
        "split": "{validation: 0.0, test: 0.25}",
        "preprocessing": "minmax",
        "training": (
            "{schedule: {type: cyclical, max_learning_rate: 0.01, half_cycle_epochs: 1}, "
            "augmentation: {flip: both, shift: 0.2, noise: 0.1}, epochs: 2, batch_size: 8, "
            "early_stopping: {monitor: loss, patience: 2}}"
        ),
        "inputs": ["{name: x, shape: [6, 6, 2]}"],
        "layers": [
            "{type: conv2d, filters: 3, kernel_size: 3}",
            "{type: flatten}",
            "{type: dense, units: 2}",
        ],
        "arrays": {"x": (40, 6, 6, 2), "y": "classes:2"},
    },
}


def spec_text(
    name: str,
    inputs: list[str],
    layers: list[str],
    *,
    task: str | None = None,
    training: str = "{epochs: 1}",
    split: str = "{validation: 0.2, test: 0.2}",
    preprocessing: str = "none",
) -> str:
    """A complete spec reading `data.npz` beside the spec file. The task defaults to a
    regression with as many outputs as a final dense layer has units."""
    if task is None:
        found = re.search(r"type: dense, units: (\d+)", layers[-1])
        task = f"{{type: regression, outputs: {found.group(1) if found else 1}}}"
    lines = [
        "specc: 1",
        f"name: {name}",
        f"task: {task}",
        f"data: {{type: npz, path: data.npz, split: {split}, preprocessing: {preprocessing}}}",
        "model:",
        "  inputs:",
        *(f"    - {inp}" for inp in inputs),
        "  layers:",
        *(f"    - {layer}" for layer in layers),
        f"training: {training}",
    ]
    return "\n".join(lines) + "\n"


def write_matching_npz(text: str, path: Path, rows: int = 4) -> None:
    """Write at `path` an archive of zeros that `validate` accepts for spec `text`: one array per
    model input (its shape, a variable axis 3 long; integer ids for integer inputs) and targets
    of the task's shape."""
    import numpy as np
    import yaml

    from specc.spec.npzfile import input_arrays
    from specc.spec.schema import Spec
    from specc.spec.tasks import task_kind

    spec = Spec.model_validate(yaml.safe_load(text))
    arrays = {}
    for inp in spec.model.inputs:
        shape = (rows, *(d or 3 for d in inp.shape))
        arrays[input_arrays(spec)[inp.name]] = np.zeros(shape, np.dtype(inp.dtype))
    width = task_kind(spec.task).target_columns(spec.task)
    y_shape = (rows, 3) if width is None else (rows,) if width == 1 else (rows, width)
    arrays[spec.data.target] = np.zeros(y_shape, np.int32 if width is None else np.float32)
    np.savez(path, **arrays)


def generate_case(text: str, folder: Path) -> tuple[LoadedSpec, object, GeneratedCode]:
    """Parse `text` as `folder/spec.yaml` (writing a data.npz there that fits it when missing),
    lower it without the task check and generate its code."""
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / "data.npz"
    if not data.exists():
        write_matching_npz(text, data)
    loaded = parse_spec(text, folder / "spec.yaml")
    graph = lower(loaded.spec, check_task=False)
    return loaded, graph, generate(loaded, graph)


def import_file(path: Path, module_name: str) -> ModuleType:
    """Import the Python file at `path` as `module_name`."""
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module
