"""The transactional build folder: staging, the atomic swap, recovery, the lock, builds killed
at 20 moments (the folder is always the complete old build or the complete new one), and
loading a model only from a complete build."""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from specc.builder.folder import BuildFolder, recover

ROOT = Path(__file__).resolve().parents[1]


def _fill(folder: Path, text: str) -> None:
    (folder / "code").mkdir(parents=True, exist_ok=True)
    (folder / "metrics.json").write_text(text)
    (folder / "code" / "train.py").write_text(text)


def _content(folder: Path) -> set[str]:
    return {(folder / "metrics.json").read_text(), (folder / "code" / "train.py").read_text()}


def test_first_build_is_renamed_into_place(tmp_path):
    out = tmp_path / "b"
    with BuildFolder(out) as folder:
        staging = folder.start()
        assert staging.name == ".b.staging" and not out.exists()
        _fill(staging, "new")
        folder.commit()
    assert _content(out) == {"new"} and not staging.exists()


def test_commit_swaps_the_whole_folder(tmp_path):
    out = tmp_path / "b"
    _fill(out, "old")
    (out / "model.int8.onnx").write_text("from an older spec")
    with BuildFolder(out) as folder:
        _fill(folder.start(), "new")
        assert _content(out) == {"old"}  # untouched while the new build runs
        folder.commit()
    assert _content(out) == {"new"}
    assert not (out / "model.int8.onnx").exists()  # nothing of the old build survives
    assert sorted(p.name for p in tmp_path.iterdir()) == [".b.lock", "b"]


def test_failed_build_keeps_the_old_one_and_the_failure(tmp_path):
    out = tmp_path / "b"
    _fill(out, "old")
    with BuildFolder(out) as folder:
        _fill(folder.start(), "broken")
        kept = folder.abandon()
    assert _content(out) == {"old"}
    assert kept == tmp_path / ".b.failed" and _content(kept) == {"broken"}
    with BuildFolder(out) as folder:  # the next good build clears the kept failure
        _fill(folder.start(), "new")
        folder.commit()
    assert _content(out) == {"new"} and not kept.exists()


def test_stale_staging_of_a_killed_build_is_removed(tmp_path):
    out = tmp_path / "b"
    stale = tmp_path / ".b.staging"
    _fill(stale, "half")
    with BuildFolder(out) as folder:
        staging = folder.start()
        assert list(staging.iterdir()) == []


def test_recover_puts_back_an_interrupted_swap(tmp_path):
    out = tmp_path / "b"
    _fill(tmp_path / ".b.previous", "old")  # killed between the two renames of the fallback
    recover(out)
    assert _content(out) == {"old"} and not (tmp_path / ".b.previous").exists()


def test_an_output_path_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "b").write_text("not a folder")
    with pytest.raises(NotADirectoryError, match="not a folder"), BuildFolder(tmp_path / "b"):
        pass


def _hold_lock(out: str, ready, release) -> None:
    with BuildFolder(Path(out)):
        ready.set()
        release.wait(30)


def test_second_build_of_a_folder_waits_for_the_first(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    ready, release = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold_lock, args=(str(tmp_path / "b"), ready, release))
    holder.start()
    try:
        assert ready.wait(60)
        said: list[str] = []

        def waiting(text: str) -> None:
            said.append(text)
            release.set()  # let the first build finish once the second is seen waiting

        with BuildFolder(tmp_path / "b", on_wait=waiting) as second:
            assert second.out == tmp_path / "b"
        assert len(said) == 1 and "another build of this folder is running" in said[0]
    finally:
        release.set()
        holder.join(30)
    assert holder.exitcode == 0


# --------------------------------------------------------------------------- killed builds

SPEC = """\
specc: 1
name: iris_kill
seed: {seed}
task: {{type: multiclass, classes: 3}}
data: {{type: builtin, dataset: "sklearn:iris", split: {{validation: 0.2, test: 0.2}}}}
model:
  inputs:
    - {{name: features, shape: [4]}}
  layers:
    - {{type: dense, units: {units}}}
    - {{type: dense, units: 3}}
training: {{epochs: 25, batch_size: 16}}
passes:
  - quantize: {{mode: dynamic, max_accuracy_drop: 1.0}}
"""


def _build(spec: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "specc.cli", "build", str(spec), "-o", str(out), "--quiet"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )


