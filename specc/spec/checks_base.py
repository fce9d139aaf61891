"""The check registry: a check is a small function registered with `@check`.

A check takes the validated spec and the folder relative paths resolve against, and yields
`SpecError`s whose paths point at the field to change. The checks live in `checks_model`
(task, model, training), `checks_data` (the data section and its files) and `checks_passes`;
`checks.run_checks` runs them all. Shape checks live in the IR (`specc.ir`).

A warning is registered the same way with `@warning`: it yields `SpecError`s for what a valid
spec probably did not mean (data it provides but never reads); `checks.run_warnings` runs them
on a spec that passed every check, and `specc validate` and `specc build` print them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import SpecError

if TYPE_CHECKING:
    from .schema import Spec

__all__ = ["CHECKS", "WARNINGS", "Check", "check", "warning"]

Check = Callable[["Spec", Path], Iterable[SpecError]]
CHECKS: list[Check] = []
WARNINGS: list[Check] = []


def check(fn: Check) -> Check:
    """Register `fn` as a check (in definition order)."""
    CHECKS.append(fn)
    return fn


def warning(fn: Check) -> Check:
    """Register `fn` as a warning (in definition order)."""
    WARNINGS.append(fn)
    return fn
