"""The training recipe of a spec: loss, metrics, optimizer, schedule, regularising callbacks."""

from typing import Annotated, Literal

from pydantic import Field

from .base import PositiveInt, SpecModel

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


class Distribute(SpecModel):
    """Data-parallel training with `tf.distribute`: every replica holds the whole model and takes
    a share of each batch; `training.batch_size` is the global batch (all replicas together)."""

    strategy: Literal["none", "mirrored", "multi_worker"] = "none"
    """`none`: one process, TensorFlow's default device. `mirrored`: `MirroredStrategy`, one
    replica per local device (GPUs, else the CPU). `multi_worker`:
    `MultiWorkerMirroredStrategy`, one process per machine, each started with its `TF_CONFIG`
    (without one, a single worker)."""


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
    optimizer: Optimizer = Adam.model_construct(type="adam")
    """Optimizer and its learning rate."""
    schedule: Schedule = ConstantSchedule.model_construct(type="constant")
    """Learning-rate schedule, applied per epoch."""
    batch_size: PositiveInt | Literal["full"] = 32
    """Examples per step; `full` is batch gradient descent, 1 is pure SGD."""
    epochs: PositiveInt = 20
    """Passes over the training split."""
    shuffle: bool = True
    """Reshuffle the training split every epoch."""
    early_stopping: EarlyStopping | None = None
    """Stop early on a plateau."""
    tensorboard: bool = False
    """Write TensorBoard logs (losses and metrics per epoch, weight histograms) to `logs/` in
    the output folder: `tensorboard --logdir build/<name>/logs`."""
    gradient_clipping: GradientClipping | None = None
    """Gradient clipping."""
    class_weight: Literal["none", "balanced"] | dict[str, Annotated[float, Field(gt=0.0)]] = "none"
    """`balanced` weighs classes by inverse frequency; or a map from class index to weight."""
    augmentation: Augmentation | None = None
    """Image augmentation (training only)."""
    distribute: Distribute = Distribute.model_construct(strategy="none")
    """Distributed (data-parallel) training; see docs/distributed.md."""
    resume: bool = True
    """Back up after every epoch into `<output folder>/.backup` (deleted when training completes)
    so that an interrupted `python train.py` resumes from its last completed epoch (not with a
    `prune` pass, whose masks the backup does not hold, nor with `distill`, whose Distiller
    Keras cannot back up before its first batch)."""
