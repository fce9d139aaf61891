"""Render a finished build state once: `curves.png`, `report.md` and the `metrics.json` document.

Every figure comes from the typed state (the training result, the verified export, each pass's
result); the runner writes `metrics.json` last, after everything here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from specc import __version__
from specc.atomic import atomic_path, write_text
from specc.passes.base import jsonable

from .decoding_check import decoding_markdown
from .diagnosis import diagnosis_markdown, diagnosis_of
from .lint_stage import lint_json, lint_markdown
from .state import BuildState
from .weights import weight_counts, weights_markdown

__all__ = ["metrics_document", "render"]


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


def _confusion(state: BuildState) -> list[str]:
    """A `## Confusion matrix` section of a single-label classifier on the test split (rows:
    true class, columns: predicted), or nothing for other tasks."""
    from specc.spec.tasks import class_names

    trained, spec = state.trained, state.spec
    if trained is None or spec.task.type not in ("binary", "multiclass") or not len(trained.y_test):
        return []
    out = np.asarray(trained.model.predict(trained.x_test, verbose=0))
    y = np.asarray(trained.y_test).reshape(-1).astype(np.int64)
    if spec.task.type == "binary":
        predicted = (out.reshape(-1) >= getattr(spec.task, "threshold", 0.5)).astype(np.int64)
        n = 2
    else:
        predicted = out.argmax(axis=-1).astype(np.int64)
        n = out.shape[-1]
    names = [str(c) for c in class_names(spec, trained.vocab)][:n]
    names += [str(i) for i in range(len(names), n)]
    counts = np.zeros((n, n), dtype=np.int64)
    np.add.at(counts, (y, predicted), 1)
    # class names come from the spec: `|` would end a table cell
    cells = [name.replace("|", "\\|").replace("\n", " ") for name in names]
    lines = [
        "## Confusion matrix",
        "",
        f"Test split, {len(y)} examples: rows are the true class, columns the predicted one.",
        "",
        "| true \\ predicted | " + " | ".join(cells) + " |",
        "|---|" + "---|" * n,
    ]
    for i, row in enumerate(counts):
        lines.append(f"| {cells[i]} | " + " | ".join(str(int(v)) for v in row) + " |")
    return [*lines, ""]


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


def metrics_document(state: BuildState, built_at: str) -> dict[str, Any]:
    """The content of `metrics.json`, but for `artifacts` (which `render` returns) and the
    report's own timing (which the runner adds once the report is written)."""
    compiled, trained, exported = state.compiled, state.trained, state.exported
    assert trained is not None and exported is not None, "render runs after verify"
    graph = compiled.graph
    return {
        "spec_name": compiled.spec.name,
        "spec_hash": compiled.loaded.spec_hash,
        "code_hash": state.code.hash,
        "specc_version": __version__,
        "task": compiled.spec.task.type,
        "metrics": trained.metrics,
        "params": {
            "total": graph.params,
            "trainable": graph.trainable_params,
            "non_trainable": graph.params - graph.trainable_params,
        },
        "weights": weight_counts(trained.model),
        "data": trained.sizes,
        "epochs_run": trained.epochs_run,
        "timings": {**state.progress.timings, "fit": round(trained.fit_seconds, 3)},
        "parity": exported.parity,
        "onnx_bytes": exported.size_bytes,
        "passes": {r.kind: jsonable(dict(r.metrics)) for r in state.passes},
        "stages": jsonable([row.to_dict() for row in state.stages]),
        "lint": lint_json(state),
        "diagnosis": diagnosis_of(state).to_json(),
        "built_at": built_at,
    }


def render(state: BuildState, metrics: dict[str, Any]) -> list[str]:
    """Write `curves.png` and `report.md`; return the artifact names the build folder holds."""
    from specc.ir import render as render_graph

    compiled, out, trained = state.compiled, state.out, state.trained
    assert trained is not None
    spec = compiled.spec
    history = trained.history
    keep = set(spec.export.keep)
    if "curves" in keep and history:
        _plot_curves(history, out / "curves.png")
    parity = metrics["parity"]
    sizes = metrics["data"]
    scaling = (
        "none: inputs reach the model unscaled"
        if spec.data.preprocessing == "none"
        else f"{spec.data.preprocessing}, fitted on the training split and built into the model"
    )
    lines = [
        f"# {spec.name}",
        "",
        *([spec.description.strip(), ""] if spec.description.strip() else []),
        f"Spec hash `{metrics['spec_hash']}`, code hash `{metrics['code_hash'][:16]}`, "
        f"specc {metrics['specc_version']}, built {metrics['built_at']}.",
        "",
        "## Network",
        "",
        "```",
        render_graph(compiled.graph).rstrip(),
        "```",
        "",
        weights_markdown(metrics["weights"]),
        "",
        "## Data",
        "",
        f"Source `{getattr(spec.data, 'dataset', None) or spec.data.path}`; preprocessing "
        f"{scaling}. "
        f"Examples: {sizes['train']} train, {sizes['validation']} validation, "
        f"{sizes['test']} test "
        + ("(given: data.test)." if getattr(spec.data, "test", None) else "(held out)."),
        "",
        "## Training",
        "",
        f"{metrics['epochs_run']} of {spec.training.epochs} epochs in "
        f"{metrics['timings']['fit']:.1f} s; optimizer `{spec.training.optimizer.type}` "
        f"(learning rate {spec.training.optimizer.learning_rate:g}), schedule "
        f"`{spec.training.schedule.type}`, batch size {spec.training.batch_size}.",
        "",
        _metrics_table(metrics["metrics"]),
        "",
        "`loss` is the training objective on each split: the loss of the task plus the "
        "regularisation penalties of the spec, if any (class weights are not applied here).",
        "",
    ]
    if "curves" in keep and history:
        lines += ["![learning curves](curves.png)", ""]
    lines += diagnosis_markdown(metrics["diagnosis"])
    lines += lint_markdown(state)
    lines += _confusion(state)
    lines += [
        "## Verification",
        "",
        f"ONNX Runtime vs Keras on {parity['n_examples']} test examples: max absolute "
        f"difference {parity['max_abs_diff']:.3g} (tolerance {parity['atol']:.3g}): "
        f"**{'passed' if parity['passed'] else 'FAILED'}**. `onnx.checker` full check passed.",
        "",
        *decoding_markdown(parity),
    ]
    lines += [r.markdown.rstrip("\n") + "\n" for r in state.passes if r.markdown]
    if state.stages:
        from specc.passes.measure import stages_markdown
        from specc.spec.tasks import task_kind

        lines.append(stages_markdown(state.stages, task_kind(spec.task.type).headline))
    lines += ["## Artifacts", ""]
    artifacts = ["spec.lock.yaml", "metrics.json", "report.md", "report.html", "test_data.npz"]
    artifacts += ["calib_data.npz"] if (out / "calib_data.npz").exists() else []
    optional = {
        "model.keras": "keras",
        "model.onnx": "onnx",
        "history.csv": "history",
        "curves.png": "curves",
        "build.log": "report",
    }
    artifacts += [name for name, key in optional.items() if key in keep and (out / name).exists()]
    artifacts += [a for r in state.passes for a in r.artifacts]
    artifacts += [f"code/{name}" for name in sorted(state.code.files)]
    lines += [f"- `{name}`" for name in artifacts]
    if "report" in keep:
        from .report_html import render_html

        text = "\n".join(lines) + "\n"
        write_text(out / "report.md", text)
        write_text(out / "report.html", render_html(text, out, spec.name))
    else:
        artifacts.remove("report.md")
        artifacts.remove("report.html")
    artifacts.remove("metrics.json")
    return artifacts
