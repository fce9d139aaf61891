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
