"""`specc build` and `specc codegen`."""

from __future__ import annotations

import sys
import traceback
from pathlib import Path

import click

__all__ = ["register"]


@click.command()
@click.argument("specs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    help="Build folder (default: build/<name>); with several specs, a parent folder.",
)
@click.option("--force", is_flag=True, help="Rebuild even when the spec and code are unchanged.")
@click.option(
    "--compare",
    is_flag=True,
    help="Also train the spec without its passes (into <build folder>/baseline) and compare "
    "them side by side in report.md (a distilled student against one trained from scratch).",
)
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors and the result line.")
@click.option("--debug", is_flag=True, help="Show Python tracebacks of failures.")
def build(
    specs: tuple[Path, ...],
    output: Path | None,
    force: bool,
    compare: bool,
    quiet: bool,
    debug: bool,
) -> None:
    """Validate, generate Keras code, train it, export ONNX and verify it against Keras."""
    from specc.builder import BuildError, Progress
    from specc.builder import build as run_build
    from specc.spec import SpecErrors

    from .common import EXIT_INVALID, report_spec_errors
    from .outpaths import describe_os_error, spec_output_dirs

    status = 0
    for spec, out in zip(specs, spec_output_dirs(specs, output), strict=True):
        progress = Progress(quiet=quiet)
        try:
            result = run_build(spec, out, force=force, progress=progress, compare=compare)
        except SpecErrors as errors:
            report_spec_errors(errors)
            status = max(status, EXIT_INVALID)
            continue
        except BuildError as exc:
            if debug and exc.__cause__ is not None:
                traceback.print_exception(exc.__cause__)
            click.echo(f"error: {spec}: {exc}", err=True)
            status = max(status, 1)
            continue
        except OSError as exc:  # the output folder could not be written after all
            click.echo(f"error: {spec}: {describe_os_error(exc)}", err=True)
            status = max(status, EXIT_INVALID)
            continue
        except KeyboardInterrupt:
            click.echo("interrupted: no artifact was left half-written", err=True)
            sys.exit(130)
        if not result.up_to_date:
            test = result.metrics["metrics"].get("test", {})
            shown = ", ".join(f"{k} {v:.4f}" for k, v in test.items() if isinstance(v, float))
            click.echo(f"{spec}: built {result.output_dir} (test: {shown})")
        elif quiet:
            click.echo(f"{spec}: up to date ({result.output_dir})")
    sys.exit(status)


@click.command()
@click.argument("spec", type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    required=True,
    help="Folder for spec_model.py, spec_data.py and train.py.",
)
def codegen(spec: Path, output: Path) -> None:
    """Write the generated Keras code only, without training (no TensorFlow import)."""
    from specc.codegen import generate
    from specc.codegen.audit import CodeAuditError
    from specc.spec import SpecErrors

    from .common import EXIT_INVALID, compile_or_exit, report_spec_errors
    from .outpaths import OutputPathError, check_output_dir, describe_os_error

    check_output_dir(output)
    compiled = compile_or_exit(spec)
    try:
        code = generate(compiled.loaded, compiled.graph)
    except CodeAuditError as exc:  # a bug in specc: refuse, write nothing
        raise click.ClickException(f"{spec}: {exc}; nothing was written") from exc
    except SpecErrors as errors:
        # `validate` finds every spec error, so this is a bug; still, say it as a spec error
        located = [compiled.loaded.locate(error) for error in errors.errors]
        report_spec_errors(SpecErrors(located))
        sys.exit(EXIT_INVALID)
    try:
        code.write(output)
    except OSError as exc:
        raise OutputPathError(describe_os_error(exc)) from exc
    for name in sorted(code.files):
        click.echo(str(output / name))


def register(cli: click.Group) -> None:
    cli.add_command(build)
    cli.add_command(codegen)
