"""The `distill` pass: the student learns from a trained teacher; measured against it.

Rules:

1. before training (`prepare`), put the teacher in the build folder as `teacher.keras` (what the
   generated `train.py` loads) and `teacher.onnx` (for the side-by-side figures): copied from
   the teacher spec's own build (`<build folder>/../<teacher name>`, which the builder builds
   first or reuses while up to date, `teacher_folder`), or copied from a `.keras` file, loaded
   in Keras' safe mode and exported;
2. the generated training code does the distillation (`codegen/distill_code.py`); the exported
   `model.onnx` is the student alone;
3. after the verified export (`run`), measure teacher, distilled student and, when the build has
   one (`specc build --compare`), the same student trained without the pass (`baseline/`), on
   the test split with `measure.measure_stages`, and say plainly whether distillation helped.

The build renders the result into `metrics.json` (`passes.distill`) and `report.md`
(`## Distillation`); the teacher is a row of the build's closing comparison table.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

from specc.atomic import write_text
from specc.codegen.distill_code import TEACHER_FILE
from specc.excinfo import reason
from specc.spec.checks_distill import is_teacher_spec

from .base import PassContext, PassError, PassInfo, PassResult, Phase

__all__ = [
    "BASELINE_DIR",
    "PASS",
    "TEACHER_ONNX",
    "fingerprint",
    "prepare",
    "run",
    "teacher_folder",
]

TEACHER_ONNX = "teacher.onnx"
TEACHER_JSON = "teacher.json"
BASELINE_DIR = "baseline"
"""Where `specc build --compare` puts the same spec trained without its training passes."""
BASELINE_ROW = "trained without passes"


def teacher_folder(teacher_spec: Path, build_dir: Path) -> Path:
    """The build folder of a teacher spec: `<name>` beside the student's build folder (or its
    staging folder, which lies beside it too)."""
    from specc.spec import load_spec

    return build_dir.parent / load_spec(teacher_spec).spec.name


def fingerprint(spec_dir: Path, teacher: str, build_dir: Path) -> str | None:
    """What identifies the teacher a student was distilled from: the teacher build's spec and
    code hashes and build time, or the hash of a `.keras` file; None when there is none yet."""
    source = spec_dir / teacher
    if not is_teacher_spec(teacher):
        try:
            return "keras:" + hashlib.sha256(source.read_bytes()).hexdigest()[:16]
        except OSError:
            return None
    try:
        metrics = json.loads((teacher_folder(source, build_dir) / "metrics.json").read_text())
        return f"spec:{metrics['spec_hash']}:{metrics['code_hash']}:{metrics['built_at']}"
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _copy(source: Path, target: Path, what: str, hint: str) -> None:
    try:
        shutil.copyfile(source, target)
    except OSError as exc:
        raise PassError("distill", f"cannot copy {what} {source}: {reason(exc)}; {hint}") from exc


def prepare(context: PassContext) -> None:
    """`teacher.keras`, `teacher.onnx` and `teacher.json` (where the teacher came from) in the
    build folder, before training."""
    settings, build_dir = context.settings, context.build_dir
    spec_dir = context.spec_dir if context.spec_dir is not None else Path(".")
    source = spec_dir / settings.teacher
    info: dict[str, Any] = {"source": settings.teacher}
    if is_teacher_spec(settings.teacher):
        folder = teacher_folder(source, build_dir)
        try:
            metrics = json.loads((folder / "metrics.json").read_text())
        except (OSError, ValueError) as exc:
            raise PassError("distill", f"the teacher {source} has no build in {folder}") from exc
        hint = "the teacher spec must keep `keras` and `onnx` in export.keep"
        _copy(folder / "model.keras", build_dir / TEACHER_FILE, "the teacher model", hint)
        _copy(folder / "model.onnx", build_dir / TEACHER_ONNX, "the teacher's ONNX model", hint)
        info.update(
            kind="spec",
            folder=str(folder),
            built_at=metrics.get("built_at"),
            params=metrics.get("params", {}).get("total"),
            same_split=_same_split(source, context.spec),
        )
    else:
        _copy(source, build_dir / TEACHER_FILE, "the teacher", "check the file")
        info.update(kind="keras", params=_export_keras_teacher(context))
    info["fingerprint"] = fingerprint(spec_dir, settings.teacher, build_dir)
    write_text(build_dir / TEACHER_JSON, json.dumps(info, indent=2) + "\n")


def _same_split(teacher_spec: Path, spec: Any) -> bool:
    """Whether the teacher spec draws the same data split as the student (the seed draws it):
    only then has the teacher never trained on the student's test examples."""
    from specc.spec import load_spec

    teacher = load_spec(teacher_spec).spec
    return teacher.seed == spec.seed and teacher.data == spec.data


def _export_keras_teacher(context: PassContext) -> int:
    """Load `teacher.keras` (safe mode) and export it as `teacher.onnx`; its parameter count."""
    import keras

    from specc.export import ExportError, export_onnx

    path = context.build_dir / TEACHER_FILE
    try:
        model = keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as exc:
        raise PassError(
            "distill", f"the teacher {context.settings.teacher} cannot be loaded: {reason(exc)}"
        ) from exc
    try:
        export_onnx(
            model,
            context.build_dir / TEACHER_ONNX,
            # validate checked that the teacher's inputs are the student's, in order
            input_names=[i.name for i in context.spec.model.inputs],
            output_names=["teacher_probabilities"],
            opset=context.spec.export.opset,
            metadata={"specc.task": context.spec.task.type, "specc.spec_name": model.name},
        )
    except ExportError as exc:
        raise PassError("distill", f"the teacher cannot be exported to ONNX: {exc}") from exc
    return int(model.count_params())


