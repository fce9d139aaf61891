"""`training.distribute` and `training.resume`: the generated code, a run killed mid-way and
resumed, and two workers on 127.0.0.1 training one model.

The generated `train.py` runs as a plain script here, in subprocesses, as a user or a cluster
runs it. Training tests are small (digits, a few epochs) but real, and marked slow.
"""

from __future__ import annotations

import ast
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from test_codegen import lint

from specc.codegen import generate
from specc.pipeline import compile_spec

SPEC = """\
specc: 1
name: digits_tiny
seed: 5
task: {{type: multiclass, classes: 10}}
data:
  type: builtin
  dataset: sklearn:digits
  split: {{validation: 0.1, test: 0.2, stratify: true}}
  preprocessing: standardize
model:
  inputs:
    - {{name: pixels, shape: [64]}}
  layers:
    - {{type: dense, units: 32{dropout}}}
    - {{type: dense, units: 10, name: digit}}
training:
  optimizer: {{type: adam, learning_rate: 0.003}}
  batch_size: {batch}
  epochs: {epochs}
  distribute: {{strategy: {strategy}}}
"""


def write_code(
    folder: Path, *, strategy: str = "none", epochs: int = 3, batch: int = 64, dropout: float = 0
) -> Path:
    """The generated code of a tiny digits MLP in `folder/code`; returns that folder."""
    text = SPEC.format(
        strategy=strategy,
        epochs=epochs,
        batch=batch,
        dropout=f", dropout: {dropout}" if dropout else "",
    )
    spec = folder / "spec.yaml"
    folder.mkdir(parents=True, exist_ok=True)
    spec.write_text(text)
    compiled = compile_spec(spec)
    code = folder / "code"
    generate(compiled.loaded, compiled.graph).write(code)
    return code


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONHASHSEED": "0", **extra}


def _train(code: Path, out: Path, **env: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "train.py", "--output-dir", str(out), "--quiet"],
        cwd=code,
        env=_env(**env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(process: subprocess.Popen, timeout: float = 600) -> str:
    stdout, stderr = process.communicate(timeout=timeout)
    assert process.returncode == 0, f"train.py failed ({process.returncode}):\n{stderr[-3000:]}"
    return stdout


def _weights(path: Path) -> list[np.ndarray]:
    import keras

    return [np.asarray(w) for w in keras.saving.load_model(path).get_weights()]


# --------------------------------------------------------------------------- generated code


@pytest.mark.parametrize("strategy", ["mirrored", "multi_worker"])
def test_strategy_code_builds_and_compiles_in_scope(tmp_path: Path, strategy: str) -> None:
    code = write_code(tmp_path, strategy=strategy)
    lint(*sorted(code.glob("*.py")))
    tree = ast.parse((code / "train.py").read_text())
    train = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "train")
    scopes = [n for n in ast.walk(train) if isinstance(n, ast.With)]
    assert len(scopes) == 1 and ast.unparse(scopes[0].items[0]) == "strategy.scope()"
    inside = {ast.unparse(n.func) for n in ast.walk(scopes[0]) if isinstance(n, ast.Call)}
    assert {"build_model", "model.compile"} <= inside
    fit = next(
        n for n in ast.walk(train) if isinstance(n, ast.Call) and ast.unparse(n.func) == "model.fit"
    )
    assert ast.unparse(fit.args[0]) == "training_dataset(x_train, y_train, BATCH_SIZE)"
    source = (code / "train.py").read_text()
    assert "AutoShardPolicy.DATA" in source
    assert ("worker_folder(strategy" in source) == (strategy == "multi_worker")


def test_no_strategy_keeps_the_single_process_path(tmp_path: Path) -> None:
    source = (write_code(tmp_path) / "train.py").read_text()
    assert "strategy" not in source.replace("spec: training.distribute", "")
    assert "model.fit(\n        x_train," in source
    assert 'BackupAndRestore(folder / ".backup")' in source


# --------------------------------------------------------------------------- resume


def test_epoch_seeds_make_an_epochs_dropout_independent_of_the_past(tmp_path: Path) -> None:
    """The generated EpochSeeds: the same epoch number gives the same dropout masks whatever was
    drawn before; another epoch gives other masks."""
    from specc.codegen.loader import generated_modules

    code = write_code(tmp_path, dropout=0.5)
    with generated_modules(code) as modules:
        data = modules["data"].load_data()
        model = modules["model"].build_model(preprocessing=data.preprocessing)
        x = {name: values[:64] for name, values in data.train[0].items()}
        seeds = modules["train"].EpochSeeds()
        seeds.set_model(model)

        def draw(epoch: int, burn: int) -> np.ndarray:
            seeds.on_epoch_begin(epoch)
            for _ in range(burn):  # draws of the batches before, in an uninterrupted run
                model(x, training=True)
            return np.asarray(model(x, training=True))

        first = draw(3, burn=0)
        np.testing.assert_array_equal(draw(3, burn=0), first)
        assert not np.array_equal(draw(3, burn=2), first)  # later batches: other masks
        assert not np.array_equal(draw(4, burn=0), first)
        np.testing.assert_array_equal(draw(3, burn=0), first)


