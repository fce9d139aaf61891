"""docs/recipe.md stays true: its spec files are real and every output it shows is what specc
prints, with exit code 0."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from specc.cli import cli

RECIPE = Path(__file__).resolve().parents[1] / "docs" / "recipe.md"
BLOCK = r"<!-- {kind}: (?P<arg>[^>]+?) -->\n```[a-z]*\n(?P<body>.*?)```"


def _blocks(kind: str) -> dict[str, str]:
    text = RECIPE.read_text(encoding="utf-8")
    return {m["arg"]: m["body"] for m in re.finditer(BLOCK.format(kind=kind), text, re.S)}


@pytest.fixture
def recipe_dir(tmp_path, monkeypatch):
    for name, body in _blocks("file").items():
        (tmp_path / name).write_text(body, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_recipe_shows_files_and_outputs():
    assert set(_blocks("file")) == {"wine_draft.yaml", "wine_recipe.yaml"}
    assert len(_blocks("output")) == 5


@pytest.mark.parametrize("command", sorted(_blocks("output")))
def test_recipe_output_is_what_specc_prints(recipe_dir, command):
    expected = _blocks("output")[command]
    result = CliRunner().invoke(cli, shlex.split(command)[1:])
    assert result.output == expected, f"docs/recipe.md is out of date for `{command}`"
    assert result.exit_code == 0


def test_the_draft_fails_a_strict_lint(recipe_dir):
    result = CliRunner().invoke(cli, ["lint", "--strict", "wine_draft.yaml"])
    assert result.exit_code == 1
