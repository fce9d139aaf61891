"""What `training.distribute` and `training.resume` add to the generated `train.py`
(`templates/train/distribute.py.j2`, `templates/train/resume.py.j2`).

With a strategy, `train()` makes it first (`make_strategy()`), builds and compiles the model in
its scope, and feeds `fit` a `tf.data` dataset of global batches with the auto-shard policy
stated (DATA). With `multi_worker`, every worker runs the same file with its `TF_CONFIG`; the
chief saves into the output folder, the others into a folder of their own inside it. With
`resume`, `fit` gets Keras' `BackupAndRestore` (a backup in `<folder>/.backup` after every epoch,
deleted when training completes) and `EpochSeeds`, which makes an epoch's random draws depend on
the epoch number only. `train_context` asks this module for its values in one place.
"""

from __future__ import annotations

from typing import Any

from ..spec.schema import Spec
from .pyfmt import INDENT, wrap
from .summary import spec_ref

__all__ = ["distribute_context", "fit_data", "steps_per_execution_group"]

_STRATEGY_DOCS = {
    "mirrored": "MirroredStrategy: one replica per local device (every GPU, else the CPU); "
    "the variables are mirrored and the gradients summed across replicas at every step.",
    "multi_worker": "MultiWorkerMirroredStrategy: one process per machine, all running this "
    "file; each reads the cluster and its own place in it from the TF_CONFIG environment "
    "variable (without one: a single worker on the local devices). Gradients are summed across "
    "workers with collective operations at every step.",
}


def strategy(spec: Spec) -> str:
    """`none`, `mirrored` or `multi_worker`."""
    return spec.training.distribute.strategy


def resume(spec: Spec) -> bool:
    """Whether the generated training backs up every epoch and resumes (never with a `prune`
    pass: its masks are not in the backup; nor with `distill`: Keras' BackupAndRestore needs the
    model fit runs built beforehand, and a Distiller is built by its first batch)."""
    return spec.training.resume and not any(e.kind in ("prune", "distill") for e in spec.passes)


def steps_per_execution_group(spec: Spec, steps: int) -> list[str]:
    """The `STEPS_PER_EXECUTION` constant and its comment: `steps` batches per call, or 1 with
    `multi_worker` (Keras 3's multi-step loop does not run under that strategy)."""
    if strategy(spec) == "multi_worker":
        return [
            f"# {spec_ref('training.distribute.strategy', 'multi_worker')}: one batch per call of",
            "# the compiled training step (Keras' multi-step loop fails under this strategy)",
            "STEPS_PER_EXECUTION = 1",
        ]
    return [
        "# not from the spec: batches per call of the compiled training step, with no Python",
        "# work between them (the same training; batch-level callbacks run once per call)",
        f"STEPS_PER_EXECUTION = {steps}",
    ]


def fit_data(spec: Spec, augmented: str | None, y_train: str, batch: str) -> str | None:
    """The training data argument of `fit` under a strategy (`augmented`: the augmentation
    pipeline's call, when there is one), or None without a strategy."""
    if strategy(spec) == "none":
        return None
    if augmented is not None:
        return f"shard_by_data({augmented})"
    return f"training_dataset(x_train, {y_train}, {batch})"


def distribute_context(spec: Spec) -> dict[str, Any]:
    """The flags and docstrings the templates read: `strategy` (None without one),
    `multi_worker`, `strategy_doc`, `resume`."""
    name = strategy(spec)
    doc = _STRATEGY_DOCS.get(name, "")
    return {
        "strategy": None if name == "none" else name,
        "multi_worker": name == "multi_worker",
        "strategy_doc": wrap(
            f"{spec_ref('training.distribute.strategy', name)}: {doc}", INDENT + '"""'
        ),
        "resume": resume(spec),
    }
