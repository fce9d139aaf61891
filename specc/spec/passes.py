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
    """Gradual magnitude pruning while training (Zhu & Gupta, 2017): the kernels of dense and
    convolution layers lose their smallest weights, the sparsity ramping from 0 to the target;
    a mask keeps pruned weights exactly zero after every optimizer step, and the exported ONNX
    model holds the zeros. Biases, normalisation, embedding, recurrent and attention weights are
    never pruned. Zeros make the ONNX file compress (gzip) but onnxruntime no faster; with
    `structured: true` whole units and filters go, and the network exported is narrower."""

    target_sparsity: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.5
    """Fraction of each pruned kernel's weights that is zero at the end of training (with
    `structured: true`, of each pruned layer's units or filters that is removed)."""
    schedule: Literal["constant", "polynomial"] = "polynomial"
    """`polynomial`: the sparsity ramps up as s_f (1 - (1 - (t - t0) / (t1 - t0))^3) from the
    start step t0 to the end step t1; `constant`: the target from the start step on."""
    structured: bool = False
    """Remove whole units (dense) and filters (conv), those whose weights have the smallest L1
    norm, instead of single weights; their bias and the batch norm after them are masked too, so
    a removed unit outputs 0 and the network rebuilt without them after training (the model
    exported, `spec.pruned.yaml` in the build folder) computes the same. Needs a plain stack of
    layers, with only dense, conv, batch norm, dropout, activation (0 at 0), pooling and flatten
    layers after a pruned one."""
    start_epoch: Annotated[int, Field(ge=0)] = 0
    """Epoch at which pruning begins (t0); must be below `training.epochs`."""
    end_fraction: Annotated[float, Field(gt=0.0, le=1.0)] = 0.7
    """Fraction of the training steps (`training.epochs` of them) by which the target is reached
    (t1); training goes on after it with the masks fixed, so the network recovers."""
    layers: dict[str, Annotated[float, Field(gt=0.0, lt=1.0)]] = {}
    """Per-layer target sparsity, by layer name, instead of `target_sparsity`."""
    skip: list[str] | None = None
    """Layers left dense; unset: the model's output layers (the last layer), whose few weights
    matter most. `[]` prunes every dense and convolution layer."""


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
    run in the order written."""

    distill: Distill | None = None
    """Knowledge distillation from a teacher."""
    prune: Prune | None = None
    """Magnitude pruning while training."""
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
