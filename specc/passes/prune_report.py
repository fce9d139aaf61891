"""The `prune` pass's result: its section of `report.md` and of `metrics.json`, its summary.

The section says what was pruned and how far (per layer: weights and zeros of the kernel, and
for structured pruning the units or filters before and after), then the model's figures
measured on the test split (`measure.stages_markdown`), and plainly what the zeros buy: with
unstructured pruning a smaller gzipped file, not a faster onnxruntime model.
"""

from __future__ import annotations

from typing import Any

from .base import PassResult
from .measure import stages_markdown

__all__ = ["prune_markdown", "prune_result"]


def _skipped(report: dict[str, Any]) -> str:
    return ", ".join(f"`{s}`" for s in report["skipped"]) or "none"


def _intro(report: dict[str, Any]) -> str:
    when = (
        f"{report['schedule']} schedule from epoch {report['start_epoch']}, target reached "
        f"after {report['end_fraction']:.0%} of training"
    )
    if report["structured"]:
        return (
            f"Structured pruning ({when}): {report['sparsity']:.2%} of the units and filters of "
            f"the pruned layers were removed (target {report['target']:.2%}, smallest L1 norm "
            "first), and the network was rebuilt without them: `model.onnx` is the narrower "
            "network, and `spec.pruned.yaml` describes it as a spec. The skipped layers "
            f"({_skipped(report)}) keep their width."
        )
    return (
        f"Unstructured magnitude pruning ({when}): {report['pruned_zeros']:,} of the "
        f"{report['pruned_weights']:,} weights of the pruned kernels are zero in `model.onnx` "
        f"(sparsity {report['sparsity']:.2%}, target {report['target']:.2%}). Biases and the "
        f"skipped layers ({_skipped(report)}) stay dense. The zeros make the file compress "
        "(gzip), they do not make it run faster: onnxruntime multiplies dense kernels, zeros "
        "included, so the latency is that of the dense model."
    )


def _table(report: dict[str, Any]) -> list[str]:
    if report["structured"]:
        lines = [
            "| layer | units before | units after | removed | target |",
            "|---|---|---|---|---|",
        ]
        for name, v in report["layers"].items():
            lines.append(
                f"| `{name}` | {v['units_before']:,} | {v['units']:,} | {v['removed']:.2%} | "
                f"{v['target']:.0%} |"
            )
    else:
        lines = ["| layer | weights | zeros | sparsity | target |", "|---|---|---|---|---|"]
        for name, v in report["layers"].items():
            lines.append(
                f"| `{name}` | {v['weights']:,} | {v['zeros']:,} | {v['sparsity']:.2%} | "
                f"{v['target']:.0%} |"
            )
    return lines + [
        f"| `{name}` | not found in model.onnx | - | - | - |" for name in report["missing"]
    ]


def prune_markdown(report: dict[str, Any], failure: str | None) -> str:
    """The `## Pruning` section of `report.md`."""
    lines = ["## Pruning", "", _intro(report), ""]
    if failure:
        lines += [f"**Failed:** {failure}", ""]
    lines += [*_table(report), ""]
    lines.append(stages_markdown(report["_rows"], report["metric"], heading="### Figures").rstrip())
    if report["structured"]:
        lines += [
            "",
            "Removed units shrink every matrix product, so the narrower model is smaller and "
            "faster in onnxruntime; `specc build --compare` (or `benchmarks/prune.py`) times it "
            "against the dense model.",
        ]
    return "\n".join(lines) + "\n"


def prune_result(
    report: dict[str, Any], failure: str | None, artifacts: tuple[str, ...] = ()
) -> PassResult:
    """The pass's `PassResult`: `report` (without its `_` keys) as the `metrics.json` section."""
    model = report["models"]["pruned"]
    value = model["test"].get(report["metric"])
    shown = f"; test {report['metric']} {value:.4f}" if isinstance(value, float) else ""
    metrics = {k: v for k, v in report.items() if not k.startswith("_")}
    return PassResult(
        kind="prune",
        passed=failure is None,
        modified=failure is None,
        artifacts=artifacts,
        metrics={
            **metrics,
            "passed": failure is None,
            "failure": failure,
            "files": list(artifacts),
        },
        markdown=prune_markdown(report, failure),
        summary=f"{report['sparsity']:.2%} of the pruned layers' {report['unit']} pruned{shown}",
    )
