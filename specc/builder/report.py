"""The human side of a build: `curves.png` (learning curves) and `report.md`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from specc.atomic import atomic_path, write_text
from specc.codegen import FILES
from specc.pipeline import Compiled

__all__ = ["write_report"]


def _plot_curves(history: dict[str, list[float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [k for k in history if not k.startswith("val_") and k != "learning_rate"]
    fig, axes = plt.subplots(1, len(names), figsize=(4.5 * len(names), 3.4), squeeze=False)
    for ax, name in zip(axes[0], names, strict=True):
        epochs = range(1, len(history[name]) + 1)
        ax.plot(epochs, history[name], label="train")
        if f"val_{name}" in history:
            ax.plot(epochs, history[f"val_{name}"], label="validation")
        ax.set_title(name)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)


def _diagnosis(history: dict[str, list[float]]) -> str:
    """A plain reading of the learning curves: under-fitting, over-fitting or a healthy gap."""
    loss, val = history.get("loss"), history.get("val_loss")
    if not loss or not val:
        return "No validation split: the curves cannot show over-fitting."
    best = min(range(len(val)), key=val.__getitem__)
    gap = val[best] - loss[best]
    if best < len(val) - 1 and val[-1] > val[best] * 1.05:
        return (
            f"Validation loss was lowest at epoch {best + 1} and rose afterwards: over-fitting "
            "began there (early stopping with restore_best_weights keeps the best epoch)."
        )
    if gap > 0.5 * max(abs(loss[best]), 1e-8):
        return (
            f"Validation loss ({val[best]:.4g}) sits well above training loss ({loss[best]:.4g}): "
            "the model over-fits; more regularisation or data would help."
        )
    if len(loss) > 3 and loss[-1] > 0.98 * loss[-4]:
        return "Training loss has flattened close to validation loss: capacity may be the limit."
    return "Training and validation losses fall together: no sign of over-fitting."


def _metrics_table(metrics: dict[str, dict[str, float]]) -> str:
    splits = [s for s in ("train", "validation", "test") if metrics.get(s)]
    names: list[str] = []
    for split in splits:
        names.extend(k for k in metrics[split] if k not in names)
    lines = ["| metric | " + " | ".join(splits) + " |", "|---|" + "---|" * len(splits)]
    for name in names:
        cells = []
        for split in splits:
            value = metrics[split].get(name)
            cells.append(f"{value:.4f}" if isinstance(value, (int, float)) else "")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_report(
    compiled: Compiled, out: Path, metrics: dict[str, Any], history: dict[str, list[float]]
) -> list[str]:
    """Write `curves.png` and `report.md`; return the artifact names the build folder holds."""
    from specc.ir import render

    spec = compiled.spec
    keep = set(spec.export.keep)
    if "curves" in keep and history:
        _plot_curves(history, out / "curves.png")
    parity = metrics["parity"]
    sizes = metrics["data"]
    lines = [
        f"# {spec.name}",
        "",
        spec.description or "",
        "",
        f"Spec hash `{metrics['spec_hash']}`, code hash `{metrics['code_hash'][:16]}`, "
        f"specc {metrics['specc_version']}, built {metrics['built_at']}.",
        "",
        "## Network",
        "",
        "```",
        render(compiled.graph).rstrip(),
        "```",
        "",
        "## Data",
        "",
        f"Source `{getattr(spec.data, 'dataset', None) or spec.data.path}`, preprocessing "
        f"`{spec.data.preprocessing}` (fitted on the training split, built into the model). "
        f"Examples: {sizes['train']} train, {sizes['validation']} validation, "
        f"{sizes['test']} test (held out).",
        "",
        "## Training",
        "",
        f"{metrics['epochs_run']} of {spec.training.epochs} epochs in "
        f"{metrics['timings']['fit_s']:.1f} s; optimizer `{spec.training.optimizer.type}` "
        f"(learning rate {spec.training.optimizer.learning_rate:g}), schedule "
        f"`{spec.training.schedule.type}`, batch size {spec.training.batch_size}.",
        "",
        _metrics_table(metrics["metrics"]),
        "",
    ]
    if "curves" in keep and history:
        lines += ["![learning curves](curves.png)", "", _diagnosis(history), ""]
    lines += [
        "## Verification",
        "",
        f"ONNX Runtime vs Keras on {parity['n_examples']} test examples: max absolute "
        f"difference {parity['max_abs_diff']:.3g} (tolerance {parity['atol']:.3g}): "
        f"**{'passed' if parity['passed'] else 'FAILED'}**. `onnx.checker` full check passed.",
        "",
        "## Artifacts",
        "",
    ]
    artifacts = ["spec.lock.yaml", "metrics.json", "report.md", "test_data.npz", "calib_data.npz"]
    optional = {
        "model.keras": "keras",
        "model.onnx": "onnx",
        "history.csv": "history",
        "curves.png": "curves",
        "build.log": "report",
    }
    artifacts += [name for name, key in optional.items() if key in keep and (out / name).exists()]
    artifacts += [f"code/{name}" for name in FILES]
    lines += [f"- `{name}`" for name in artifacts]
    if "report" in keep:
        write_text(out / "report.md", "\n".join(lines) + "\n")
    else:
        artifacts.remove("report.md")
    artifacts.remove("metrics.json")
    return artifacts
