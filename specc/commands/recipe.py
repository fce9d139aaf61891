"""`specc check` (sanity checks that train briefly) and `specc lr-find` (learning-rate range
test), both on the spec's own generated code and data."""

from __future__ import annotations

import sys
from pathlib import Path

import click

__all__ = ["register"]

CHECK_NAMES = ("init_loss", "overfit_batch", "shuffled_labels", "zero_inputs", "repeatable")


def _quiet_native():
    """TensorFlow's C++ start-up notes go to the null device; Python errors still show."""
    import os

    from specc.builder.nativelog import native_stderr_to
    from specc.builder.progress import Progress

    return native_stderr_to(Path(os.devnull), Progress(quiet=True))


@click.command()
@click.argument("spec", type=click.Path(path_type=Path))
@click.option(
    "--only",
    multiple=True,
    type=click.Choice(CHECK_NAMES),
    help="Run only this check (repeatable); default: all of them.",
)
def check(spec: Path, only: tuple[str, ...]) -> None:
    """Sanity-check a recipe before a long training: loss at initialisation, overfitting one
    batch, shuffled labels, zeroed inputs, repeatability. Prints PASS/FAIL with the figures;
    exit 1 when a check fails."""
    from specc.recipe.checks import run_checks
    from specc.recipe.harness import open_harness

    from .common import compile_or_exit

    compiled = compile_or_exit(spec)
    with _quiet_native(), open_harness(compiled) as harness:
        results = run_checks(harness, list(only) or None, on_result=lambda r: click.echo(r.line()))
    failed = [r.name for r in results if not r.passed]
    click.echo(
        f"{len(results) - len(failed)} of {len(results)} checks passed"
        + (f"; failed: {', '.join(failed)}" if failed else "")
    )
    sys.exit(1 if failed else 0)


@click.command(name="lr-find")
@click.argument("spec", type=click.Path(path_type=Path))
@click.option(
    "--low",
    type=click.FloatRange(min=0, min_open=True),
    default=1e-6,
    show_default=True,
    help="First learning rate of the sweep.",
)
@click.option(
    "--high",
    type=click.FloatRange(min=0, min_open=True),
    default=1.0,
    show_default=True,
    help="Last learning rate of the sweep.",
)
@click.option(
    "--steps",
    type=click.IntRange(min=10, max=100_000),
    default=100,
    show_default=True,
    help="Mini-batches of the sweep (one optimizer step each).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    default=Path("lr_find.png"),
    show_default=True,
    help="The plot: loss against learning rate.",
)
@click.option(
    "--write",
    is_flag=True,
    help="Write the suggested rate into the spec (training.optimizer.learning_rate), "
    "keeping its comments and layout.",
)
def lr_find(spec: Path, low: float, high: float, steps: int, output: Path, write: bool) -> None:
    """Learning-rate range test: the rate grows exponentially per mini-batch while the loss is
    recorded; prints the suggested rate (steepest descent of the smoothed loss, with the
    minimum/10 rule beside it) and plots the curve."""
    from specc.atomic import write_text
    from specc.recipe.harness import open_harness
    from specc.recipe.lrfind import lr_find as run
    from specc.recipe.lrfind import plot
    from specc.search.edit import set_values

    from .common import compile_or_exit
    from .outpaths import OutputPathError, check_output_file

    if low >= high:
        click.echo(f"error: --low {low:g} must be below --high {high:g}", err=True)
        sys.exit(2)
    compiled = compile_or_exit(spec)
    try:
        check_output_file(output)
    except OutputPathError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    with _quiet_native(), open_harness(compiled) as harness:
        try:
            result = run(harness, low=low, high=high, steps=steps)
        except ValueError as exc:
            click.echo(f"error: {spec}: {exc}", err=True)
            sys.exit(1)
    plot(result, output, compiled.spec.name)
    current = compiled.spec.training.optimizer.learning_rate
    click.echo(
        f"swept {len(result.smoothed)} steps from {low:.2g} to {result.rates[-1]:.2g} "
        f"({result.stopped})"
    )
    steepest = f"{result.steepest:.3g}" if result.steepest is not None else "none"
    click.echo(f"steepest descent: {steepest}; minimum/10: {result.min_over_10:.3g}")
    for note in result.notes:
        click.echo(f"note: {note}")
    click.echo(
        f"suggested learning rate: {result.suggestion:.3g} ({result.rule}); the spec has "
        f"{current:g}; plot: {output}"
    )
    if write:
        loaded = compiled.loaded
        value = float(f"{result.suggestion:.3g}")
        text = set_values(
            loaded.text,
            {("training", "optimizer", "learning_rate"): value},
            {("training", "optimizer", "type"): compiled.spec.training.optimizer.type},
        )
        write_text(loaded.path, text)
        click.echo(f"wrote training.optimizer.learning_rate: {value:g} into {loaded.path}")


def register(cli: click.Group) -> None:
    cli.add_command(check)
    cli.add_command(lr_find)
