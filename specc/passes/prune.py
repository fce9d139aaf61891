"""The `prune` pass: gradual magnitude pruning while training, measured on the exported model.

What pruning does to training is code in the generated `train.py` (`codegen/prune_code.py`,
`templates/train/prune.py.j2`): masks on the kernels of the pruned layers, the sparsity raised on
the schedule, the zeros kept by a constraint after every optimizer step and once more after
`fit`. This module runs after the verified export and measures what that produced, from
`model.onnx` alone (the Keras model may not be kept):

1. the sparsity of each pruned layer's kernel, counted in the ONNX initializer that the layer's
   MatMul/Gemm/Conv node reads, and over all pruned kernels;
2. the model's weights and non-zero weights, ONNX size raw and gzipped, onnxruntime latency at
   batch 1 and 1024 and the test metrics (`measure.measure_stages`), side by side with the model
   trained without the pass when the build has one (`baseline/model.onnx`);
3. fail (`PassError`, with the figures) when a pruned kernel is missing from the ONNX graph or
   the sparsity over the pruned kernels is below the target by more than rounding allows.

Zeros left by unstructured pruning make the file compress, not run faster: onnxruntime has no
sparse kernels, and the report says so rather than claim a speed-up.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from specc.spec.checks_prune import pruned_layers, skipped_layers

from .base import PassContext, PassError, PassInfo, PassResult, Phase
from .measure import measure_stages, stages_markdown

__all__ = ["PASS", "kernel_sparsity", "run"]

_KERNEL_OPS = {"MatMul": 1, "Gemm": 1, "Conv": 1, "ConvTranspose": 1}
"""ONNX op -> index of its weight input."""
BASELINE = "baseline/model.onnx"
"""The model trained without the training passes (`specc build --compare`), when present."""
SLACK = 1e-6


def _layer_of(node_name: str, layers: list[str]) -> str | None:
    """The pruned layer whose name scope holds the ONNX node: a path component equal to the
    layer name, or to the name with the `_<n>` suffix Keras adds when it traces a model again;
    the longest layer name wins (`dense_1` over `dense`)."""
    parts = node_name.split("/")
    found = [
        layer
        for layer in layers
        for part in parts
        if part == layer or re.fullmatch(re.escape(layer) + r"_\d+", part)
    ]
    return max(found, key=len) if found else None


def kernel_sparsity(path: str | Path, layers: list[str]) -> dict[str, dict[str, int]]:
    """Layer name -> {"weights", "zeros"} of the kernel its MatMul/Gemm/Conv node reads from
    the initializers of the ONNX model at `path`; layers not found are left out."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(path)).graph
    initializers = {t.name: t for t in graph.initializer}
    counts: dict[str, dict[str, int]] = {}
    for node in graph.node:
        index = _KERNEL_OPS.get(node.op_type)
        if index is None or len(node.input) <= index or node.input[index] not in initializers:
            continue
        layer = _layer_of(node.name or node.output[0], layers)
        if layer is None or layer in counts:
            continue
        values = numpy_helper.to_array(initializers[node.input[index]])
        counts[layer] = {
            "weights": int(values.size),
            "zeros": int(values.size) - int(np.count_nonzero(values)),
        }
    return counts


def _test_split(build: Path) -> dict[str, np.ndarray]:
    with np.load(build / "test_data.npz", allow_pickle=False) as data:
        return {k: np.asarray(data[k]) for k in data.files}


