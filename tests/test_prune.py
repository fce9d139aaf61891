"""The `prune` pass: the generated pruning code (schedule, masks, the constraint that keeps
zeros, the removal of pruned units), and real builds checked for structure (sparsity reached,
zeros kept, narrower shapes), numerics (parity of the exported model) and validity
(`onnx.checker`, `spec.pruned.yaml` validates).

The unit tests import the code generated for small specs, so they test what a build runs.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from specc.codegen import generate
from specc.codegen.loader import generated_modules
from specc.ir.lower import lower
from specc.spec import load_spec

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

MLP = """
specc: 1
name: tiny_mlp
seed: 3
task: {{type: multiclass, classes: 10}}
data: {{type: builtin, dataset: "sklearn:digits", split: {{validation: 0.15, test: 0.2}}}}
model:
  inputs:
    - {{name: pixels, shape: [64]}}
  layers:
    - {{type: dense, units: 48}}
    - {{type: dense, units: 32}}
    - {{type: dense, units: 10, name: digit}}
training: {{epochs: {epochs}, batch_size: 32, optimizer: {{type: adam, learning_rate: 0.003}}}}
passes:
  - prune: {prune}
"""

CNN = """
specc: 1
name: tiny_cnn
seed: 5
task: {{type: multiclass, classes: 10}}
data: {{type: builtin, dataset: "sklearn:digits", split: {{validation: 0.15, test: 0.2}}}}
model:
  inputs:
    - {{name: pixels, shape: [8, 8, 1]}}
  layers:
    - {{type: conv2d, filters: 12, kernel_size: 3, padding: same}}
    - {{type: batch_norm}}
    - {{type: conv2d, filters: 10, kernel_size: 3, padding: same, activation: tanh}}
    - {{type: max_pool2d, pool_size: 2}}
    - {{type: flatten}}
    - {{type: dense, units: 16, dropout: 0.1}}
    - {{type: dense, units: 10, name: digit}}
training: {{epochs: {epochs}, batch_size: 32, optimizer: {{type: adam, learning_rate: 0.003}}}}
passes:
  - prune: {prune}
