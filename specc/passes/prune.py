"""The `prune` pass: gradual magnitude pruning while training, measured on the exported model.

What pruning does to training is code in the generated `train.py` (`codegen/prune_code.py`,
`templates/train/prune.py.j2`): masks on the kernels of the pruned layers (on whole units and
filters with `structured: true`, then the network rebuilt without them), the sparsity raised on
the schedule, the zeros kept by a constraint after every optimizer step and once more after
`fit`. This module runs after the verified export and measures what that produced, from
`model.onnx` alone (the Keras model may not be kept):

1. each pruned layer's kernel, found as the ONNX initializer its MatMul/Gemm/Conv node reads:
   its weights and zeros (unstructured) or its width (structured: units or filters left);
2. the model's weights and non-zero weights, ONNX size raw and gzipped, onnxruntime latency at
   batch 1 and 1024 and the test metrics (`measure.measure_stages`), side by side with the model
   trained without the pass when the build has one (`baseline/model.onnx`);
3. fail (`PassError`, with the figures) when a pruned kernel is missing from the ONNX graph or
   the pruned fraction is below the target by more than rounding allows;
4. with `structured: true`, write `spec.pruned.yaml` (`pruned_spec.py`): the narrower network
   as a spec of its own, its widths read from `model.onnx`.

Zeros left by unstructured pruning make the file compress, not run faster: onnxruntime has no
sparse kernels, and the report (`prune_report.py`) says so rather than claim a speed-up.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from specc.spec.checks_prune import PRUNABLE, pruned_layers, skipped_layers
from specc.spec.names import layer_names

from .base import PassContext, PassError, PassInfo, PassResult, Phase
from .measure import load_test_split, measure_stages
from .prune_report import prune_result
from .pruned_spec import NAME, pruned_spec_text

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
    """Layer name -> {"weights", "zeros", "units"} of the kernel its MatMul/Gemm/Conv node reads
    from the initializers of the ONNX model at `path` (units: output width, filters of a conv);
    layers not found are left out."""
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
        transposed = node.op_type == "Gemm" and any(
            a.name == "transB" and a.i for a in node.attribute
        )
        units = values.shape[0] if node.op_type == "Conv" or transposed else values.shape[-1]
        counts[layer] = {
            "weights": int(values.size),
            "zeros": int(values.size) - int(np.count_nonzero(values)),
            "units": int(units),
        }
    return counts


def _widths(spec: Any) -> dict[str, int]:
    """Layer name -> units (dense) or filters (conv) as the spec gives them."""
    return {
        name: getattr(layer, "units", None) or getattr(layer, "filters", 0)
        for name, layer in zip(layer_names(spec), spec.model.layers, strict=True)
        if layer.type in PRUNABLE
    }


def _layer_figures(name: str, target: float, kernel: dict[str, int], width: int) -> dict:
    """One pruned layer's figures: weights and zeros of its kernel; units before and after."""
    return {
        "target": target,
        **kernel,
        "sparsity": kernel["zeros"] / max(kernel["weights"], 1),
        "units_before": width,
        "removed": 1.0 - kernel["units"] / max(width, 1),
    }


def _measure(context: PassContext) -> dict[str, Any]:
    from specc.runtime.evaluate import headline_metric

    spec, settings, build = context.spec, context.settings, context.build_dir
    targets = pruned_layers(spec, settings)
    found = kernel_sparsity(build / "model.onnx", list(targets))
    widths = _widths(spec)
    layers = {
        name: _layer_figures(name, target, found[name], widths[name])
        for name, target in targets.items()
        if name in found
    }
    # what is pruned: single weights, or whole units (structured); a layer prunes round(s * n)
    # of its n, up to half of one fewer than exact
    if settings.structured:
        amounts = {k: v["units_before"] for k, v in layers.items()}
        pruned = {k: v["units_before"] - v["units"] for k, v in layers.items()}
    else:
        amounts = {k: v["weights"] for k, v in layers.items()}
        pruned = {k: v["zeros"] for k, v in layers.items()}
    total = max(sum(amounts.values()), 1)
    models = {"pruned": "model.onnx"}
    if (build / BASELINE).is_file():
        models = {"without pruning": BASELINE, **models}
    rows = measure_stages(models, build, load_test_split(build))
    return {
        "structured": settings.structured,
        "schedule": settings.schedule,
        "start_epoch": settings.start_epoch,
        "end_fraction": settings.end_fraction,
        "target_sparsity": settings.target_sparsity,
        "skipped": skipped_layers(spec, settings),
        "layers": layers,
        "missing": [name for name in targets if name not in found],
        "pruned_weights": sum(v["weights"] for v in layers.values()),
        "pruned_zeros": sum(v["zeros"] for v in layers.values()),
        "unit": "units" if settings.structured else "weights",
        "sparsity": sum(pruned.values()) / total,
        "target": sum(layers[k]["target"] * n for k, n in amounts.items()) / total,
        "tolerance": 0.5 * len(layers) / total + SLACK,
        "metric": headline_metric(spec.task.type),
        "models": {row.name: row.to_dict() for row in rows},
        "_rows": rows,
    }


def _failure(report: dict[str, Any]) -> str | None:
    """Why the pass fails, or None: a pruned kernel missing, or less pruned than the target."""
    if report["missing"]:
        missing = ", ".join(f"`{m}`" for m in report["missing"])
        return f"the kernels of {missing} were not found in model.onnx, so they cannot be checked"
    if report["sparsity"] < report["target"] - report["tolerance"]:
        return (
            f"{report['sparsity']:.2%} of the pruned layers' {report['unit']} are pruned in "
            f"model.onnx, below the target {report['target']:.2%}"
        )
    return None


def run(context: PassContext) -> PassResult:
    """Measure the pruned `model.onnx` (with structured pruning, write `spec.pruned.yaml`); fail
    when it is less pruned than the spec asks."""
    from specc.atomic import write_text

    report = _measure(context)
    failure = _failure(report)
    artifacts: tuple[str, ...] = ()
    if context.settings.structured and failure is None:
        widths = {name: v["units"] for name, v in report["layers"].items()}
        text = pruned_spec_text(context.spec, widths, context.spec.name)
        write_text(context.build_dir / NAME, text)
        artifacts = (NAME,)
    result = prune_result(report, failure, artifacts)
    if failure is not None:
        raise PassError("prune", failure, result=result)
    return result


PASS = PassInfo(
    kind="prune",
    phase=Phase.TRAINING,
    reads=("model.onnx", "test_data.npz"),
    writes=(NAME,),
    description="gradual magnitude pruning while training, measured in the exported model",
    run=run,
)
