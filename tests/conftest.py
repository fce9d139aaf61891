"""Shared pytest options and fixtures (keep generic: any test module may use them)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-snapshots",
        action="store_true",
        default=False,
        help="Rewrite expected-output snapshot files instead of comparing against them.",
    )


@pytest.fixture
def update_snapshots(request: pytest.FixtureRequest) -> bool:
    """True when the run was started with `--update-snapshots`."""
    return bool(request.config.getoption("--update-snapshots"))


@pytest.fixture
def repo_root() -> Path:
    """The repository root (where `specs/`, `docs/` and `pyproject.toml` live)."""
    return ROOT
