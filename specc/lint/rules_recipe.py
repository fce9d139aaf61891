"""Lint rules about the training recipe: batch size, network size against data, optimizer,
schedule, seed, augmentation.

Thresholds are named constants; their comments say where the rule of thumb comes from.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from .base import Finding, LintContext, regularisation, rule

# A training split this large makes one-example steps (pure SGD) and one-step epochs (batch
# gradient descent) costly; below it either can be a deliberate choice.
LARGE_SPLIT = 1000

# "Large network, small data": many times more trainable parameters than training examples
# invites memorisation (Goodfellow et al., Deep Learning, 5.2; Karpathy, "A recipe for training
# neural networks", 2019: overfit first, then regularise).
PARAMS_PER_SAMPLE = 10

# Adam's usual starting point, 3e-4 (Karpathy, 2019); "far" is beyond this factor either way.
ADAM_DEFAULT_LR = 3e-4
ADAM_LR_FAR_FACTOR = 10


def _batch_path() -> tuple[str, ...]:
    return ("training", "batch_size")


@rule(
    "SPC201",
    "info",
    "batch size not a power of two",
    "Powers of two match how accelerators tile work; it is a convention, rarely a large effect.",
)
def batch_power_of_two(ctx: LintContext) -> Iterator[Finding]:
    batch = ctx.spec.training.batch_size
    if isinstance(batch, int) and batch > 1 and batch & (batch - 1):
        low = 1 << (batch.bit_length() - 1)
        yield Finding(
            _batch_path(),
            f"batch size {batch} is not a power of two",
            f"try {low} or {low * 2}",
        )


@rule(
    "SPC202",
    "warning",
    "batch larger than the training split",
    "Keras then takes the whole split as one batch: the setting does not do what it says.",
)
def batch_larger_than_split(ctx: LintContext) -> Iterator[Finding]:
    batch, n = ctx.spec.training.batch_size, ctx.train_samples
    if isinstance(batch, int) and n and batch > n:  # no examples at all: SPC301 says so
        yield Finding(
            _batch_path(),
            f"batch size {batch} is larger than the training split ({n} examples): every step "
            "sees the whole split",
            "use `full` to say so, or a smaller batch (32 is a sound default)",
        )


@rule(
    "SPC203",
    "warning",
    "batch of 1 on a large training split",
    "Pure SGD: one example per step is noisy and slow on a large split (no vectorisation).",
)
def batch_of_one(ctx: LintContext) -> Iterator[Finding]:
    n = ctx.train_samples
    if ctx.spec.training.batch_size == 1 and n is not None and n > LARGE_SPLIT:
        yield Finding(
            _batch_path(),
            f"batch size 1 on {n:,} training examples is pure SGD: {n:,} noisy steps per epoch",
            "use mini-batches (32 is a sound default)",
        )


@rule(
    "SPC204",
    "warning",
    "full batch on a large training split",
    "Batch gradient descent: one step per epoch over a large split is slow to converge.",
)
def full_batch(ctx: LintContext) -> Iterator[Finding]:
    n = ctx.train_samples
    if ctx.spec.training.batch_size == "full" and n is not None and n > LARGE_SPLIT:
        yield Finding(
            _batch_path(),
            f"`full` batch on {n:,} training examples is batch gradient descent: one slow step "
            "per epoch",
            "use mini-batches (32 is a sound default)",
        )


@rule(
    "SPC205",
    "warning",
    "many more parameters than training examples",
    "A network with many times more parameters than examples can memorise them: expect an "
    "oscillating loss and overfitting unless it is regularised.",
)
def params_per_sample(ctx: LintContext) -> Iterator[Finding]:
    n, graph = ctx.train_samples, ctx.graph
    if not n or any(node.attrs.get("params_unknown") for node in graph.nodes):
        return
    params = graph.trainable_params
    if params <= PARAMS_PER_SAMPLE * n:
        return
    message = (
        f"{params:,} trainable parameters for {n:,} training examples "
        f"({params / n:.0f} per example): large network, small data"
    )
    regularised = regularisation(ctx)
    if regularised:
        yield Finding(
            ("model", "layers"),
            f"{message}; the spec regularises ({', '.join(regularised)})",
            "watch the gap between training and validation loss",
            severity="info",
        )
    else:
        yield Finding(
            ("model", "layers"),
            f"{message}: expect oscillating loss and overfitting",
            "shrink the network, or add dropout, weight penalties or early stopping",
        )


@rule(
    "SPC206",
    "info",
    "Adam learning rate far from 3e-4",
    "3e-4 is Adam's usual starting point; a rate ten times higher or lower is a deliberate "
    "choice worth a learning-rate range test.",
)
def adam_learning_rate(ctx: LintContext) -> Iterator[Finding]:
    optimizer = ctx.spec.training.optimizer
    if optimizer.type not in ("adam", "adamw"):
        return
    ratio = optimizer.learning_rate / ADAM_DEFAULT_LR
    if abs(math.log10(ratio)) > math.log10(ADAM_LR_FAR_FACTOR) + 1e-9:
        yield Finding(
            ("training", "optimizer", "learning_rate"),
            f"{optimizer.type} learning rate {optimizer.learning_rate:g} is "
            f"{ratio if ratio > 1 else 1 / ratio:.0f}x {'above' if ratio > 1 else 'below'} "
            f"the usual {ADAM_DEFAULT_LR:g}",
            f"start from {ADAM_DEFAULT_LR:g} unless a range test says otherwise",
        )


@rule(
    "SPC207",
    "info",
    "learning-rate decay",
    "Start with a constant learning rate; add decay once a constant-rate run shows where the "
    "loss plateaus (Karpathy, 2019).",
)
def schedule_on_first_run(ctx: LintContext) -> Iterator[Finding]:
    schedule = ctx.spec.training.schedule
    if schedule.type != "constant":
        yield Finding(
            ("training", "schedule"),
            f"`{schedule.type}` schedule: on a first run a constant rate is easier to read",
            "keep it if a constant-rate run already showed the plateau it fixes",
        )


@rule(
    "SPC208",
    "info",
    "no seed",
    "The seed drives the split, the initialisers and shuffling; writing it down makes the run "
    "reproducible from the spec alone.",
)
def no_seed(ctx: LintContext) -> Iterator[Finding]:
    if "seed" not in ctx.loaded.source.root.children:
        yield Finding(
            (),
            "no `seed`: the run uses seed 0 without the spec saying so",
            "write `seed: 0` (or any number) at the top of the spec",
        )


@rule(
    "SPC209",
    "warning",
    "image augmentation without image inputs",
    "Flips, shifts and image noise apply to inputs of shape [height, width, channels] only.",
)
def augmentation_without_images(ctx: LintContext) -> Iterator[Finding]:
    augmentation = ctx.spec.training.augmentation
    if augmentation is None:
        return
    if any(
        len(node.output.shape) == 3 and node.output.dtype.startswith("float")
        for node in ctx.graph.inputs
    ):
        return
    yield Finding(
        ("training", "augmentation"),
        "augmentation is set but no input is an image ([height, width, channels]): it does nothing",
        "remove `training.augmentation`",
    )
