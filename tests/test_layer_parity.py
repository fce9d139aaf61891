"""Keras vs ONNX Runtime parity of the generated code, one small network per layer type.

Each case is spec YAML -> `parse_spec` -> `lower` -> `generate`; the generated model.py is
imported from a temporary folder and built, every weight (biases, norm statistics included) is
set to random values, the model is exported with `specc.export.export_onnx` and both run on
the same random inputs. Real TensorFlow, tf2onnx and ONNX Runtime throughout.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from codegen_cases import LAYER_CASES, generate_case, import_file, spec_text  # noqa: E402
from onnx_reference import ReferenceUnsupported, max_reference_diff, op_types  # noqa: E402

keras = pytest.importorskip("keras")
ort = pytest.importorskip("onnxruntime")

from specc.export import export_onnx  # noqa: E402

ATOL = 1e-4
BATCH = 5
VOCAB = 11  # every token input in the cases embeds at least 11 ids


def random_weights(model, rng: np.random.Generator) -> None:
    """Every variable random: variances positive, everything else around zero."""
    for variable in model.weights:
        shape = tuple(variable.shape)
        if "variance" in variable.path:
            value = rng.uniform(0.5, 2.0, shape)
        else:
            value = rng.normal(0.0, 0.3, shape)
        variable.assign(value.astype(variable.dtype))


def random_inputs(graph, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Floats ~ N(0, 1); token ids in 1..VOCAB-1 with a zero-padded tail (for `mask_zero`)."""
    arrays = {}
    for node in graph.inputs:
        shape = (BATCH, *node.output.shape)
        if node.output.dtype.startswith("int"):
            ids = rng.integers(1, VOCAB, shape)
            for row, keep in enumerate(rng.integers(1, shape[1] + 1, BATCH)):
                ids[row, keep:] = 0
            arrays[node.name] = ids.astype(node.output.dtype)
        else:
            arrays[node.name] = rng.normal(0.0, 1.0, shape).astype(np.float32)
    return arrays


def save_small_backbone(path: Path) -> None:
    image = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3, activation="relu")(image)
    x = keras.layers.BatchNormalization(name="features")(x)  # where `output_layer` may cut
    x = keras.layers.GlobalAveragePooling2D()(x)
    keras.Model(image, x, name="small_backbone").save(path)


def build_case(case: str, folder: Path, **build_args):
    inputs, layers = LAYER_CASES[case]
    if case in ("backbone_keras_file", "backbone_keras_cut"):
        save_small_backbone(folder / "backbone.keras")
    options = {"preprocessing": "standardize"} if build_args.get("preprocessing") else {}
    loaded, graph, code = generate_case(
        spec_text(f"parity_{case}", inputs, layers, **options), folder
    )
    code.write(folder / "code")
    module = import_file(folder / "code" / "spec_model.py", f"parity_model_{case}")
    return graph, module.build_model(**build_args)


def assert_parity(model, graph, folder: Path, rng: np.random.Generator) -> tuple[float, tuple]:
    path = folder / "model.onnx"
    export_onnx(
        model,
        path,
        input_names=[n.name for n in graph.inputs],
        output_names=list(graph.outputs),
        opset=17,
    )
    x = random_inputs(graph, rng)
    expected = model([x[n.name] for n in graph.inputs], training=False)
    expected = expected if isinstance(expected, (list, tuple)) else [expected]
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = session.run(list(graph.outputs), x)
    assert len(got) == len(expected) == len(graph.outputs)
    worst = 0.0
    for name, want, have in zip(graph.outputs, expected, got, strict=True):
        want = keras.ops.convert_to_numpy(want)
        assert have.shape == want.shape, f"{name}: ONNX {have.shape} vs Keras {want.shape}"
        assert np.isfinite(want).all() and np.ptp(want) > 1e-3, f"{name}: degenerate output"
        worst = max(worst, float(np.max(np.abs(have - want))))
    assert worst <= ATOL, f"max |onnx - keras| = {worst:.2e} > {ATOL}"
    return worst, (path, x, got)


SLOW_CASES = {"backbone_application"}  # MobileNetV2: ~8 s on 2 cores
KEEPS_LOOP = {"embedding_masked_gru"}  # a mask: no native ONNX op says what Keras does


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(c, marks=pytest.mark.slow) if c in SLOW_CASES else c
        for c in sorted(LAYER_CASES)
    ],
)
def test_layer_parity(case: str, tmp_path: Path) -> None:
    graph, model = build_case(case, tmp_path)
    if not any(n.attrs.get("params_unknown") for n in graph.nodes):
        assert model.count_params() == graph.params
    outputs = model.outputs if isinstance(model.outputs, list) else [model.outputs]
    expected = [graph.node(name).output.shape for name in graph.outputs]
    assert [tuple(o.shape[1:]) for o in outputs] == expected
    rng = np.random.default_rng(sorted(LAYER_CASES).index(case))
    random_weights(model, rng)
    worst, (path, feeds, got) = assert_parity(model, graph, tmp_path, rng)
    print(f"{case}: max |onnx - keras| = {worst:.1e}")
    if case not in KEEPS_LOOP:  # recurrent layers are native GRU/LSTM/RNN ops
        assert "Loop" not in op_types(path), sorted(op_types(path))
    try:  # a second, independent check: onnx's own reference evaluator against ONNX Runtime
        ref = max_reference_diff(path, feeds, got)
    except ReferenceUnsupported as exc:
        pytest.skip(f"{case}: parity passed ({worst:.1e}); {exc}")
    print(f"{case}: max |reference - onnxruntime| = {ref:.1e}")
    assert ref <= ATOL, f"max |reference - onnxruntime| = {ref:.2e} > {ATOL}"


def test_parity_with_preprocessing_and_target_scaling(tmp_path: Path) -> None:
    """Normalization after the input and Rescaling after the output are part of the export."""
    rng = np.random.default_rng(0)
    stats = {"x": (rng.normal(3.0, 1.0, 6), rng.uniform(0.5, 4.0, 6))}
    scaling = (np.array([10.0, -2.0, 0.5]), np.array([3.0, 0.1, 7.0]))
    graph, model = build_case("dense", tmp_path, preprocessing=stats, target_scaling=scaling)
    names = [layer.name for layer in model.layers]
    assert "x_normalization" in names and "dense_2_rescaling" in names
    random_weights(model, rng)
    assert_parity(model, graph, tmp_path, rng)


@pytest.mark.parametrize(
    "case",
    [
        "positional_embedding_tokens",
        "gelu_tanh",
        "transformer_encoder",
        "conv2d",
        "one_hot_simple_rnn",
        "separable_conv2d",
    ],
)
def test_saved_model_reloads_with_the_same_outputs(case: str, tmp_path: Path) -> None:
    """model.keras, custom objects included, loads once model.py is imported."""
    graph, model = build_case(case, tmp_path)
    rng = np.random.default_rng(1)
    random_weights(model, rng)
    model.save(tmp_path / "model.keras")
    reloaded = keras.saving.load_model(tmp_path / "model.keras")
    x = [random_inputs(graph, rng)[n.name] for n in graph.inputs]
    want = keras.ops.convert_to_numpy(model(x, training=False))
    have = keras.ops.convert_to_numpy(reloaded(x, training=False))
    np.testing.assert_allclose(have, want, rtol=0, atol=1e-6)
