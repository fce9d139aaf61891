"""What every command shares: printing spec errors and the exit code for an invalid spec."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from specc.pipeline import Compiled
    from specc.spec import SpecErrors

__all__ = ["EXIT_INVALID", "compile_or_exit", "report_spec_errors"]

EXIT_INVALID = 2


def report_spec_errors(errors: SpecErrors, *, err: bool = True) -> None:
    """Print every spec error, one per line, `FILE:LINE:COL: path: message (hint)`."""
    for error in errors.errors:
        click.echo(error.format(), err=err)
    n = len(errors.errors)
    click.echo(f"{n} error{'s' if n != 1 else ''}", err=err)


def compile_or_exit(path: Path) -> Compiled:
    """Load, validate and lower one spec; on errors print them and exit with code 2."""
    from specc.pipeline import compile_spec
    from specc.spec import SpecErrors

    try:
        return compile_spec(path)
    except SpecErrors as errors:
        report_spec_errors(errors)
        sys.exit(EXIT_INVALID)
