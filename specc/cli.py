"""The `specc` command line: thin click commands; domain errors become clean messages here.

`validate`, `lint`, `show`, `schema` and `codegen` never import tensorflow or onnxruntime; commands
that need them import them lazily inside their own modules. Importing this module (what `specc
--help` costs) loads click and the command definitions only: the spec package (pydantic, PyYAML)
is imported by the commands that read a spec.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from specc import __version__
from specc.commands import build, lint, recipe, runtime, search
from specc.commands.common import EXIT_INVALID, compile_or_exit, report_spec_errors


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="specc")
def cli() -> None:
    """specc: compile a YAML model spec into readable Keras code and a verified ONNX model."""


@cli.command()
@click.argument("specs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--quiet", "-q", is_flag=True, help="Print errors only, not `ok` lines.")
@click.option("--data", is_flag=True, help="Also load the data for the lint's data rules.")
def validate(specs: tuple[Path, ...], quiet: bool, data: bool) -> None:
    """Check specs: schema, cross-field rules and shapes. Prints `ok` per file or every error,
    then the lint's warnings (`specc lint`); warnings (`warning: FILE:LINE:COL: ...`, data a
    spec provides but never reads) do not fail."""
    from specc.pipeline import compile_spec
    from specc.spec import SpecErrors

    failed = False
    for path in specs:
        try:
            compiled = compile_spec(path)
        except SpecErrors as errors:
            failed = True
            report_spec_errors(errors, err=False)
            continue
        for warning in compiled.loaded.warnings:
            click.echo(warning.format_warning())
        if not quiet:
            click.echo(f"{path}: ok")
            for line in lint.validate_lint_lines(compiled, data=data):
                click.echo(line)
    if failed:
        sys.exit(EXIT_INVALID)


@cli.command()
@click.argument("spec", type=click.Path(path_type=Path))
def show(spec: Path) -> None:
    """Print the lowered network: each node, its output shape and parameter count, and totals."""
    from specc.ir import render

    compiled = compile_or_exit(spec)
    click.echo(render(compiled.graph), nl=False)


@cli.command()
@click.option(
    "-o", "--output", type=click.Path(path_type=Path), help="Write to a file instead of stdout."
)
def schema(output: Path | None) -> None:
    """Print the JSON Schema of the spec (for editor completion and checking)."""
    import json

    from specc.spec.jsonschema import spec_json_schema

    text = json.dumps(spec_json_schema(), indent=2) + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        from specc.atomic import write_text
        from specc.commands.outpaths import OutputPathError, check_output_file, describe_os_error

        check_output_file(output)
        try:
            write_text(output, text)
        except OSError as exc:
            raise OutputPathError(describe_os_error(exc)) from exc
        click.echo(f"wrote {output}")


build.register(cli)
lint.register(cli)
runtime.register(cli)
search.register(cli)
recipe.register(cli)


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
