"""The lint in a build: run with the data before training, its errors and warnings printed at
the start, every finding in `metrics.json` (`lint`) and in the `## Lint` section of report.md."""

from __future__ import annotations

import io
import json

from specc.builder import Progress, build
from tools.lint_examples import spec_text

# iris without a seed (so seed 0, which puts a duplicated flower in both train and test), a
# batch of 256 for ~100 training examples, two epochs
CHANGE = {"seed": None, "training": {"batch_size": 256, "epochs": 2}}


def test_build_records_and_prints_the_lint(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(spec_text(CHANGE), encoding="utf-8")
    stream = io.StringIO()
    result = build(spec, tmp_path / "out", progress=Progress(stream=stream))
    metrics = json.loads((result.output_dir / "metrics.json").read_text())
    rules = {d["rule"]: d for d in metrics["lint"]}
    assert set(rules) == {"SPC202", "SPC208", "SPC303"}  # SPC303 reads the real split
    assert rules["SPC202"]["severity"] == "warning" and rules["SPC202"]["line"] > 1
    assert metrics["lint"] == result.metrics["lint"]
    assert 0 < metrics["timings"]["lint"] < metrics["timings"]["total"]

    printed = stream.getvalue().splitlines()
    lint_lines = [line for line in printed if line.strip().startswith("lint:")]
    assert any("SPC202 warning training.batch_size" in line for line in lint_lines)
    assert any("SPC303 warning data:" in line for line in lint_lines)
    assert lint_lines[-1].strip() == "lint: 1 more note in report.md"  # SPC208, info
    first_epoch = next(i for i, line in enumerate(printed) if "epoch" in line)
    assert printed.index(lint_lines[0]) < first_epoch  # printed before training

    report = (result.output_dir / "report.md").read_text()
    section = report.split("## Lint\n", 1)[1].split("\n## ", 1)[0]
    for rule in rules:
        assert f"- {rule} " in section
    assert "`training.batch_size`: batch size 256 is larger" in section
