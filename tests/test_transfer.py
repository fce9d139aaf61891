"""Transfer learning end to end on the example pair (`specs/transfer/`): the source network is
built, its `model.keras` becomes the backbone of the target, and each `freeze` mode is checked
on the trained files: frozen weights are bit for bit the source's, trained ones moved, and the
exported ONNX model holds the whole network and passes parity. Also the messages about
`keras.applications` weights: offline, and a local weights file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml

from specc.builder import BuildError, build
from specc.builder.progress import Progress

ROOT = Path(__file__).resolve().parents[1]
PAIR = ROOT / "specs" / "transfer"


def _build(spec: Path, out: Path) -> Path:
    return build(spec, out, progress=Progress(quiet=True)).output_dir


def _variant(spec: Path, name: str, epochs: int, **backbone) -> Path:
    """A copy of the target spec beside it with another name, epochs and backbone settings."""
    data = yaml.safe_load(spec.read_text())
    data["name"] = name
    data["training"]["epochs"] = epochs
    data["model"]["layers"][0].update(backbone)
    path = spec.parent / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _backbone_pairs(source, target) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(layer name, weight in the trained target's backbone, same weight in the source)."""
    pairs = []
    for layer in target.get_layer("backbone").layers:
        for mine, theirs in zip(
            layer.get_weights(), source.get_layer(layer.name).get_weights(), strict=True
        ):
            pairs.append((layer.name, mine, theirs))
    return pairs


def _statistics(model) -> list[tuple[str, np.ndarray]]:
    """The standardisation inside a backbone: its (layer name, mean or variance) arrays."""
    import keras

    return [
        (layer.name, np.asarray(array))
        for layer in model.get_layer("backbone").layers
        if isinstance(layer, keras.layers.Normalization)
        for array in (layer.mean, layer.variance)
    ]


def _statistics_of(source) -> list[tuple[str, np.ndarray]]:
    """The source model's standardisation arrays, as `_statistics` gives a backbone's."""
    import keras

    return [
        (layer.name, np.asarray(array))
        for layer in source.layers
        if isinstance(layer, keras.layers.Normalization)
        for array in (layer.mean, layer.variance)
    ]


def _onnx_holds_the_network(folder: Path, model) -> None:
    from specc.passes.measure import weight_counts

    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["parity"]["passed"]
    counts = metrics["weights"]
    assert counts["trainable"] == sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    stats = sum(array.size for _, array in _statistics(model))
    assert stats > 0 and counts["statistics"] == stats  # the source's standardisation came along
    # the ONNX initializers: every trained and frozen weight, and the standardisation's mean and
    # variance
    assert weight_counts(folder / "model.onnx")[0] == counts["trainable"] + counts["frozen"] + stats


def test_target_before_its_source_says_which_spec_to_build(tmp_path):
    from specc.spec import SpecErrors, load_spec

    specs = tmp_path / "specs" / "transfer"
    shutil.copytree(PAIR, specs)
    load_spec(specs / "digits04_source.yaml")  # valid on its own
    with pytest.raises(SpecErrors) as caught:
        load_spec(specs / "digits59_transfer.yaml")
    (error,) = caught.value.errors
    assert error.path == ("model", "layers", 0, "source")
    assert f"build {specs / 'digits04_source.yaml'} first" in error.hint
    assert "build/digits04_source/model.keras" in error.hint


def test_lint_counts_the_limited_training_examples(tmp_path):
    """SPC401 judges the data size by the examples training sees: 20 per class, not the
    dataset's size."""
    from specc.lint import run
    from specc.pipeline import compile_spec

    shutil.copy(ROOT / "tests" / "invalid" / "data" / "small_backbone.keras", tmp_path)
    spec = tmp_path / "transfer.yaml"
    spec.write_text(
        "specc: 1\nname: transfer\ntask: {type: multiclass, classes: 5}\n"
        "data: {type: builtin, dataset: 'sklearn:digits', classes: [5, 6, 7, 8, 9], "
        "limit_per_class: 20}\n"
        "model:\n  inputs: [{name: pixels, shape: [64]}]\n  layers:\n"
        "    - {type: backbone, source: small_backbone.keras, output_layer: features,\n"
        "       output_shape: [8], freeze: fine_tune, similarity: similar}\n"
        "    - {type: dense, units: 5}\n"
    )
    compiled = compile_spec(spec)
    (advice,) = [d for d in run(compiled.loaded, compiled.graph) if d.rule == "SPC401"]
    assert "with 100 training examples (small)" in advice.message
    assert "use `freeze: feature_extractor`" in advice.hint


