"""The spec (version 1): task, data, model, training, passes, export, as frozen pydantic models."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from .base import Name, PositiveInt, SpecModel
from .layers import Layer

# --------------------------------------------------------------------------- task


class RegressionTask(SpecModel):
    """Predict one or more real numbers. Default loss: mean squared error; output: linear."""

    type: Literal["regression"]
    outputs: PositiveInt = 1
    """Number of predicted values."""
    target_names: list[str] | None = None
    """Optional names of the predicted values."""


class BinaryTask(SpecModel):
    """Two classes, one sigmoid output. Default loss: binary cross-entropy."""

    type: Literal["binary"]
    class_names: list[str] | None = Field(default=None, min_length=2, max_length=2)
    """Names of class 0 and class 1."""
    threshold: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.5
    """Probability above which the positive class is predicted."""


class MulticlassTask(SpecModel):
    """One of N classes, softmax output. Default loss: sparse categorical cross-entropy
    (integer labels)."""

    type: Literal["multiclass"]
    classes: Annotated[int, Field(ge=2)]
    """Number of classes."""
    class_names: list[str] | None = None
    """Names of the classes, in label order."""


class MultilabelTask(SpecModel):
    """Any subset of N labels, one sigmoid per label. Default loss: binary cross-entropy."""

    type: Literal["multilabel"]
    labels: Annotated[int, Field(ge=1)]
    """Number of labels."""
    label_names: list[str] | None = None
    """Names of the labels."""
    threshold: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.5
    """Probability above which a label is predicted."""


class Seq2SeqTask(SpecModel):
    """Map a token sequence to a token sequence; softmax over the target vocabulary at every
    step. Default loss: sparse categorical cross-entropy."""

    type: Literal["seq2seq"]
    vocab_size: Annotated[int, Field(ge=2)]
    """Size of the target vocabulary (softmax width)."""


Task = Annotated[
    RegressionTask | BinaryTask | MulticlassTask | MultilabelTask | Seq2SeqTask,
    Field(discriminator="type"),
]

# --------------------------------------------------------------------------- data

BUILTIN_DATASETS = (
    "sklearn:digits",
    "sklearn:iris",
    "sklearn:wine",
    "sklearn:breast_cancer",
    "sklearn:diabetes",
    "synthetic:addition",
    "synthetic:reverse",
)


class Split(SpecModel):
    """How examples are divided; the test split is held out until the end."""

    validation: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.15
    """Fraction used for validation (early stopping, learning curves)."""
    test: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.15
    """Fraction held out for the final, honest metrics."""
    stratify: bool = True
    """Keep class proportions equal across splits (classification tasks)."""
    shuffle: bool = True
    """Shuffle before splitting (seeded)."""

    @model_validator(mode="after")
    def _fractions_leave_training_data(self) -> Split:
        if self.validation + self.test >= 0.9:
            raise ValueError(
                f"validation + test must leave at least 10% for training, got "
                f"{self.validation} + {self.test}"
            )
        return self


class _DataBase(SpecModel):
    split: Split = Split()
    """Train/validation/test split."""
    preprocessing: Literal["standardize", "minmax", "none"] = "standardize"
    """Input scaling, fitted on the training split only and built into the model."""


class BuiltinData(_DataBase):
    """A dataset that ships with a package or is generated (works offline)."""

    type: Literal["builtin"]
    dataset: Literal[
        "sklearn:digits",
        "sklearn:iris",
        "sklearn:wine",
        "sklearn:breast_cancer",
        "sklearn:diabetes",
        "synthetic:addition",
        "synthetic:reverse",
    ]
    """Which dataset."""
    samples: PositiveInt = 10000
    """Number of generated examples (synthetic datasets only)."""
    digits: Annotated[int, Field(ge=1, le=6)] = 3
    """Largest operand width for `synthetic:addition`."""
    length: Annotated[int, Field(ge=2, le=64)] = 8
    """Sequence length for `synthetic:reverse`."""


class CsvData(_DataBase):
    """A CSV file with a header row."""

    type: Literal["csv"]
    path: str = Field(min_length=1)
    """Path of the file, relative to the spec file."""
    features: list[str] | None = None
    """Feature columns; default: every column but the targets."""
    target: str | list[str]
    """Target column(s)."""
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    """Field separator."""


class NpzData(_DataBase):
    """A NumPy `.npz` archive of named arrays."""

    type: Literal["npz"]
    path: str = Field(min_length=1)
    """Path of the archive, relative to the spec file."""
    target: str = "y"
    """Name of the target array."""


Data = Annotated[BuiltinData | CsvData | NpzData, Field(discriminator="type")]

# --------------------------------------------------------------------------- model


class Input(SpecModel):
    """A model input."""

    name: Name
    """Input name; it is also the ONNX input name."""
    shape: list[Annotated[int, Field(gt=0)] | None] = Field(min_length=1)
    """Shape without the batch axis; `null` marks a variable-length axis."""
    dtype: Literal["float32", "int32", "int64"] = "float32"
    """Element type; token ids use `int32`."""
    source: str | None = None
    """Dataset array feeding this input (default: `x` for a single input, else the input name)."""


class Model(SpecModel):
    """The network: inputs, then layers; a plain list is sequential, `inputs:` makes a DAG."""

    inputs: list[Input] = Field(min_length=1)
    """Model inputs."""
    layers: list[Layer] = Field(min_length=1)
    """Layers in order; each reads the previous one unless it names `inputs`."""
    outputs: list[Name] | None = None
    """Names of the layers whose outputs are the model outputs; default: the last layer."""


# --------------------------------------------------------------------------- training


class SGD(SpecModel):
    """Stochastic gradient descent, optionally with (Nesterov) momentum."""

    type: Literal["sgd"]
    learning_rate: Annotated[float, Field(gt=0.0)] = 0.01
    """Base learning rate."""
    momentum: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.9
    """Momentum factor (0 for plain SGD)."""
    nesterov: bool = False
    """Use Nesterov momentum."""


class Adam(SpecModel):
    """Adam; 3e-4 is a sound default learning rate."""

    type: Literal["adam"]
    learning_rate: Annotated[float, Field(gt=0.0)] = 3e-4
    """Base learning rate."""
    beta_1: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.9
    """Decay of the first-moment estimate."""
    beta_2: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.999
    """Decay of the second-moment estimate."""


class AdamW(SpecModel):
    """Adam with decoupled weight decay."""

    type: Literal["adamw"]
    learning_rate: Annotated[float, Field(gt=0.0)] = 3e-4
    """Base learning rate."""
    weight_decay: Annotated[float, Field(ge=0.0)] = 0.01
    """Decoupled weight decay."""
    beta_1: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.9
    """Decay of the first-moment estimate."""
    beta_2: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.999
    """Decay of the second-moment estimate."""


class RMSprop(SpecModel):
    """RMSprop."""

    type: Literal["rmsprop"]
    learning_rate: Annotated[float, Field(gt=0.0)] = 1e-3
    """Base learning rate."""
    rho: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.9
    """Decay of the squared-gradient average."""
    momentum: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.0
    """Momentum factor."""


Optimizer = Annotated[SGD | Adam | AdamW | RMSprop, Field(discriminator="type")]


class ConstantSchedule(SpecModel):
    """The optimizer's learning rate throughout."""

    type: Literal["constant"]


