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


# --------------------------------------------------------------------------- small real builds


@pytest.fixture(scope="session")
def cnn_build(tmp_path_factory):
    """A digits CNN build folder (with a custom layer in code/spec_model.py); read-only."""
    from runtime_fixtures import get_build

    return get_build("digits_cnn", tmp_path_factory)


@pytest.fixture(scope="session")
def mlp_build(tmp_path_factory):
    """A breast-cancer MLP build folder (binary); read-only."""
    from runtime_fixtures import get_build

    return get_build("cancer_mlp", tmp_path_factory)


@pytest.fixture(scope="session")
def reg_build(tmp_path_factory):
    """A diabetes regression build folder; read-only."""
    from runtime_fixtures import get_build

    return get_build("diabetes", tmp_path_factory)


@pytest.fixture(scope="session")
def cli():
    """A command group with the runtime commands (`predict`, `bench`, `quantize`)."""
    import click

    from specc.commands.runtime import register

    group = click.Group("specc")
    register(group)
    return group