"""


def _spec(tmp_path: Path, template: str, prune: str, epochs: int = 4) -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(template.format(prune=prune, epochs=epochs), encoding="utf-8")
    return path


def _code(tmp_path: Path, template: str, prune: str) -> Path:
    loaded = load_spec(_spec(tmp_path, template, prune))
    folder = tmp_path / "code"
    generate(loaded, lower(loaded.spec)).write(folder)
    return folder


@pytest.fixture(scope="module")
def unstructured(tmp_path_factory):
    folder = _code(tmp_path_factory.mktemp("u"), MLP, "{target_sparsity: 0.8, start_epoch: 1}")
    with generated_modules(folder) as modules:
        yield modules


@pytest.fixture(scope="module")
def structured(tmp_path_factory):
    prune = "{target_sparsity: 0.5, structured: true}"
    folder = _code(tmp_path_factory.mktemp("s"), CNN, prune)
    with generated_modules(folder) as modules:
        yield modules


# --------------------------------------------------------------------------- what is pruned


def test_layers_pruned_follow_overrides_and_skip(tmp_path):
    from specc.spec.checks_prune import following_norms, pruned_layers, skipped_layers

    spec = load_spec(_spec(tmp_path, CNN, "{target_sparsity: 0.5, layers: {conv2d_2: 0.7}}")).spec
    settings = spec.passes[0].prune
    assert skipped_layers(spec, settings) == ["digit"]  # unset: the output layer
    assert pruned_layers(spec, settings) == {"conv2d_1": 0.5, "conv2d_2": 0.7, "dense_1": 0.5}
    assert following_norms(spec, settings) == {"conv2d_1": ["batch_norm_1"]}
    everything = settings.model_copy(update={"skip": []})
    assert list(pruned_layers(spec, everything)) == ["conv2d_1", "conv2d_2", "dense_1", "digit"]


def test_lock_writes_the_skipped_layers_and_validates_again(tmp_path):
    import yaml

    from specc.spec import lock_text

    loaded = load_spec(_spec(tmp_path, MLP, "{target_sparsity: 0.8}"))
    text = lock_text(loaded.spec, lower(loaded.spec))
    assert yaml.safe_load(text)["passes"][0]["prune"]["skip"] == ["digit"]
    (tmp_path / "lock.yaml").write_text(text, encoding="utf-8")
    assert load_spec(tmp_path / "lock.yaml").spec.passes[0].prune.skip == ["digit"]


# --------------------------------------------------------------------------- the schedule


def test_polynomial_schedule_at_start_end_and_midway(unstructured):
    sparsity = unstructured["train"].pruning_sparsity
    assert sparsity(0, 0.8, 10, 30) == 0.0 and sparsity(9, 0.8, 10, 30) == 0.0
    assert sparsity(10, 0.8, 10, 30) == 0.0  # s_i at t0
    assert sparsity(20, 0.8, 10, 30) == pytest.approx(0.8 * (1 - 0.5**3))
    assert sparsity(30, 0.8, 10, 30) == pytest.approx(0.8)
    assert sparsity(500, 0.8, 10, 30) == pytest.approx(0.8)
    values = [sparsity(t, 0.8, 10, 30) for t in range(10, 31)]
    assert values == sorted(values)  # never falls back


def test_constant_schedule_is_the_target_from_the_start(tmp_path):
    prune = "{target_sparsity: 0.6, schedule: constant, start_epoch: 1}"
    with generated_modules(_code(tmp_path, MLP, prune)) as modules:
        sparsity = modules["train"].pruning_sparsity
        assert sparsity(4, 0.6, 5, 20) == 0.0
        assert sparsity(5, 0.6, 5, 20) == pytest.approx(0.6)
        assert sparsity(12, 0.6, 5, 20) == pytest.approx(0.6)


def test_callback_window_follows_the_spec(unstructured):
    train = unstructured["train"]
    callback = train.MagnitudePruning(None, steps_per_epoch=10)
    assert callback.start == train.PRUNE_START_EPOCH * 10 == 10
    assert callback.end == round(train.PRUNE_END_FRACTION * train.EPOCHS * 10)
    assert train.PRUNE_SPARSITY == {"dense_1": 0.8, "dense_2": 0.8}  # the output is skipped


# --------------------------------------------------------------------------- the masks


def test_magnitude_mask_zeroes_the_smallest_exact_fraction(unstructured):
    mask_of = unstructured["train"].magnitude_mask
    kernel = np.random.default_rng(0).normal(size=(16, 8)).astype("float32")
    mask = mask_of(kernel, 0.75)
    assert mask.shape == kernel.shape and set(np.unique(mask)) <= {0.0, 1.0}
    assert int((mask == 0).sum()) == round(0.75 * kernel.size)
    assert np.abs(kernel[mask == 0]).max() <= np.abs(kernel[mask == 1]).min()


def test_magnitude_mask_breaks_ties_by_position(unstructured):
    mask = unstructured["train"].magnitude_mask(np.ones((2, 5), dtype="float32"), 0.3)
    assert mask.ravel().tolist() == [0, 0, 0, 1, 1, 1, 1, 1, 1, 1]
    assert unstructured["train"].magnitude_mask(np.ones(4, "float32"), 0.0).tolist() == [1] * 4


def test_unit_mask_prunes_the_units_of_smallest_l1_norm(structured):
    unit_mask = structured["train"].unit_mask
    kernel = np.zeros((3, 3, 2, 6), dtype="float32")
    norms = np.array([5.0, 1.0, 3.0, 1.0, 4.0, 2.0])
    kernel[0, 0, 0, :] = norms  # one weight per filter: its L1 norm
    kernel[1, 1, 1, :] = -norms  # signs do not matter
    mask = unit_mask(kernel, 0.5)
    assert mask.tolist() == [1, 0, 1, 0, 1, 0]  # 1, 1 (ties in index order), 2 pruned
    assert unit_mask(kernel, 0.99).sum() == 1  # one unit always survives


def test_constraint_keeps_pruned_weights_zero_through_compiled_steps(unstructured):
    import keras
    import tensorflow as tf

    train = unstructured["train"]
    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(5, name="d")])
    kernel = model.get_layer("d").kernel
    mask = train.magnitude_mask(np.asarray(kernel), 0.6)
    mask_var = tf.Variable(mask, trainable=False)
    kernel.constraint = train.KeepPruned(mask_var)
    kernel.assign(np.asarray(kernel) * mask)
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse", steps_per_execution=32)
    x = np.random.default_rng(2).normal(size=(640, 6)).astype("float32")
    model.fit(x, x[:, :5] * 3.0, batch_size=8, epochs=1, verbose=0)  # 80 steps, 3 calls
    after = np.asarray(kernel)
    assert np.all(after[mask == 0] == 0.0)
    assert np.all(after[mask == 1] != 0.0)


# --------------------------------------------------------------------------- removing units


def test_removing_units_computes_what_the_masked_model_computes(structured):
    import keras

    train, model_code = structured["train"], structured["model"]
    keras.utils.set_random_seed(4)
    stats = {"pixels": (np.full((1,), 6.0), np.full((1,), 36.0))}
    wide = model_code.build_model(preprocessing=stats)
    rng = np.random.default_rng(7)
    norm = wide.get_layer("batch_norm_1")  # moving statistics that are not the identity
    norm.moving_mean.assign(rng.normal(size=12).astype("float32"))
    norm.moving_variance.assign(rng.uniform(0.5, 2.0, size=12).astype("float32"))
    norm.beta.assign(rng.normal(size=12).astype("float32"))
    masks = {}
    for name, target in train.PRUNE_SPARSITY.items():
        mask = train.unit_mask(np.asarray(wide.get_layer(name).kernel), target)
        masks[name] = mask
        for weight in train.pruned_weights(wide, name):
            weight.assign(np.asarray(weight) * mask)
    narrow = train.remove_pruned_units(wide, masks)
    widths = {n: int(m.sum()) for n, m in masks.items()}
    assert widths == {"conv2d_1": 6, "conv2d_2": 5, "dense_1": 8}
    assert narrow.get_layer("conv2d_1").kernel.shape == (3, 3, 1, 6)
    assert narrow.get_layer("batch_norm_1").gamma.shape == (6,)
    assert narrow.get_layer("conv2d_2").kernel.shape == (3, 3, 6, 5)
    assert narrow.get_layer("dense_1").kernel.shape == (4 * 4 * 5, 8)
    assert narrow.get_layer("digit").kernel.shape == (8, 10)
    x = rng.uniform(0, 16, size=(64, 8, 8, 1)).astype("float32")
    np.testing.assert_allclose(narrow.predict(x, verbose=0), wide.predict(x, verbose=0), atol=1e-5)


# --------------------------------------------------------------------------- real builds


def _onnx_kernels(path: Path) -> dict[str, np.ndarray]:
    """Layer name -> kernel initializer, the way the pass finds them."""
    import onnx
    from onnx import numpy_helper

    from specc.passes.prune import _KERNEL_OPS, _layer_of

    graph = onnx.load(str(path)).graph
    inits = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    names = ["dense_1", "dense_2", "conv2d_1", "conv2d_2", "digit"]
    out = {}
    for node in graph.node:
        if node.op_type in _KERNEL_OPS and node.input[1] in inits:
            out[_layer_of(node.name, names)] = inits[node.input[1]]
    return out


@pytest.mark.slow
def test_unstructured_build_keeps_the_zeros_in_onnx(tmp_path):
    import onnx

    from specc.builder import build
    from specc.passes.base import PassContext, PassError
    from specc.passes.prune import run

    spec = _spec(tmp_path, MLP, "{target_sparsity: 0.8, start_epoch: 1, end_fraction: 0.5}", 6)
    out = build(spec, tmp_path / "build").output_dir
    onnx.checker.check_model(str(out / "model.onnx"), full_check=True)
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["parity"]["passed"]
    section = metrics["passes"]["prune"]
    assert section["passed"] and not section["structured"]
    kernels = _onnx_kernels(out / "model.onnx")
    for name in ("dense_1", "dense_2"):
        zeros = int(np.sum(kernels[name] == 0))
        assert zeros == round(0.8 * kernels[name].size), name  # exactly the target, kept
        assert section["layers"][name]["zeros"] == zeros
    assert np.count_nonzero(kernels["digit"]) == kernels["digit"].size  # skipped: dense
    report = (out / "report.md").read_text()
    assert "## Pruning" in report and "do not make it run faster" in report
    # the pass fails, with its figures, when the model is less sparse than asked
    loaded = load_spec(spec).spec
    stricter = loaded.passes[0].prune.model_copy(update={"target_sparsity": 0.9})
    with pytest.raises(PassError, match="below the target") as caught:
        run(PassContext(out, loaded, stricter, 0))
    assert caught.value.result is not None and not caught.value.result.passed


@pytest.mark.slow
def test_structured_build_exports_a_narrower_model(tmp_path):
    import onnx

    from specc.builder import build
    from specc.ir.lower import lower

    spec = _spec(tmp_path, CNN, "{target_sparsity: 0.5, structured: true, end_fraction: 0.5}", 6)
    out = build(spec, tmp_path / "build").output_dir
    onnx.checker.check_model(str(out / "model.onnx"), full_check=True)
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["parity"]["passed"]  # the narrow model, exported and compared with Keras
    assert metrics["passes"]["prune"]["passed"] and "spec.pruned.yaml" in metrics["artifacts"]
    kernels = _onnx_kernels(out / "model.onnx")
    assert kernels["conv2d_1"].shape[0] == 6 and kernels["conv2d_2"].shape[:2] == (5, 6)
    assert kernels["dense_1"].shape == (4 * 4 * 5, 8) and kernels["digit"].shape == (8, 10)
    narrow = load_spec(out / "spec.pruned.yaml")  # a valid spec of its own
    assert not narrow.spec.passes
    graph = lower(narrow.spec)
    assert graph.node("conv2d_2").output.shape == (8, 8, 5)
    assert graph.node("dense_1").output.shape == (8,)
