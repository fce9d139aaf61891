"""What `templates/train/distill.py.j2` renders: the distillation step of a `distill` pass.

With a `distill` pass, `train.py` loads the teacher it names (`TEACHER_FILE`, a `.keras` file the
build puts beside the `code/` folder), freezes it, and trains the student through Keras' own
`keras.distillation.Distiller` with `LogitsDistillation(temperature=TEMPERATURE)` and
`student_loss_weight=ALPHA`. Keras' loss is

    ALPHA * CE(labels, student) + (1 - ALPHA) * T^2 * KL(softmax(t / T) || softmax(s / T))

on logits t and s. specc models end in a softmax; since softmax(log p / T) = softmax(z / T) for
p = softmax(z), the log-probabilities serve as logits: both models are seen through a
log-probability view that shares their weights (the student loss then reads logits,
`from_logits=True`, which is the same cross-entropy). The student itself (not the distiller) is
evaluated, saved as `model.keras` and exported.
"""

from __future__ import annotations

from typing import Any

from ..spec.schema import Spec
from .pyfmt import INDENT, Call, Raw, literal, wrap
from .summary import spec_ref

__all__ = ["TEACHER_FILE", "distill_context", "distill_fit"]

TEACHER_FILE = "teacher.keras"
"""Where the build puts the teacher, relative to the build folder (beside `code/`)."""

_LOSSES = {
    "sparse_categorical_crossentropy": "keras.losses.SparseCategoricalCrossentropy",
    "categorical_crossentropy": "keras.losses.CategoricalCrossentropy",
}


def _constants(index: int, settings: Any) -> list[str]:
    ref = f"passes[{index}].distill"
    return [
        f"# {spec_ref(ref + '.teacher')}: the trained teacher the build put beside code/",
        f"TEACHER_FILE = {literal(TEACHER_FILE)}",
        f"# {spec_ref(ref + '.temperature')}: softens both distributions",
        f"TEMPERATURE = {literal(float(settings.temperature))}",
        f"# {spec_ref(ref + '.alpha')}: weight of the hard-label loss; 1 - ALPHA goes to",
        "# the distillation loss",
        f"ALPHA = {literal(float(settings.alpha))}",
    ]


def _compile(loss: str, metrics: tuple[Any, ...], steps: str) -> list[str]:
    call = Call(
        "distiller.compile",
        kwargs=(
            ("optimizer", Raw(f"make_optimizer({steps})")),
            ("loss", Call(_LOSSES[loss], kwargs=(("from_logits", Raw("True")),))),
            ("metrics", Call.list(metrics)),
            ("steps_per_execution", Raw("STEPS_PER_EXECUTION")),
        ),
    )
    return call.lines(INDENT)


def distill_fit(spec: Spec) -> str:
    """The model whose `fit` trains: the distiller with a distill pass, else the model."""
    return "distiller" if any(e.distill is not None for e in spec.passes) else "model"


def distill_context(
    spec: Spec, loss: str, metrics: tuple[Any, ...], keras_schedule: bool
) -> dict[str, Any]:
    """The `distill` entry of `train.py.j2`'s context: None without a distill pass."""
    found = [(i, e.distill) for i, e in enumerate(spec.passes) if e.distill is not None]
    if not found:
        return {"distill": None}
    index, settings = found[0]
    steps = "steps_per_epoch" if keras_schedule else ""
    doc = wrap(
        f"{spec_ref(f'passes[{index}].distill')}: the student learns from the labels and from "
        "the frozen teacher's softened probabilities, through Keras' Distiller. Its loss is "
        "ALPHA * CE(labels, student) + (1 - ALPHA) * TEMPERATURE**2 * KL(teacher_T || "
        "student_T), with p_T = softmax(log p / TEMPERATURE). Returns the compiled distiller; "
        "fitting it trains `student`.",
        INDENT + '"""',
    )
    return {
        "distill": {
            "constants": _constants(index, settings),
            "doc": doc,
            "compile_lines": _compile(loss, metrics, steps),
            "params": "student, output_dir" + (", steps_per_epoch" if keras_schedule else ""),
            "call": "make_distiller(model, output_dir"
            + (", steps_per_epoch)" if keras_schedule else ")"),
        }
    }