def _metadata_epoch(backup: Path) -> int:
    try:
        return int(json.loads((backup / "training_metadata.json").read_text())["epoch"])
    except (OSError, ValueError, KeyError):
        return 0


@pytest.mark.slow
def test_killed_run_resumes_to_the_same_metrics(tmp_path: Path) -> None:
    """SIGKILL after the second epoch's backup, run again: the same final metrics and weights as
    an uninterrupted run (dropout included: EpochSeeds)."""
    code = write_code(tmp_path / "spec", epochs=8, batch=32, dropout=0.2)
    whole = _finish(_train(code, tmp_path / "whole"))

    out = tmp_path / "killed"
    backup = out / ".backup"
    process = _train(code, out)
    deadline = time.monotonic() + 300
    while _metadata_epoch(backup) < 2:
        assert process.poll() is None, "training ended before its second epoch was backed up"
        assert time.monotonic() < deadline, "no backup after the second epoch"
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.communicate()
    assert process.returncode == -signal.SIGKILL
    killed_at = _metadata_epoch(backup)
    assert 2 <= killed_at < 8 and not (out / "model.keras").exists()

    resumed = _finish(_train(code, out))
    assert resumed == whole  # the printed metrics of every split, to 4 decimals
    assert not backup.exists()  # deleted once training completed
    history = (out / "history.csv").read_text().splitlines()
    assert len(history) == 1 + 8 - killed_at  # the epochs run after the resume
    resumed_weights = _weights(out / "model.keras")
    for a, b in zip(resumed_weights, _weights(tmp_path / "whole" / "model.keras"), strict=True):
        np.testing.assert_array_equal(a, b)


# --------------------------------------------------------------------------- two workers


def _free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


@pytest.mark.slow
def test_two_workers_on_loopback_agree_and_export(tmp_path: Path) -> None:
    """Two `python train.py` processes with TF_CONFIG: both complete, hold the same weights, and
    the chief's model exports to ONNX with parity."""
    from specc.export import export_onnx, verify_parity

    code = write_code(tmp_path / "spec", strategy="multi_worker", epochs=2, batch=128)
    workers = [f"127.0.0.1:{port}" for port in _free_ports(2)]
    processes = []
    for index in range(2):
        config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
        out = tmp_path / f"machine{index}"  # as if on two machines, each with its own disk
        processes.append(_train(code, out, TF_CONFIG=json.dumps(config)))
    outputs = [_finish(p) for p in processes]
    assert outputs[0] == outputs[1]  # both evaluated the same model

    chief = tmp_path / "machine0" / "model.keras"
    other = tmp_path / "machine1" / "worker-1" / "model.keras"
    assert (
        chief.exists() and other.exists() and not (tmp_path / "machine1" / "model.keras").exists()
    )
    for a, b in zip(_weights(chief), _weights(other), strict=True):
        np.testing.assert_array_equal(a, b)

    import keras

    model = keras.saving.load_model(chief)
    onnx_path = tmp_path / "model.onnx"
    export_onnx(model, onnx_path, input_names=["pixels"], output_names=["digit"])
    from sklearn.datasets import load_digits

    pixels = load_digits().data[:200].astype(np.float32)
    result = verify_parity(model, onnx_path, {"pixels": pixels}, atol=1e-4)
    assert result.passed, result


def test_build_refuses_a_cluster_it_cannot_join(tmp_path: Path, monkeypatch) -> None:
    """`specc build` of a multi_worker spec under a TF_CONFIG naming other workers stops with
    a message instead of waiting for them forever."""
    from click.testing import CliRunner

    from specc.cli import cli

    config = {"cluster": {"worker": ["127.0.0.1:1", "127.0.0.1:2"]}, "task": {"type": "worker"}}
    monkeypatch.setenv("TF_CONFIG", json.dumps(config))
    write_code(tmp_path, strategy="multi_worker")
    result = CliRunner().invoke(
        cli, ["build", str(tmp_path / "spec.yaml"), "-o", str(tmp_path / "b")]
    )
    assert result.exit_code != 0
    assert "TF_CONFIG is set" in result.output and "unset TF_CONFIG" in result.output
    assert not (tmp_path / "b" / "model.keras").exists()
