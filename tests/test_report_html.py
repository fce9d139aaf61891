"""`report.html`: one self-contained page (inline style and images) rendered from report.md,
opened in a real headless browser (Debian's `chromium`; `.ci/run` installs it), with text from
the spec escaped, never markup."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from specc.builder import build
from specc.builder.report_html import render_html

SPEC = """\
specc: 1
name: iris_html
description: "Flowers <script>document.title='pwned'</script> & `code` | pipes"
seed: 3
task: {type: multiclass, classes: 3, class_names: ["set|osa", "versi<b>color</b>", virginica]}
data: {type: builtin, dataset: "sklearn:iris", split: {validation: 0.2, test: 0.2}}
model:
  inputs:
    - {name: features, shape: [4]}
  layers:
    - {type: dense, units: 16}
    - {type: dense, units: 3}
training: {epochs: 3, batch_size: 16}
"""


def test_markup_in_report_text_is_escaped_and_images_inlined(tmp_path):
    (tmp_path / "curves.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    page = render_html(
        "# x <img src=x onerror=alert(1)>\n\n<!-- marker -->\n"
        "![learning curves](curves.png)\n\n`a <b>` and ```\n",
        tmp_path,
        "t<i>",
    )
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<code>a &lt;b&gt;</code>" in page
    assert 'src="data:image/png;base64,iVBORw0KGgo=' in page
    assert "<title>t&lt;i&gt;</title>" in page and "marker" not in page


@pytest.fixture(scope="module")
def html_build(tmp_path_factory):
    folder = tmp_path_factory.mktemp("html")
    spec = folder / "iris.yaml"
    spec.write_text(SPEC)
    result = build(spec, folder / "out")
    return folder / "out", result.metrics


def test_the_build_writes_a_report_html_with_a_confusion_matrix(html_build):
    out, metrics = html_build
    assert "report.html" in metrics["artifacts"]
    report = (out / "report.md").read_text()
    assert "## Confusion matrix" in report
    rows = [line for line in report.splitlines() if line.startswith("| set\\|osa |")]
    assert len(rows) == 1
    cells = re.split(r"(?<!\\)\|", rows[0].strip().strip("|"))  # unescaped pipes only
    counts = [int(c) for c in cells[1:]]
    assert sum(counts) == 10  # the test split of iris is stratified: 10 of each class


@pytest.mark.skipif(shutil.which("chromium") is None, reason="needs Debian's chromium package")
def test_report_html_renders_in_a_headless_browser(html_build):
    out, _ = html_build
    page = out / "report.html"
    run = subprocess.run(
        [
            "chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--virtual-time-budget=5000",
            "--enable-logging=stderr",
            "--v=0",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    dom = run.stdout
    assert '<body data-images="1/1">' in dom  # the learning curves decoded, offline
    assert dom.count("<table") >= 2  # metrics and confusion matrix
    assert "<title>iris_html</title>" in dom  # the description's script did not run
    assert "&lt;script&gt;" in dom and "versi&lt;b&gt;color&lt;/b&gt;" in dom
    assert "Uncaught" not in run.stderr and ":CONSOLE" not in run.stderr
    assert "http://" not in page.read_text() and "https://" not in page.read_text()


def test_tensorboard_logs_on_request(tmp_path):
    """`training.tensorboard: true`: the generated code writes TensorBoard event files with the
    per-epoch losses of both splits into `logs/` of the output folder."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    spec = tmp_path / "iris.yaml"
    spec.write_text(SPEC.replace("training: {epochs: 3", "training: {tensorboard: true, epochs: 3"))
    out = tmp_path / "out"
    build(spec, out)
    assert "keras.callbacks.TensorBoard(" in (out / "code" / "train.py").read_text()
    for split in ("train", "validation"):
        events = EventAccumulator(str(out / "logs" / split))
        events.Reload()
        tags = events.Tags()["tensors"] + events.Tags()["scalars"]
        assert "epoch_loss" in tags, tags
