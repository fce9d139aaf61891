"""Measure ONNX models side by side: the figures of every stage a build's passes produce.

One row per model (`StageFigures`): weights and non-zero weights counted in the ONNX
initializers, file size raw and gzipped, onnxruntime p50 latency on the CPU provider at each
batch size (the models timed in alternating rounds, so changes in machine load hit them alike)
and the test metrics computed with numpy from the outputs on the build's test split.

Passes use it for their own sections (`prune`, `distill`, `quantize`) and the build for its
closing comparison table (`stages_markdown`), so every table of figures is measured one way.
"""

from __future__ import annotations

import gzip
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "StageFigures",
    "gzip_size",
    "latency",
    "load_test_split",
    "measure_stages",
    "stages_markdown",
    "tile",
    "weight_counts",
]

_WEIGHT_TYPES = ("float16", "float32", "float64", "int8", "uint8")
"""Initializer element types counted as weights; int32/int64 initializers are shapes and axes."""


@dataclass(frozen=True)
class StageFigures:
    """The figures of one model in a side-by-side comparison."""

    name: str
    file: str
    """The ONNX file, relative to the build folder."""
    weights: int
    """Elements of the weight initializers (float and int8 tensors)."""
    nonzero: int
    """Of those, the elements that are not exactly zero."""
    size_bytes: int
    gzip_bytes: int
    latency_ms: dict[str, float] = field(default_factory=dict)
    """`batch_<n>` -> p50 milliseconds per call on the CPU provider."""
    test: dict[str, float] = field(default_factory=dict)
    """Test-split metrics of the model's outputs."""

    @property
    def sparsity(self) -> float:
        return 1.0 - self.nonzero / self.weights if self.weights else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "sparsity": self.sparsity}


def weight_counts(path: str | Path) -> tuple[int, int]:
    """(weights, non-zero weights) over the weight initializers of an ONNX model."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(path))
    total = nonzero = 0
    graphs = [model.graph]
    while graphs:  # initializers of subgraphs (Loop/If bodies) hold weights too
        graph = graphs.pop()
        for tensor in graph.initializer:
            kind = np.dtype(onnx.helper.tensor_dtype_to_np_dtype(tensor.data_type))
            if kind.name not in _WEIGHT_TYPES:
                continue
            values = numpy_helper.to_array(tensor)
            total += int(values.size)
            nonzero += int(np.count_nonzero(values))
        for node in graph.node:
            graphs += [a.g for a in node.attribute if a.type == onnx.AttributeProto.GRAPH]
    return total, nonzero


def gzip_size(path: str | Path) -> int:
    """Bytes of the file once gzipped (level 9): what zeros in the weights save on the wire."""
    return len(gzip.compress(Path(path).read_bytes(), compresslevel=9, mtime=0))


def load_test_split(build_dir: str | Path) -> dict[str, np.ndarray]:
    """The build's held-out `test_data.npz`: its inputs by name and the targets as `y`."""
    with np.load(Path(build_dir) / "test_data.npz", allow_pickle=False) as data:
        return {k: np.asarray(data[k]) for k in data.files}