class StepSchedule(SpecModel):
    """Multiply the learning rate by `factor` every `every_epochs` epochs."""

    type: Literal["step"]
    every_epochs: PositiveInt = 10
    """Epochs between drops."""
    factor: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.1
    """Multiplier at each drop."""


class ExponentialSchedule(SpecModel):
    """Multiply the learning rate by `decay_rate` per epoch, smoothly."""

    type: Literal["exponential"]
    decay_rate: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.95
    """Multiplier per epoch."""


class CosineSchedule(SpecModel):
    """Linear warm-up, then cosine decay to `min_factor` times the base rate."""

    type: Literal["cosine"]
    warmup_epochs: Annotated[int, Field(ge=0)] = 0
    """Epochs of linear warm-up from zero."""
    min_factor: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.0
    """Final learning rate as a fraction of the base rate."""


class OneCycleSchedule(SpecModel):
    """One cycle: rise from base/`div_factor` to `max_learning_rate`, then anneal."""

    type: Literal["one_cycle"]
    max_learning_rate: Annotated[float, Field(gt=0.0)]
    """Peak learning rate (find it with a learning-rate range test)."""
    pct_start: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.3
    """Fraction of training spent rising."""
    div_factor: Annotated[float, Field(gt=1.0)] = 25.0
    """Start rate = max / div_factor."""


class CyclicalSchedule(SpecModel):
    """Triangular cyclical learning rate between the base rate and `max_learning_rate`."""

    type: Literal["cyclical"]
    max_learning_rate: Annotated[float, Field(gt=0.0)]
    """Upper bound of the cycle."""
    half_cycle_epochs: PositiveInt = 4
    """Epochs from the low to the high bound."""


Schedule = Annotated[
    ConstantSchedule
    | StepSchedule
    | ExponentialSchedule
    | CosineSchedule
    | OneCycleSchedule
    | CyclicalSchedule,
    Field(discriminator="type"),
]


