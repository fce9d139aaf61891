"""Cross-field checks: mistakes no single field shows, all run by `validate`.

Importing this module registers every check (`checks_backbone`, `checks_model`, `checks_data`,
`checks_layers`, `checks_npz`, `checks_passes`, `checks_prune`, `checks_distribute`,
`checks_subset`); `run_checks` runs them in order and returns every error, not just the first;
`run_warnings` runs the registered warnings of a valid spec.
"""

from __future__ import annotations

from pathlib import Path

from . import (  # noqa: F401  (register their checks)
    checks_backbone,
    checks_data,
    checks_distribute,
    checks_layers,
    checks_model,
    checks_npz,
    checks_passes,
    checks_prune,
    checks_subset,
)
from .checks_base import CHECKS, WARNINGS
from .errors import SpecError
from .schema import Spec

__all__ = ["CHECKS", "run_checks", "run_warnings"]


def run_checks(spec: Spec, base_dir: Path) -> list[SpecError]:
    """Every problem the registered checks find in `spec`."""
    errors: list[SpecError] = []
    for fn in CHECKS:
        errors.extend(fn(spec, base_dir))
    return errors


def run_warnings(spec: Spec, base_dir: Path) -> list[SpecError]:
    """Every warning the registered warnings give for `spec` (which passed every check)."""
    found: list[SpecError] = []
    for fn in WARNINGS:
        found.extend(fn(spec, base_dir))
    return found