def _measure(context: PassContext) -> dict[str, Any]:
    from specc.runtime.evaluate import headline_metric

    spec, settings, build = context.spec, context.settings, context.build_dir
    targets = pruned_layers(spec, settings)
    found = kernel_sparsity(build / "model.onnx", list(targets))
    layers = {
        name: {
            "target": target,
            **found[name],
            "sparsity": found[name]["zeros"] / max(found[name]["weights"], 1),
        }
        for name, target in targets.items()
        if name in found
    }
    weights = sum(v["weights"] for v in layers.values())
    zeros = sum(v["zeros"] for v in layers.values())
    # each kernel prunes round(sparsity * size) weights: up to half a weight fewer than exact
    target = sum(v["target"] * v["weights"] for v in layers.values()) / max(weights, 1)
    tolerance = 0.5 * len(layers) / max(weights, 1) + SLACK
    models = {"pruned": "model.onnx"}
    if (build / BASELINE).is_file():
        models = {"without pruning": BASELINE, **models}
    rows = measure_stages(models, build, _test_split(build))
    return {
        "structured": settings.structured,
        "schedule": settings.schedule,
        "start_epoch": settings.start_epoch,
        "end_fraction": settings.end_fraction,
        "target_sparsity": settings.target_sparsity,
        "skipped": skipped_layers(spec, settings),
        "layers": layers,
        "missing": [name for name in targets if name not in found],
        "pruned_weights": weights,
        "pruned_zeros": zeros,
        "sparsity": zeros / max(weights, 1),
        "target": target,
        "tolerance": tolerance,
        "metric": headline_metric(spec.task.type),
        "models": {row.name: row.to_dict() for row in rows},
        "_rows": rows,
    }


def _markdown(report: dict[str, Any], failure: str | None) -> str:
    metric = report["metric"]
    lines = [
        "## Pruning",
        "",
        f"Unstructured magnitude pruning ({report['schedule']} schedule from epoch "
        f"{report['start_epoch']}, target reached after {report['end_fraction']:.0%} of training)"
        f": {report['pruned_zeros']:,} of the {report['pruned_weights']:,} weights of the pruned "
        f"kernels are zero in `model.onnx` (sparsity {report['sparsity']:.2%}, target "
        f"{report['target']:.2%}). Biases and the skipped layers "
        f"({', '.join(f'`{s}`' for s in report['skipped']) or 'none'}) stay dense.",
        "",
    ]
    if failure:
        lines += [f"**Failed:** {failure}", ""]
    lines += ["| layer | weights | zeros | sparsity | target |", "|---|---|---|---|---|"]
    for name, v in report["layers"].items():
        lines.append(
            f"| `{name}` | {v['weights']:,} | {v['zeros']:,} | {v['sparsity']:.2%} | "
            f"{v['target']:.0%} |"
        )
    for name in report["missing"]:
        lines.append(f"| `{name}` | not found in model.onnx | - | - | - |")
    lines += [
        "",
        stages_markdown(report["_rows"], metric, heading="### The pruned model").rstrip(),
    ]
    return "\n".join(lines) + "\n"


def _result(report: dict[str, Any], failure: str | None) -> PassResult:
    model = report["models"]["pruned"]
    value = model["test"].get(report["metric"])
    shown = f"; test {report['metric']} {value:.4f}" if isinstance(value, float) else ""
    metrics = {k: v for k, v in report.items() if not k.startswith("_")}
    return PassResult(
        kind="prune",
        passed=failure is None,
        modified=failure is None,
        metrics={**metrics, "passed": failure is None, "failure": failure},
        markdown=_markdown(report, failure),
        summary=f"sparsity {report['sparsity']:.2%} of the pruned kernels{shown}",
    )


def run(context: PassContext) -> PassResult:
    """Measure the pruned `model.onnx`; fail when it is less sparse than the spec asks."""
    report = _measure(context)
    failure = None
    if report["missing"]:
        failure = (
            "the kernels of "
            + ", ".join(f"`{m}`" for m in report["missing"])
            + " were not found in model.onnx, so their sparsity cannot be checked"
        )
    elif report["sparsity"] < report["target"] - report["tolerance"]:
        failure = (
            f"the pruned kernels are {report['sparsity']:.2%} zeros in model.onnx, below the "
            f"target {report['target']:.2%}"
        )
    result = _result(report, failure)
    if failure is not None:
        raise PassError("prune", failure, result=result)
    return result


PASS = PassInfo(
    kind="prune",
    phase=Phase.TRAINING,
    reads=("model.onnx", "test_data.npz"),
    writes=(),
    description="gradual magnitude pruning while training, measured in the exported model",
    run=run,
)
