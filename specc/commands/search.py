"""`specc search`: a random (or TPE) search over values of a spec, on Optuna."""

from __future__ import annotations

import sys
from pathlib import Path

import click

__all__ = ["register"]


@click.command()
@click.argument("search_file", type=click.Path(path_type=Path))
@click.option(
    "--trials", type=click.IntRange(min=1), help="Trials in the study (default: the file's)."
)
@click.option(
    "--timeout", type=click.FloatRange(min=0, min_open=True), help="Seconds to start trials for."
)
@click.option(
    "--storage",
    help="Optuna storage URL shared by several workers (default: SQLite in the search folder).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    help="Search folder (default: search/<name>).",
)
@click.option("--quiet", "-q", is_flag=True, help="Print only the result.")
def search(
    search_file: Path,
    trials: int | None,
    timeout: float | None,
    storage: str | None,
    output: Path | None,
    quiet: bool,
) -> None:
    """Search values of a spec (a search file names the spec and the distributions); each
    trial is built like `specc build`. Running it again resumes the study; several workers on
    one `--storage` share it. Writes results.csv, search.png and importances.json into the search
    folder and the best trial's spec beside the spec (`<spec>.best.yaml`)."""
    from specc.search.config import load_search
    from specc.search.run import best_spec_path, default_search_dir, run_search
    from specc.spec import SpecErrors

    from .common import EXIT_INVALID, report_spec_errors

    try:
        loaded = load_search(search_file)
    except SpecErrors as errors:
        report_spec_errors(errors)
        sys.exit(EXIT_INVALID)
    folder = output if output is not None else default_search_dir(loaded)
    say = (lambda _: None) if quiet else (lambda text: click.echo(text, err=True))
    try:
        summary = run_search(
            loaded, folder, trials=trials, timeout=timeout, storage=storage, say=say
        )
    except KeyboardInterrupt:
        click.echo(
            "interrupted: the study keeps every finished trial; run again to resume", err=True
        )
        sys.exit(130)
    except Exception as exc:  # a storage that cannot be opened, say
        from specc.excinfo import reason

        click.echo(f"error: {search_file}: {reason(exc)}", err=True)
        sys.exit(1)
    states = [t["state"] for t in summary.trials]
    counts = ", ".join(
        f"{states.count(s)} {s}" for s in ("complete", "pruned", "fail") if s in states
    )
    if summary.best is None:
        click.echo(f"{folder}: no completed trial ({counts or 'no trials'})")
        sys.exit(1)
    best = summary.best
    click.echo(
        f"{folder}: best {loaded.split}.{loaded.metric} {best['value']:.4f} (trial "
        f"{best['number']}; {counts}); its spec: {best_spec_path(loaded)}"
    )


def register(cli: click.Group) -> None:
    cli.add_command(search)
