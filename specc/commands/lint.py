"""`specc lint`, and the lint lines `specc validate` prints after `ok`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from specc.lint import Diagnostic
    from specc.pipeline import Compiled

__all__ = ["EXIT_FINDINGS", "lint_exit_code", "register", "validate_lint_lines"]

EXIT_FINDINGS = 1


def lint_exit_code(diagnostics: list[Diagnostic], strict: bool) -> int:
    """1 when a rule of severity `error` fired, or with `strict` any warning; else 0."""
    failing = {"error", "warning"} if strict else {"error"}
    return EXIT_FINDINGS if any(d.severity in failing for d in diagnostics) else 0


def _counts(diagnostics: list[Diagnostic]) -> str:
    from specc.lint import SEVERITIES

    parts = []
    for severity in SEVERITIES:
        n = sum(1 for d in diagnostics if d.severity == severity)
        if n:
            parts.append(f"{n} {severity}{'s' if n != 1 and severity != 'info' else ''}")
    return ", ".join(parts) or "no findings"


def validate_lint_lines(compiled: Compiled, *, data: bool) -> list[str]:
    """What `specc validate` prints after `ok`: the errors and warnings of the lint, and how
    many informational notes `specc lint` would add."""
    from specc.lint import run

    diagnostics = run(compiled.loaded, compiled.graph, data=data)
    shown = [d.format() for d in diagnostics if d.severity != "info"]
    notes = len(diagnostics) - len(shown)
    if notes:
        shown.append(
            f"{notes} more note{'s' if notes != 1 else ''}: specc lint "
            f"{'--data ' if data else ''}{compiled.loaded.path}"
        )
    return shown


def _check_ids(ids: tuple[str, ...]) -> None:
    from specc.lint import unknown_rules

    unknown = unknown_rules(ids)
    if unknown:
        raise click.BadParameter(
            f"unknown rule id {', '.join(unknown)} (see docs/lint.md for the rules)",
            param_hint="--ignore",
        )


@click.command()
@click.argument("specs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--ignore",
    "ignore",
    multiple=True,
    metavar="ID",
    help="Skip the rule ID (e.g. SPC201); repeat for several.",
)
@click.option("--strict", is_flag=True, help="Exit 1 on warnings too, not only on errors.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="`json`: one document with every spec's findings, for tools.",
)
@click.option("--data", is_flag=True, help="Also load the data and run the data rules (SPC3xx).")
def lint(
    specs: tuple[Path, ...], ignore: tuple[str, ...], strict: bool, fmt: str, data: bool
) -> None:
    """Check specs against rules of thumb: each finding has a rule id, a severity, the spec field
    and a hint. Exit 0, or 1 on an error-severity finding (`--strict`: on a warning too), or 2
    for an invalid spec."""
    from specc.lint import run
    from specc.pipeline import compile_spec
    from specc.spec import SpecErrors

    from .common import EXIT_INVALID, report_spec_errors

    ignore = tuple(i.strip().upper() for i in ignore)  # `spc201` names SPC201 too
    _check_ids(ignore)
    status = 0
    documents = []
    for path in specs:
        try:
            compiled = compile_spec(path)
        except SpecErrors as errors:
            status = EXIT_INVALID
            if fmt == "json":
                documents.append(
                    {
                        "spec": str(path),
                        "valid": False,
                        "errors": [e.format() for e in errors.errors],
                    }
                )
            else:
                report_spec_errors(errors, err=False)
            continue
        diagnostics = run(compiled.loaded, compiled.graph, data=data, ignore=ignore)
        if status != EXIT_INVALID:
            status = max(status, lint_exit_code(diagnostics, strict))
        if fmt == "json":
            documents.append(
                {
                    "spec": str(path),
                    "valid": True,
                    "diagnostics": [d.to_json() for d in diagnostics],
                }
            )
        else:
            for diagnostic in diagnostics:
                click.echo(diagnostic.format())
            click.echo(f"{path}: {_counts(diagnostics)}")
    if fmt == "json":
        import json

        click.echo(json.dumps({"specs": documents}, indent=2))
    sys.exit(status)


def register(cli: click.Group) -> None:
    cli.add_command(lint)