def run(context: PassContext) -> PassResult:
    """Measure teacher, distilled student and (with `--compare`) the student from scratch."""
    from specc.runtime.evaluate import headline_metric

    from .measure import load_test_split, measure_stages

    build_dir, settings = context.build_dir, context.settings
    try:
        teacher = json.loads((build_dir / TEACHER_JSON).read_text())
    except (OSError, ValueError) as exc:
        raise PassError("distill", f"no {TEACHER_JSON} in the build: {reason(exc)}") from exc
    models = {"teacher": TEACHER_ONNX}
    compared = (build_dir / BASELINE_DIR / "model.onnx").is_file()
    if compared:
        models[BASELINE_ROW] = f"{BASELINE_DIR}/model.onnx"
    models["distilled student"] = "model.onnx"
    # only the test metrics and weights are used here: the build's closing table times them
    rows = measure_stages(models, build_dir, load_test_split(build_dir), batches=(1,), repeat=3)
    figures = {r.name: r for r in rows}
    metric = headline_metric(context.spec.task.type)
    student, teach = figures["distilled student"], figures["teacher"]
    gain = None
    if compared:
        scratch = figures[BASELINE_ROW].test.get(metric)
        mine = student.test.get(metric)
        gain = None if scratch is None or mine is None else float(mine - scratch)
    metrics = {
        "passed": True,
        "teacher": {**teacher, "weights": teach.weights, "test": teach.test},
        "student": {"weights": student.weights, "test": student.test},
        "scratch": (
            {"weights": figures[BASELINE_ROW].weights, "test": figures[BASELINE_ROW].test}
            if compared
            else None
        ),
        "temperature": float(settings.temperature),
        "alpha": float(settings.alpha),
        "metric": metric,
        "weight_ratio": teach.weights / max(student.weights, 1),
        "gain": gain,
        "helped": None if gain is None else gain > 0,
        # other training passes of the same run (prune): the comparison is of them all together
        "with": [e.kind for e in context.spec.passes if e.kind == "prune"],
    }
    markdown = _markdown(metrics, rows)
    summary = f"teacher {teach.weights:,} weights, student {student.weights:,}" + (
        f"; {metric} {gain:+.4f} vs from scratch" if gain is not None else ""
    )
    return PassResult(
        kind="distill",
        passed=True,
        modified=True,
        artifacts=(TEACHER_FILE, TEACHER_ONNX, TEACHER_JSON),
        metrics=metrics,
        markdown=markdown,
        summary=summary,
        stages=(("teacher", TEACHER_ONNX),),
    )


def _markdown(m: dict[str, Any], rows: list) -> str:
    metric = m["metric"]
    teacher = m["teacher"]
    where = (
        f"the spec `{teacher['source']}` (its build: `{teacher.get('folder')}`, built at "
        f"{teacher.get('built_at')})"
        if teacher.get("kind") == "spec"
        else f"the Keras file `{teacher['source']}`"
    )
    lines = [
        "## Distillation",
        "",
        f"The student learned from the labels (weight alpha = {m['alpha']}) and from the "
        f"softened probabilities (temperature {m['temperature']}) of a teacher: {where}. "
        "The exported `model.onnx` is the student alone.",
        "",
        "| model | weights | " + " | ".join(f"test {k}" for k in _keys(rows)) + " |",
        "|---|---|" + "---|" * len(_keys(rows)),
    ]
    for r in rows:
        cells = [r.name, f"{r.weights:,}", *[_fmt(r.test.get(k)) for k in _keys(rows)]]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    ratio = m["weight_ratio"]
    if ratio <= 1:
        lines.append(
            f"Note: the teacher is not larger than the student ({ratio:.2f} times its weights); "
            "distillation usually helps a small student learn from a larger teacher."
        )
    else:
        lines.append(f"The teacher has {ratio:.1f} times the student's weights.")
    same = teacher.get("same_split")
    if same is False:
        lines.append(
            "Note: the teacher spec has another seed or data section, so another data split: it "
            "may have trained on this model's test examples, which flatters the distilled "
            "student. Give both specs the same seed and data."
        )
    elif same is None:
        lines.append(
            "The teacher is a Keras file: whether it trained on this model's test examples is "
            "not known here."
        )
    gain = m["gain"]
    if m["scratch"] is None:
        lines.append(
            "Whether distillation helped needs the same student trained without it: run "
            "`specc build --compare`."
        )
    elif gain is None:
        lines.append(f"The test {metric} of one of the students is missing: no verdict.")
    elif m.get("with"):
        together = " and ".join(["distillation", *m["with"]])
        lines.append(
            f"The student was also pruned in the same training run, so the comparison is of "
            f"{together} together: test {metric} {gain:+.4f} against the student trained from "
            "scratch without either (same data, epochs and seed)."
        )
    elif gain > 0:
        lines.append(
            f"Distillation helped: test {metric} {gain:+.4f} over the student trained from "
            "scratch (same data, epochs and seed)."
        )
    else:
        lines.append(
            f"Distillation did not help: test {metric} {gain:+.4f} against the student trained "
            "from scratch (same data, epochs and seed)."
        )
    return "\n".join(lines) + "\n"


def _keys(rows: list) -> list[str]:
    return list(dict.fromkeys(k for r in rows for k in r.test))


def _fmt(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, float) else "-"


PASS = PassInfo(
    kind="distill",
    phase=Phase.TRAINING,
    reads=("model.onnx", "test_data.npz"),
    writes=(TEACHER_FILE, TEACHER_ONNX, TEACHER_JSON),
    description="knowledge distillation from a teacher; measured against it and, with "
    "`--compare`, against the same student trained without it",
    run=run,
    prepare=prepare,
)
