"""Bounds on spec documents: an alias bomb, deep nesting, a huge file and a number of thousands
of digits are each a clean located error (exit 2), answered fast, never a traceback or a hang."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from specc.spec import SpecErrors, load_spec
from specc.spec.limits import MAX_BYTES, MAX_DEPTH, MAX_DIGITS, MAX_NODES

ROOT = Path(__file__).resolve().parents[1]


def _alias_bomb(depth: int) -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, depth + 1):
        refs = ", ".join([f"*a{i - 1}"] * 9)
        lines.append(f"a{i}: &a{i} [{refs}]")
    return "specc: 1\nname: bomb\n" + "\n".join(lines) + "\n"


def _errors(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "spec.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SpecErrors) as caught:
        load_spec(path)
    return [e.format() for e in caught.value.errors]


@pytest.mark.parametrize("depth", [7, 10, 30])
def test_alias_bomb_is_refused_fast(tmp_path, depth):
    text = _alias_bomb(depth)
    assert len(text) < 3000
    started = time.perf_counter()
    errors = _errors(tmp_path, text)
    assert time.perf_counter() - started < 1.0
    assert len(errors) == 1
    assert f"expands to more than {MAX_NODES:,} values" in errors[0]
    assert errors[0].startswith(f"{tmp_path / 'spec.yaml'}:")


def test_a_few_aliases_are_fine(tmp_path):
    text = (ROOT / "specs" / "breast_cancer_mlp.yaml").read_text()
    text = text.replace(
        "    - {type: dense, units: 128, regularizer: {l2: 0.001}, dropout: 0.3}",
        "    - {type: dense, units: 128, regularizer: &l2 {l2: 0.001}, dropout: 0.3}",
    ).replace(
        "    - {type: dense, units: 64, regularizer: {l2: 0.001}, dropout: 0.2}",
        "    - {type: dense, units: 64, regularizer: *l2, dropout: 0.2}",
    )
    assert "*l2" in text
    path = tmp_path / "spec.yaml"
    path.write_text(text)
    assert load_spec(path).spec.model.layers[1].regularizer.l2 == 0.001


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 700, 5000])
def test_deep_nesting_is_a_located_error(tmp_path, depth):
    text = "specc: 1\nname: deep\ndescription: " + "[" * depth + "]" * depth + "\n"
    errors = _errors(tmp_path, text)
    assert len(errors) == 1 and "nests" in errors[0], errors


def test_deep_block_nesting_is_a_located_error(tmp_path):
    body = "".join(f"{'  ' * i}k{i}:\n" for i in range(MAX_DEPTH + 5)) + "  " * 70 + "v: 1\n"
    errors = _errors(tmp_path, "specc: 1\nname: deep\nx:\n" + body)
    assert len(errors) == 1 and f"more than {MAX_DEPTH} levels" in errors[0], errors


def test_huge_integer_is_a_located_error(tmp_path):
    text = "specc: 1\nname: big\nseed: " + "9" * 5000 + "\n"
    (error,) = _errors(tmp_path, text)
    assert f"a number of 5,000 digits; at most {MAX_DIGITS} are allowed" in error
    assert error.startswith(f"{tmp_path / 'spec.yaml'}:3:7:")


def test_huge_file_is_refused(tmp_path):
    text = "specc: 1\nname: huge\ndescription: " + "x" * (MAX_BYTES + 1) + "\n"
    (error,) = _errors(tmp_path, text)
    assert "a spec may be at most" in error


def test_cli_answers_a_bomb_with_exit_2(tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text(_alias_bomb(10))
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "specc.cli", "validate", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert "expands to more than" in done.stdout
    assert time.perf_counter() - started < 10  # a fresh interpreter, then well under a second
