"""Every invalid spec in tests/invalid/ is rejected with exactly the errors in its `.expected`.

Each case is run through the real CLI (`specc validate`) from the repository root, so the file
names in the snapshots are relative (`tests/invalid/NAME.yaml`). After a deliberate change of a
message, regenerate the snapshots and review the diff:

    python -m pytest tests/test_spec_errors.py --update-snapshots
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from specc.cli import EXIT_INVALID, cli

ROOT = Path(__file__).resolve().parent.parent
CASES_DIR = ROOT / "tests" / "invalid"
CASES = sorted(CASES_DIR.glob("*.yaml"))

# FILE:LINE:COL: [path: ]message[ (hint)]
ERROR_LINE = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+):(?P<col>\d+): (?P<rest>.+)$")
COUNT_LINE = re.compile(r"^(?P<n>\d+) errors?$")


def run_validate(relative: str) -> tuple[int, str, str, BaseException | None]:
    result = CliRunner().invoke(cli, ["validate", relative])
    return result.exit_code, result.stdout, result.output, result.exception


@pytest.mark.parametrize("case", CASES, ids=[p.stem for p in CASES])
def test_invalid_spec_output(
    case: Path, update_snapshots: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    relative = case.relative_to(ROOT).as_posix()
    code, stdout, everything, exception = run_validate(relative)

    assert "Traceback" not in everything
    assert exception is None or isinstance(exception, SystemExit), repr(exception)
    assert code == EXIT_INVALID, everything

    expected_file = case.with_suffix(".expected")
    if update_snapshots:
        expected_file.write_text(stdout, encoding="utf-8")
    assert expected_file.exists(), f"no snapshot: run with --update-snapshots ({expected_file})"
    assert stdout == expected_file.read_text(encoding="utf-8")


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= 30


def test_every_case_has_a_snapshot_and_every_snapshot_a_case(update_snapshots: bool) -> None:
    cases = {p.stem for p in CASES}
    if update_snapshots:
        for orphan in CASES_DIR.glob("*.expected"):
            if orphan.stem not in cases:
                orphan.unlink()
    snapshots = {p.stem for p in CASES_DIR.glob("*.expected")}
    assert snapshots - cases == set(), "snapshots without a case file"
    assert cases - snapshots == set(), "cases without a snapshot (run with --update-snapshots)"


@pytest.mark.parametrize("case", CASES, ids=[p.stem for p in CASES])
def test_snapshot_is_well_formed(case: Path) -> None:
    """Each error line names this file and a real position, and the count line matches."""
    lines = case.with_suffix(".expected").read_text(encoding="utf-8").splitlines()
    assert len(lines) >= 2
    *errors, count = lines
    match = COUNT_LINE.match(count)
    assert match and int(match["n"]) == len(errors)
    n_lines = max(1, len(case.read_text(encoding="utf-8").splitlines()))
    for line in errors:
        m = ERROR_LINE.match(line)
        assert m, line
        assert m["file"] == f"tests/invalid/{case.name}"
        assert 1 <= int(m["line"]) <= n_lines
        assert int(m["col"]) >= 1
        assert m["rest"].strip()


def test_positions_are_in_file_order() -> None:
    case = CASES_DIR / "many_errors.yaml"
    lines = case.with_suffix(".expected").read_text(encoding="utf-8").splitlines()[:-1]
    positions = [
        tuple(int(x) for x in ERROR_LINE.match(line).group("line", "col")) for line in lines
    ]
    assert len(positions) >= 5
    assert positions == sorted(positions)


def test_console_script_prints_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real entry point (a separate interpreter) agrees with the in-process runs."""
    relative = "tests/invalid/many_errors.yaml"
    proc = subprocess.run(
        [sys.executable, "-m", "specc.cli", "validate", relative],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == EXIT_INVALID
    assert "Traceback" not in proc.stderr
    assert proc.stdout == (ROOT / relative).with_suffix(".expected").read_text(encoding="utf-8")


def test_valid_and_invalid_files_together(monkeypatch: pytest.MonkeyPatch) -> None:
    """One bad file among good ones: the good one still prints `ok`, the exit code is 2."""
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(
        cli, ["validate", "specs/diabetes_regression.yaml", "tests/invalid/bad_loss.yaml"]
    )
    assert result.exit_code == EXIT_INVALID
    assert result.stdout.splitlines()[0] == "specs/diabetes_regression.yaml: ok"
    assert result.stdout.endswith("1 error\n")


def test_missing_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    code, stdout, everything, _ = run_validate("tests/invalid/does_not_exist.yaml")
    assert code == EXIT_INVALID
    assert stdout == "tests/invalid/does_not_exist.yaml:1:1: file not found\n1 error\n"
    assert "Traceback" not in everything