def _state(out: Path) -> tuple[str, str]:
    """(spec hash, resolved spec) of a build folder, after checking that every artifact is
    complete and records the same spec hash."""
    import onnx

    metrics = json.loads((out / "metrics.json").read_text())
    hashes = {metrics["spec_hash"]}
    for name in metrics["artifacts"]:
        path = out / name
        assert path.is_file(), f"{name} listed in metrics.json but missing"
        if path.suffix == ".onnx":
            model = onnx.load(str(path))
            onnx.checker.check_model(model, full_check=True)
            hashes.add({p.key: p.value for p in model.metadata_props}["specc.spec_hash"])
    assert len(hashes) == 1, f"artifacts of different specs side by side: {hashes}"
    return hashes.pop(), (out / "spec.lock.yaml").read_text()


@pytest.mark.slow
def test_build_killed_at_any_moment_leaves_old_or_new(tmp_path):
    old_spec, new_spec = tmp_path / "old.yaml", tmp_path / "new.yaml"
    old_spec.write_text(SPEC.format(seed=1, units=8))
    new_spec.write_text(SPEC.format(seed=2, units=12))
    out = tmp_path / "out"
    assert _build(old_spec, out).wait(600) == 0
    old = _state(out)
    started = time.monotonic()
    assert _build(new_spec, tmp_path / "timed").wait(600) == 0
    full = time.monotonic() - started
    new = _state(tmp_path / "timed")
    assert old[0] != new[0] and old[1] != new[1]
    # 12 moments spread over every stage of the build (a fixed seed: the same moments each run)
    moments = sorted(random.Random(20).uniform(0.05, 1.0) * full for _ in range(12))
    for delay in moments:
        proc = _build(new_spec, out)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert _state(out) in (old, new), f"a mixed build folder after {delay:.1f} s"
    assert _build(new_spec, out).wait(600) == 0
    assert _state(out) == new
    assert not (tmp_path / ".out.staging").exists()


# --------------------------------------------------------------------------- loading a model


def _as_build_folder(src: Path, dst: Path, **metrics_changes) -> Path:
    """A copy of a fixture build made to look like a `specc build` folder."""
    from runtime_fixtures import copy_build

    from specc.runtime import load

    folder = copy_build(src, dst)
    (folder / "spec.lock.yaml").write_text("# Resolved spec\n")
    metrics = json.loads((folder / "metrics.json").read_text())
    metrics["spec_hash"] = load(folder / "model.onnx").metadata.spec_hash
    metrics.update(metrics_changes)
    (folder / "metrics.json").write_text(json.dumps(metrics))
    return folder


def test_load_accepts_a_complete_build(mlp_build, tmp_path):
    from specc.runtime import load

    folder = _as_build_folder(mlp_build, tmp_path / "b")
    assert (
        load(folder).metadata.spec_hash
        == json.loads((folder / "metrics.json").read_text())["spec_hash"]
    )


def test_load_refuses_a_build_without_metrics(mlp_build, tmp_path):
    from specc.runtime import IncompleteBuildError, load

    folder = _as_build_folder(mlp_build, tmp_path / "b")
    (folder / "metrics.json").unlink()
    with pytest.raises(IncompleteBuildError, match="not a complete build: it has no metrics.json"):
        load(folder)


def test_load_refuses_a_model_of_another_build(mlp_build, tmp_path):
    from specc.runtime import IncompleteBuildError, load

    folder = _as_build_folder(mlp_build, tmp_path / "b", spec_hash="0123456789abcdef")
    with pytest.raises(IncompleteBuildError, match="records spec 0123456789abcdef"):
        load(folder)
    folder = _as_build_folder(mlp_build, tmp_path / "c")
    (folder / "model.int8.onnx").write_bytes((folder / "model.onnx").read_bytes())
    with pytest.raises(IncompleteBuildError, match="model.int8.onnx is not an artifact"):
        load(folder / "model.int8.onnx")
    # a model copied out of the folder is a plain model: not checked
    (tmp_path / "deployed").mkdir()
    copy = tmp_path / "deployed" / "model.onnx"
    copy.write_bytes((folder / "model.onnx").read_bytes())
    assert load(copy).metadata.spec_hash is not None


def test_predict_says_why_it_refuses_an_incomplete_build(mlp_build, tmp_path):
    from click.testing import CliRunner

    from specc.cli import cli

    folder = _as_build_folder(mlp_build, tmp_path / "b")
    (folder / "metrics.json").unlink()
    x = tmp_path / "x.npy"
    import numpy as np

    np.save(x, np.zeros((2, 30), np.float32))
    result = CliRunner().invoke(cli, ["predict", str(folder), str(x)])
    assert result.exit_code == 2, result.output
    assert "not a complete build" in result.stderr and "Traceback" not in result.output
