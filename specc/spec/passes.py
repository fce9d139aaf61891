"""Compression passes (distill, prune, quantize) and ONNX export settings of a spec."""

from typing import Annotated, Literal

from pydantic import Field, model_validator

from .base import PositiveInt, SpecModel

# --------------------------------------------------------------------------- passes and export


class Distill(SpecModel):
    """Knowledge distillation: this model (the student) learns from the labels and from the
    softened class probabilities of a larger, trained teacher (Keras' `keras.distillation`:
    loss = alpha * CE(labels, student) + (1 - alpha) * T^2 * KL(teacher_T || student_T), where
    p_T = softmax(log p / T)). Multiclass tasks only: binary, multilabel and regression outputs
    have no softmax distribution over classes to match. The exported model is the student alone;
    `specc build --compare` also trains it without the pass, to show whether distillation
    helped."""

    teacher: str = Field(min_length=1)
    """A teacher spec (`.yaml`: built first into `<build folder>/../<teacher name>`, reused while
    up to date) or a trained `.keras` file (loaded in Keras' safe mode), relative to this spec.
    It must take the same inputs (names, shapes, dtypes) and end in a softmax over the same
    classes; a teacher spec must not be distilled itself."""
    temperature: Annotated[float, Field(gt=0.0, allow_inf_nan=False)] = 4.0
    """Softening temperature T of both distributions (the distillation loss is scaled by T^2,
    so its gradients keep their size as T changes)."""
    alpha: Annotated[float, Field(ge=0.0, le=1.0)] = 0.1
    """Weight of the hard-label loss; 1 - alpha goes to the distillation loss (Keras'
    `Distiller(student_loss_weight=alpha)`)."""


class Prune(SpecModel):
    """Magnitude pruning while training. Not available yet: the settings are part of the spec
    language, but `specc validate` refuses a `prune` entry."""

    target_sparsity: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.5
    """Fraction of weights zeroed at the end."""
    schedule: Literal["constant", "polynomial"] = "polynomial"
    """Reach the target at once or ramp up (polynomial, over the pruning window)."""
    structured: bool = False
    """Remove whole units/filters instead of single weights."""
    start_epoch: Annotated[int, Field(ge=0)] = 0
    """Epoch at which pruning begins."""
    end_fraction: Annotated[float, Field(gt=0.0, le=1.0)] = 0.7
    """Fraction of training by which the target sparsity is reached."""


class Quantize(SpecModel):
    """Post-training int8 quantization of the ONNX model."""

    mode: Literal["dynamic", "static"] = "dynamic"
    """`dynamic` (weights int8, activations at run time) or `static` (calibrated)."""
    calibration_samples: PositiveInt = 256
    """Training examples used to calibrate `static` mode."""
    max_accuracy_drop: Annotated[float, Field(ge=0.0, le=1.0)] = 0.01
    """Fail the pass when the int8 test metric falls more than this below float."""


class PassEntry(SpecModel):
    """One compression pass: a mapping with exactly one of `distill`, `prune`, `quantize`. Passes
    run in the order written; `prune` is refused by this version."""

    distill: Distill | None = None
    """Knowledge distillation from a teacher."""
    prune: Prune | None = None
    """Magnitude pruning (not available yet)."""
    quantize: Quantize | None = None
    """int8 quantization."""

    @model_validator(mode="after")
    def _exactly_one(self) -> "PassEntry":
        given = [k for k in ("distill", "prune", "quantize") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "expected exactly one of `distill`, `prune`, `quantize`, got "
                + (", ".join(f"`{g}`" for g in given) or "none")
            )
        return self

    @property
    def kind(self) -> str:
        return next(k for k in ("distill", "prune", "quantize") if getattr(self, k) is not None)


class Parity(SpecModel):
    """Tolerance of the ONNX Runtime vs Keras comparison on the test split."""

    atol: Annotated[float, Field(gt=0.0)] = 1e-4
    """Largest absolute difference allowed; for regression it is scaled by max(1, |y|max)."""


class Export(SpecModel):
    """ONNX export and the artifacts kept."""

    opset: Annotated[int, Field(ge=13, le=21)] = 17
    """ONNX opset version."""
    parity: Parity = Parity.model_construct()
    """Verification tolerance."""
    keep: list[Literal["keras", "onnx", "history", "report", "curves", "code"]] = [
        "keras",
        "onnx",
        "history",
        "report",
        "curves",
        "code",
    ]
    """Artifacts written to the build folder."""
