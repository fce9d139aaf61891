"""What a build's report.md says: no blank lines for an empty description, and the
preprocessing described as it is (none is not "fitted on the training split")."""

from __future__ import annotations

import json

SPEC = """\
specc: 1
name: iris_report
description: {description}
task: {{type: multiclass, classes: 3}}
data: {{type: builtin, dataset: "sklearn:iris", preprocessing: {preprocessing}}}
model:
  inputs:
    - {{name: features, shape: [4]}}
  layers:
    - {{type: dense, units: 8}}
    - {{type: dense, units: 3}}
training: {{epochs: 2}}
"""


def _report(tmp_path, description: str, preprocessing: str) -> tuple[str, dict]:
    from specc.builder import build

    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC.format(description=description, preprocessing=preprocessing))
    result = build(spec, tmp_path / "out")
    metrics = json.loads((result.output_dir / "metrics.json").read_text())
    return (result.output_dir / "report.md").read_text(), metrics


def test_report_without_description_or_scaling(tmp_path):
    text, metrics = _report(tmp_path, '""', "none")
    assert text.startswith("# iris_report\n\nSpec hash `")
    assert "preprocessing none: inputs reach the model unscaled." in text
    assert "fitted on the training split" not in text
    assert " test (held out)." in text  # a fraction of the examples, not a given test split
    assert metrics["timings"]["besides_training"] > 0
    assert "passes" not in metrics["timings"]  # no passes stage without passes


def test_report_with_description_and_scaling(tmp_path):
    text, _ = _report(tmp_path, "Three species of iris.", "standardize")
    assert text.startswith("# iris_report\n\nThree species of iris.\n\nSpec hash `")
    assert "preprocessing standardize, fitted on the training split and built into the model" in (
        text
    )


def test_report_counts_the_trained_weights(tmp_path):
    """The weights line: trained, frozen and statistics of the trained model, as Keras and the
    exported ONNX model count them."""
    import keras
    import numpy as np

    from specc.passes.measure import weight_counts

    text, metrics = _report(tmp_path, '""', "standardize")
    model = keras.saving.load_model(tmp_path / "out" / "model.keras")
    trained = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    norm = model.get_layer("features_normalization")
    statistics = int(np.size(norm.mean) + np.size(norm.variance))
    assert metrics["weights"] == {
        "trainable": trained,
        "frozen": 0,
        "statistics": statistics,
        "total": trained + statistics,
    }
    assert weight_counts(tmp_path / "out" / "model.onnx")[0] == trained + statistics
    assert f"{trained:,} trained, 0 frozen, {statistics:,} statistics" in text