@pytest.mark.slow
def test_transfer_pair_in_every_freeze_mode(tmp_path):
    import keras

    # the repository's layout, so the target's backbone path resolves as it does for a user
    specs = tmp_path / "specs" / "transfer"
    shutil.copytree(PAIR, specs)
    source_dir = _build(specs / "digits04_source.yaml", tmp_path / "build" / "digits04_source")
    source = keras.saving.load_model(source_dir / "model.keras")
    source_weights = sum(int(np.prod(w.shape)) for w in source.weights)

    # feature_extractor, the spec as shipped: the backbone is bit for bit the source's
    folder = _build(specs / "digits59_transfer.yaml", tmp_path / "build" / "digits59_transfer")
    trained = keras.saving.load_model(folder / "model.keras")
    pairs = _backbone_pairs(source, trained)
    assert len(pairs) == 4  # the two convolutions' kernels and biases
    for name, mine, theirs in pairs:
        np.testing.assert_array_equal(mine, theirs, err_msg=f"frozen layer {name} changed")
    for (name, mine), (_, theirs) in zip(_statistics(trained), _statistics_of(source), strict=True):
        np.testing.assert_array_equal(mine, theirs, err_msg=f"{name} statistics changed")
    metrics = json.loads((folder / "metrics.json").read_text())
    frozen = sum(mine.size for _, mine, _ in pairs)
    assert metrics["weights"]["frozen"] == frozen < source_weights  # the old head is left out
    assert metrics["weights"]["trainable"] == 32 * 5 + 5  # the new head only
    assert metrics["data"]["train"] == 100  # 20 per class
    assert metrics["metrics"]["test"]["accuracy"] > 0.5  # 5 classes: chance is 0.2
    assert f"{frozen:,} frozen" in (folder / "report.md").read_text()
    _onnx_holds_the_network(folder, trained)

    # fine_tune: every backbone weight may train; the kernels moved
    spec = _variant(specs / "digits59_transfer.yaml", "t59_fine_tune", 3, freeze="fine_tune")
    folder = _build(spec, tmp_path / "build" / "t59_fine_tune")
    tuned = keras.saving.load_model(folder / "model.keras")
    moved = {
        n for n, mine, theirs in _backbone_pairs(source, tuned) if not np.array_equal(mine, theirs)
    }
    assert moved == {"conv2d_1", "conv2d_2"}
    for (_, mine), (_, theirs) in zip(_statistics(tuned), _statistics_of(source), strict=True):
        np.testing.assert_array_equal(mine, theirs)  # statistics are no trained weights
    assert json.loads((folder / "metrics.json").read_text())["weights"]["frozen"] == 0
    _onnx_holds_the_network(folder, tuned)

    # hybrid: the input, the normalisation and the first convolution stay, the rest trains
    spec = _variant(
        specs / "digits59_transfer.yaml", "t59_hybrid", 3, freeze="hybrid", frozen_layers=3
    )
    folder = _build(spec, tmp_path / "build" / "t59_hybrid")
    hybrid = keras.saving.load_model(folder / "model.keras")
    moved = {
        n for n, mine, theirs in _backbone_pairs(source, hybrid) if not np.array_equal(mine, theirs)
    }
    assert "conv2d_1" not in moved and "conv2d_2" in moved
    conv = source.get_layer("conv2d_1")
    assert json.loads((folder / "metrics.json").read_text())["weights"]["frozen"] == sum(
        int(np.prod(w.shape)) for w in conv.weights
    )


# --------------------------------------------------------------------------- keras.applications

APPLICATION_SPEC = """\
specc: 1
name: tiny_mobilenet
seed: 1
task: {{type: multiclass, classes: 3}}
data: {{type: npz, path: images.npz, preprocessing: none}}
model:
  inputs: [{{name: x, shape: [32, 32, 3]}}]
  layers:
    - {{type: backbone, name: backbone, source: "applications:MobileNetV3Small", weights: {weights},
       output_shape: [576]}}
    - {{type: dense, units: 3}}
training: {{epochs: 1, batch_size: 16}}
"""


def _application_spec(folder: Path, weights: str) -> Path:
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, size=(48, 32, 32, 3)).astype(np.float32)
    np.savez(folder / "images.npz", x=x, y=np.arange(48, dtype=np.int32) % 3)
    path = folder / "tiny_mobilenet.yaml"
    path.write_text(APPLICATION_SPEC.format(weights=weights))
    return path


def test_imagenet_weights_offline_say_what_to_do(tmp_path, monkeypatch):
    """Without internet (forced: an empty Keras cache and a proxy that refuses every
    connection), the build stops with the reason and the local-file alternative."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    for proxy in ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY"):
        monkeypatch.setenv(proxy, "http://127.0.0.1:9")
    spec = _application_spec(tmp_path, "imagenet")
    with pytest.raises(BuildError) as caught:
        _build(spec, tmp_path / "out")
    error = caught.value
    assert error.stage == "train"
    assert "could not download the imagenet weights of keras.applications MobileNetV3Small" in (
        error.message
    )
    assert "offline machine" in error.hint and "`weights:`" in error.hint
    assert not (tmp_path / "out").exists()  # nothing half-built is left


@pytest.mark.slow
def test_local_weights_file_is_loaded(tmp_path):
    """`weights: FILE` (relative to the spec): the trained backbone holds the file's weights."""
    import keras

    saved = keras.applications.MobileNetV3Small(
        include_top=False, weights=None, input_shape=(32, 32, 3), pooling="avg"
    )
    (tmp_path / "weights").mkdir()
    saved.save_weights(tmp_path / "weights" / "mnv3.weights.h5")
    spec = _application_spec(tmp_path, "weights/mnv3.weights.h5")
    folder = _build(spec, tmp_path / "out")
    trained = keras.saving.load_model(folder / "model.keras").get_layer("backbone")
    for mine, theirs in zip(trained.weights, saved.weights, strict=True):
        np.testing.assert_array_equal(np.asarray(mine), np.asarray(theirs))  # frozen: as loaded
    assert json.loads((folder / "metrics.json").read_text())["parity"]["passed"]
