"""docs/tutorial.md stays true: its spec files validate and the outputs it shows are what specc
prints; the slow test builds the tutorial's model and runs its Python snippet."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from specc.cli import cli

TUTORIAL = Path(__file__).resolve().parents[1] / "docs" / "tutorial.md"
BLOCK = r"<!-- {kind}: (?P<arg>[^>]+?) -->\n```[a-z]*\n(?P<body>.*?)```"


def _blocks(kind: str) -> dict[str, str]:
    text = TUTORIAL.read_text()
    return {m["arg"]: m["body"] for m in re.finditer(BLOCK.format(kind=kind), text, re.S)}


@pytest.fixture
def tutorial_dir(tmp_path, monkeypatch):
    files = _blocks("file")
    assert {"wine_bad.yaml", "wine_mlp.yaml"} <= set(files)
    for name, body in files.items():
        (tmp_path / name).write_text(body)
    fixed = files["wine_bad.yaml"].replace("unit: 32", "units: 32")
    (tmp_path / "wine_bad_fixed.yaml").write_text(fixed)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_tutorial_shows_three_outputs():
    assert len(_blocks("output")) == 3


@pytest.mark.parametrize("command", sorted(_blocks("output")))
def test_tutorial_output_is_what_specc_prints(tutorial_dir, command):
    expected = _blocks("output")[command]
    args = command.split()[1:]
    result = CliRunner().invoke(cli, args)
    assert result.output == expected, f"docs/tutorial.md is out of date for `{command}`"
    assert result.exit_code == (2 if "bad" in command else 0)


def test_final_spec_validates(tutorial_dir):
    result = CliRunner().invoke(cli, ["validate", "wine_mlp.yaml"])
    assert result.exit_code == 0 and result.output == "wine_mlp.yaml: ok\n"


@pytest.mark.slow
def test_tutorial_build_and_python_snippet(tutorial_dir):
    result = CliRunner().invoke(cli, ["build", "wine_mlp.yaml", "--quiet"])
    assert result.exit_code == 0, result.output
    assert (tutorial_dir / "build/wine_mlp/model.onnx").is_file()
    again = CliRunner().invoke(cli, ["build", "wine_mlp.yaml", "--quiet"])
    assert "up to date" in again.output
    snippet = re.search(r"```python\n(.*?)```", TUTORIAL.read_text(), re.S)[1]
    done = subprocess.run([sys.executable, "-c", snippet], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    labels_line = done.stdout.splitlines()[0]
    assert "cultivar_" in labels_line
