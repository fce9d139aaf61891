"""`specc predict`, `specc bench` and `specc quantize`: click commands over `specc.runtime`.

`register(cli)` adds the three commands to the main group. This module imports only click at
import time; onnxruntime, onnx and TensorFlow are imported inside the commands. Errors are
printed as `error: <message>` on stderr: exit code 2 for bad input (missing files, wrong shapes,
unknown columns, NaN/inf inputs, empty or corrupt input and model files, an unusable device,
an unwritable `-o`), 1 when quantization loses too much accuracy or fails.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

__all__ = ["CommandError", "register"]

DEVICE = click.Choice(["auto", "cpu", "gpu"], case_sensitive=False)


class CommandError(click.ClickException):
    """A clean `error: <message>` on stderr with the given exit code (2: bad input)."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


def _friendly(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn the runtime's errors into `CommandError`s (no tracebacks)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from specc.runtime.errors import QuantizationError, SpeccRuntimeError

        try:
            return fn(*args, **kwargs)
        except QuantizationError as exc:
            raise CommandError(str(exc), exit_code=1) from exc
        except SpeccRuntimeError as exc:
            raise CommandError(str(exc)) from exc
        except (OSError, ValueError, EOFError) as exc:  # EOFError: click would say "Aborted!"
            raise CommandError(str(exc) or type(exc).__name__) from exc

    return wrapper


def _json(report: dict[str, Any]) -> str:
    import json

    return json.dumps(report, indent=2)


def _batches(_ctx: click.Context, _param: click.Parameter, value: str) -> list[int]:
    try:
        sizes = [int(v) for v in value.replace(" ", "").split(",") if v]
    except ValueError:
        raise click.BadParameter(f"expected comma-separated integers, got {value!r}") from None
    if not sizes or min(sizes) < 1:
        raise click.BadParameter("batch sizes must be positive integers")
    return sizes


@click.command("predict")
@click.argument("model", type=click.Path(path_type=Path))
@click.argument("input_file", metavar="INPUT", type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    help="Write predictions to a .csv or .json file (default: CSV on stdout).",
)
@click.option(
    "--device",
    type=DEVICE,
    default="auto",
    show_default=True,
    help="auto: the GPU when usable, else the CPU; gpu needs `pip install 'specc[gpu]'`.",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=4096,
    show_default=True,
    help="Rows per onnxruntime call; larger inputs run in chunks.",
)
@click.option("--threads", type=click.IntRange(min=1), help="CPU threads (default: cores).")
@click.option(
    "--allow-nonfinite",
    is_flag=True,
    help="Predict even when inputs hold NaN or inf (refused by default: the outputs would be NaN).",
)
@_friendly
def predict_cmd(
    model: Path,
    input_file: Path,
    output: Path | None,
    device: str,
    batch_size: int,
    threads: int | None,
    allow_nonfinite: bool,
) -> None:
    """Predict with MODEL (a .onnx file or a build folder) on INPUT (.npy, .npz or .csv).

    A CSV needs a header row with the model's feature columns (any order, extra columns are
    ignored; without feature names in the model, the header is optional); an .npz holds one
    array per model input, keyed by input name. NaN or inf inputs are refused unless
    --allow-nonfinite.
    """
    from specc.runtime.files import OUTPUT_SUFFIXES, write_predictions
    from specc.runtime.predictor import load

    from .outpaths import check_output_file

    if output is not None:
        if output.suffix.lower() not in OUTPUT_SUFFIXES:
            raise CommandError(
                f"cannot tell the output format from `{output.name}`; use .csv or .json"
            )
        check_output_file(output)
    if not input_file.exists():
        raise CommandError(f"input file not found: {input_file}")
    predictor = load(model, device.lower(), batch_size=batch_size, intra_op_threads=threads)
    prediction = predictor.predict_file(input_file, allow_nonfinite=allow_nonfinite)
    text = write_predictions(prediction, predictor, output)
    where = "stdout" if output is None else str(output)
    note = f"; {predictor.info.note}" if predictor.info.note and device.lower() != "cpu" else ""
    if text is not None:
        click.echo(text, nl=False)
    click.echo(
        f"{len(prediction)} predictions -> {where} ({predictor.provider}{note})",
        err=True,
    )


@click.command("bench")
@click.argument("model", type=click.Path(path_type=Path))
@click.option(
    "--batch",
    "batches",
    default="1,32,1024",
    show_default=True,
    callback=_batches,
    help="Comma-separated batch sizes.",
)
@click.option(
    "--device",
    type=DEVICE,
    default="auto",
    show_default=True,
    help="auto: the GPU when usable, else the CPU; gpu needs `pip install 'specc[gpu]'`.",
)
@click.option(
    "--repeat", type=click.IntRange(min=1), default=50, show_default=True, help="Timed calls."
)
@click.option(
    "--warmup",
    type=click.IntRange(min=0),
    default=5,
    show_default=True,
    help="Untimed calls before timing.",
)
@click.option("--threads", type=click.IntRange(min=1), help="CPU threads for onnxruntime.")
@click.option("--no-keras", is_flag=True, help="Time onnxruntime alone.")
@click.option(
    "--trust",
    is_flag=True,
    help="Import the build's generated code (for the Keras side) even when it is not the code "
    "metrics.json records by hash.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@_friendly
def bench_cmd(
    model: Path,
    batches: list[int],
    device: str,
    repeat: int,
    warmup: int,
    threads: int | None,
    no_keras: bool,
    trust: bool,
    as_json: bool,
) -> None:
    """Latency (p50/p99) and throughput of MODEL under onnxruntime, beside the Keras model of
    the same build folder (eager call and tf.function). With a bare .onnx file, onnxruntime
    runs alone."""
    import os

    from specc.builder.nativelog import native_stderr_to
    from specc.builder.progress import Progress
    from specc.runtime.bench import bench_model, format_table
    from specc.runtime.metadata import resolve_model_path

    resolve_model_path(model)
    # TensorFlow's C++ start-up notes (CUDA probes, cuInit on a CPU machine) would flood the
    # terminal: native stderr goes nowhere while the models load and run, as `build` does with
    # build.log; errors still arrive as Python exceptions, shown after stderr is back.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with native_stderr_to(Path(os.devnull), Progress(quiet=True)):
        report = bench_model(
            model,
            batches=batches,
            device=device.lower(),
            repeat=repeat,
            warmup=warmup,
            keras=not no_keras,
            intra_op_threads=threads,
            trust=trust,
        )
    if as_json:
        click.echo(_json(report))
    else:
        click.echo(format_table(report))


@click.command("quantize")
@click.argument("build_dir", type=click.Path(path_type=Path))
@click.option(
    "--mode", type=click.Choice(["dynamic", "static"]), default="dynamic", show_default=True
)
@click.option(
    "--max-drop",
    type=click.FloatRange(min=0.0),
    default=0.01,
    show_default=True,
    help="Largest allowed fall of test accuracy (regression: R^2) from float to int8.",
)
@click.option(
    "--calibration-samples",
    type=click.IntRange(min=1),
    default=256,
    show_default=True,
    help="Training examples from calib_data.npz used by --mode static.",
)
@click.option(
    "--latency-repeat",
    type=click.IntRange(min=5),
    default=200,
    show_default=True,
    help="Timed calls per model at batch 1 (batch 1024 gets a tenth).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as JSON.")
@_friendly
def quantize_cmd(
    build_dir: Path,
    mode: str,
    max_drop: float,
    calibration_samples: int,
    latency_repeat: int,
    as_json: bool,
) -> None:
    """Quantize BUILD_DIR/model.onnx to int8 (BUILD_DIR/model.int8.onnx) and compare size, test
    metrics and latency with the float model in metrics.json and report.md. Exits with 1, and
    writes no model.int8.onnx, when the test metric drops more than --max-drop."""
    from specc.passes.quantize import quantize_build
    from specc.passes.quantize_report import END, START, quantization_markdown

    if not build_dir.is_dir():
        raise CommandError(f"not a build folder: {build_dir}")
    for needed in ("model.onnx", "test_data.npz"):
        if not (build_dir / needed).is_file():
            raise CommandError(f"no {needed} in {build_dir} (run `specc build` first)")
    if mode == "static" and not (build_dir / "calib_data.npz").is_file():
        raise CommandError(
            f"--mode static needs calibration inputs, {build_dir / 'calib_data.npz'}, which a "
            "build writes only for a spec with a static quantize pass: add `- quantize: {mode: "
            "static}` to the spec's `passes` and build again (or use --mode dynamic)"
        )
    report = quantize_build(
        build_dir, mode, max_drop, calibration_samples, latency_repeat=latency_repeat
    )
    if as_json:
        click.echo(_json(report))
        return
    text = quantization_markdown(report).replace(START + "\n", "").replace(END + "\n", "")
    click.echo(text.rstrip("\n"))
    click.echo(f"wrote {build_dir / report['file']}; updated metrics.json and report.md")


def register(cli: click.Group) -> None:
    """Add `predict`, `bench` and `quantize` to the main command group."""
    cli.add_command(predict_cmd, "predict")
    cli.add_command(bench_cmd, "bench")
    cli.add_command(quantize_cmd, "quantize")
