"""Cross-field checks: mistakes no single field shows, all run by `validate`.

Importing this module registers every check (`checks_model`, `checks_data`, `checks_passes`,
`checks_prune`);
`run_checks` runs them in order and returns every error, not just the first.
"""

from __future__ import annotations

from pathlib import Path

from . import checks_data, checks_model, checks_passes, checks_prune  # noqa: F401
from .checks_base import CHECKS
from .errors import SpecError
from .schema import Spec

__all__ = ["CHECKS", "run_checks"]


def run_checks(spec: Spec, base_dir: Path) -> list[SpecError]:
    """Every problem the registered checks find in `spec`."""
    errors: list[SpecError] = []
    for fn in CHECKS:
        errors.extend(fn(spec, base_dir))
    return errors