class EarlyStopping(SpecModel):
    """Stop when the monitored quantity stops improving."""

    monitor: str = "val_loss"
    """Quantity to watch (`val_loss`, `val_accuracy`, ...)."""
    patience: PositiveInt = 10
    """Epochs without improvement before stopping."""
    min_delta: Annotated[float, Field(ge=0.0)] = 0.0
    """Smallest change that counts as an improvement."""
    restore_best_weights: bool = True
    """Roll back to the best epoch's weights."""


class GradientClipping(SpecModel):
    """Clip gradients by global norm or by value."""

    global_norm: Annotated[float, Field(gt=0.0)] | None = None
    """Rescale gradients whose global norm exceeds this."""
    value: Annotated[float, Field(gt=0.0)] | None = None
    """Clip each gradient element to [-value, value]."""


class Augmentation(SpecModel):
    """Random image augmentation during training only (inputs of shape [h, w, c])."""

    flip: Literal["none", "horizontal", "vertical", "both"] = "none"
    """Random flips."""
    shift: Annotated[float, Field(ge=0.0, lt=0.5)] = 0.0
    """Random translation as a fraction of height/width."""
    noise: Annotated[float, Field(ge=0.0)] = 0.0
    """Standard deviation of added Gaussian noise (after preprocessing)."""


class Training(SpecModel):
    """The training recipe."""

    loss: Literal[
        "auto",
        "mse",
        "mae",
        "huber",
        "binary_crossentropy",
        "categorical_crossentropy",
        "sparse_categorical_crossentropy",
    ] = "auto"
    """Loss; `auto` follows the task (cross-entropy for classification, MSE for regression)."""
    metrics: list[
        Literal["auto", "accuracy", "auc", "precision", "recall", "mae", "mse", "rmse"]
    ] = ["auto"]
    """Metrics reported per epoch and on the test split; `auto` follows the task."""
    optimizer: Optimizer = Adam(type="adam")
    """Optimizer and its learning rate."""
    schedule: Schedule = ConstantSchedule(type="constant")
    """Learning-rate schedule, applied per epoch."""
    batch_size: PositiveInt | Literal["full"] = 32
    """Examples per step; `full` is batch gradient descent, 1 is pure SGD."""
    epochs: PositiveInt = 20
    """Passes over the training split."""
    shuffle: bool = True
    """Reshuffle the training split every epoch."""
    early_stopping: EarlyStopping | None = None
    """Stop early on a plateau."""
    gradient_clipping: GradientClipping | None = None
    """Gradient clipping."""
    class_weight: Literal["none", "balanced"] | dict[str, Annotated[float, Field(gt=0.0)]] = "none"
    """`balanced` weighs classes by inverse frequency; or a map from class index to weight."""
    augmentation: Augmentation | None = None
    """Image augmentation (training only)."""


# --------------------------------------------------------------------------- passes and export


class Distill(SpecModel):
    """Knowledge distillation from a teacher into this model."""

    teacher: str = Field(min_length=1)
    """A teacher spec (`.yaml`, built first) or a trained `.keras` file, relative to this spec."""
    temperature: Annotated[float, Field(gt=0.0)] = 4.0
    """Softening temperature of both distributions."""
    alpha: Annotated[float, Field(ge=0.0, le=1.0)] = 0.1
    """Weight of the hard-label loss; 1 - alpha goes to the distillation loss."""


class Prune(SpecModel):
    """Magnitude pruning while training."""

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
    """One compression pass: a mapping with exactly one of `distill`, `prune`, `quantize`."""

    distill: Distill | None = None
    """Knowledge distillation."""
    prune: Prune | None = None
    """Magnitude pruning."""
    quantize: Quantize | None = None
    """int8 quantization."""

    @model_validator(mode="after")
    def _exactly_one(self) -> PassEntry:
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
    parity: Parity = Parity()
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


# --------------------------------------------------------------------------- the spec


class Spec(SpecModel):
    """A specc spec: one network and its training recipe."""

    specc: Literal[1]
    """Spec language version."""
    name: Name
    """Name of the model and its build folder."""
    description: str = ""
    """Free text."""
    seed: Annotated[int, Field(ge=0, lt=2**31)] = 0
    """Seeds Python, NumPy and TensorFlow, the split and the initialisers."""
    task: Task
    """What is predicted; it drives the default loss and output activation."""
    data: Data
    """Where examples come from, how they are split and scaled."""
    model: Model
    """The network."""
    training: Training = Training()
    """The training recipe."""
    passes: list[PassEntry] = []
    """Compression passes, applied in order."""
    export: Export = Export()
    """ONNX export and verification."""


__all__ = [
    "BUILTIN_DATASETS",
    "Data",
    "Export",
    "Input",
    "Model",
    "PassEntry",
    "Spec",
    "Task",
    "Training",
]