def tile(arrays: Mapping[str, np.ndarray], n: int) -> dict[str, np.ndarray]:
    """The first `n` rows of each array, repeated from the start when it has fewer."""
    out = {}
    for k, v in arrays.items():
        reps = -(-n // v.shape[0])
        out[k] = np.ascontiguousarray(np.concatenate([v] * reps)[:n] if reps > 1 else v[:n])
    return out


def latency(
    engines: Mapping[str, Callable[[Any], Any]],
    feed: Any,
    repeat: int,
    budget_s: float | None,
) -> dict[str, Any]:
    """Interleaved timing of several engines on the same feed: p50/p99 ms each, and the number
    of timed calls. With `budget_s`, the calls are cut (to no fewer than 3 each) so that all of
    them together take about that long, judged from one warm-up round."""
    from specc.runtime.bench import interleaved

    for run in engines.values():  # first calls allocate; the second round is representative
        run(feed)
    warm = time.perf_counter()
    for run in engines.values():
        run(feed)
    if budget_s is not None:
        per_round = max(time.perf_counter() - warm, 1e-6)
        repeat = max(3, min(repeat, int(budget_s / per_round)))
    samples = interleaved(dict(engines), feed, repeat, warmup=0)
    timings: dict[str, Any] = {
        name: {
            "p50_ms": float(np.percentile(s, 50) * 1e3),
            "p99_ms": float(np.percentile(s, 99) * 1e3),
        }
        for name, s in samples.items()
    }
    timings["calls"] = int(repeat)
    return timings


def measure_stages(
    models: Mapping[str, str | Path],
    build_dir: str | Path,
    test: Mapping[str, np.ndarray],
    *,
    batches: tuple[int, ...] = (1, 1024),
    repeat: int = 50,
    budget_s: float | None = 0.5,
) -> list[StageFigures]:
    """Measure each ONNX model of `models` (row name -> file relative to `build_dir`) on the
    test split `test` (its inputs by name and the targets as `y`), in the order given. Test metrics
    are computed one example per call (as a model serves requests), latency at each batch size."""
    from specc.runtime.evaluate import task_metrics
    from specc.runtime.predictor import load

    build = Path(build_dir)
    predictors = {
        name: load(build / file, "cpu", batch_size=max(batches), check_build=False)
        for name, file in models.items()
    }
    outputs = {}
    for name, file in models.items():
        # one example per call, as the quantize pass measures: dynamic int8 quantization scales
        # activations per call, so a model's outputs can depend on what shares its batch
        p = load(build / file, "cpu", batch_size=1, check_build=False)
        inputs = {n: np.asarray(test[n]) for n in p.input_names}
        task = p.metadata.task
        out = p.run(inputs)[p.output_names[0]]
        outputs[name] = (
            task_metrics(task, np.asarray(test["y"]), out, p.metadata.threshold) if task else {}
        )
    speeds: dict[str, dict[str, float]] = {name: {} for name in models}
    # engines that take the same inputs are timed together, in alternating rounds
    first = next(iter(predictors.values()))
    typed = {s.name: np.asarray(test[s.name]).astype(s.dtype) for s in first.inputs}
    for batch in batches:
        feed = tile(typed, batch)
        reps = repeat if batch == 1 else max(5, repeat // 10)
        timed = latency({n: p.run for n, p in predictors.items()}, feed, reps, budget_s)
        for name in models:
            speeds[name][f"batch_{batch}"] = timed[name]["p50_ms"]
    rows = []
    for name, file in models.items():
        weights, nonzero = weight_counts(build / file)
        rows.append(
            StageFigures(
                name=name,
                file=str(file),
                weights=weights,
                nonzero=nonzero,
                size_bytes=(build / file).stat().st_size,
                gzip_bytes=gzip_size(build / file),
                latency_ms=speeds[name],
                test=outputs[name],
            )
        )
    return rows


def _kib(n: int) -> str:
    return f"{n / 1024:,.1f}"


def stages_markdown(rows: list[StageFigures], metric: str, *, heading: str = "## Stages") -> str:
    """A table of the rows side by side, the headline test metric last."""
    batches = sorted({b for r in rows for b in r.latency_ms}, key=lambda b: int(b.split("_")[1]))
    head = [
        "stage",
        "file",
        "weights",
        "non-zero",
        "ONNX KiB",
        "gzip KiB",
        *[f"ms @ batch {b.split('_')[1]}" for b in batches],
        f"test {metric}",
    ]
    lines = [heading, "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        value = r.test.get(metric)
        cells = [
            r.name,
            f"`{r.file}`",
            f"{r.weights:,}",
            f"{r.nonzero:,}",
            _kib(r.size_bytes),
            _kib(r.gzip_bytes),
            *[f"{r.latency_ms[b]:.3f}" if b in r.latency_ms else "-" for b in batches],
            f"{value:.4f}" if isinstance(value, float) else "-",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        "Weights and non-zero weights are counted in the ONNX initializers; latency is the "
        "median onnxruntime call on the CPU provider, the models timed in alternating rounds. "
        "Zeros left by unstructured pruning shrink the gzipped file, not the latency: "
        "onnxruntime runs dense kernels.",
    ]
    return "\n".join(lines) + "\n"
