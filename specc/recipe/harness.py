"""Short training experiments on a spec's own code and data, for `specc check` and `lr-find`.

The harness generates the spec's code into a temporary folder and imports it (the same code a
build runs: `spec_data.load_data()`, `spec_model.build_model(...)`, `train.make_optimizer()`),
so an experiment sees exactly the data, network and optimizer the spec describes. Each fresh
model is seeded, compiled with the task's loss and accuracy for classifiers, and can have its
regularisation (dropout, weight penalties) switched off, as the sanity checks want it.
TensorFlow is imported here, when a harness opens.
"""

from __future__ import annotations

import contextlib
import inspect
import math
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from specc.codegen.model_context import build_model_parameters
from specc.pipeline import Compiled
from specc.spec.tasks import resolved_loss

__all__ = ["Harness", "open_harness"]

Arrays = dict[str, np.ndarray]


@dataclass
class Harness:
    """The spec's data and a factory of fresh, compiled models."""

    compiled: Compiled
    modules: dict[str, Any]
    data: Any
    """The generated `Dataset`: `.train`, `.validation`, `.test` as (x dict, y)."""

    @property
    def spec(self) -> Any:
        return self.compiled.spec

    @property
    def classifier(self) -> bool:
        return self.spec.task.type in ("binary", "multiclass", "multilabel", "seq2seq")

    @property
    def loss_name(self) -> str:
        return resolved_loss(self.spec)

    @property
    def batch_size(self) -> int:
        size = self.spec.training.batch_size
        return len(self.data.train[1]) if size == "full" else int(size)

    def targets(self, y: np.ndarray) -> np.ndarray:
        """Targets as the loss wants them (one-hot for categorical cross-entropy)."""
        if self.loss_name == "categorical_crossentropy":
            return self.modules["train"].one_hot(y)
        return y

    def model(
        self,
        *,
        seed: int | None = None,
        regularized: bool = True,
        learning_rate: float | None = None,
        steps_per_execution: int = 1,
    ) -> Any:
        """A fresh model, seeded (the spec's seed by default) and compiled with the spec's
        optimizer; `regularized=False` turns dropout and weight penalties off; `learning_rate`
        replaces the spec's rate (and its schedule) by a constant."""
        import keras
        import tensorflow as tf

        keras.utils.set_random_seed(self.spec.seed if seed is None else seed)
        tf.config.experimental.enable_op_determinism()
        parameters = build_model_parameters(self.compiled.loaded, self.compiled.graph)
        model = self.modules["model"].build_model(
            **{name: getattr(self.data, name) for name in parameters}
        )
        if not regularized:
            for layer in _layers(model):
                if isinstance(layer, keras.layers.Dropout):
                    layer.rate = 0.0
                for variable in layer.trainable_weights:
                    variable.regularizer = None
        make = self.modules["train"].make_optimizer
        if "steps_per_epoch" in inspect.signature(make).parameters:
            optimizer = make(math.ceil(len(self.data.train[1]) / self.batch_size))
        else:
            optimizer = make()
        if learning_rate is not None:
            optimizer = type(optimizer).from_config(
                {**optimizer.get_config(), "learning_rate": float(learning_rate)}
            )
        metrics = ["accuracy"] if self.classifier else []
        model.compile(
            optimizer=optimizer,
            loss=self.loss_name,
            metrics=metrics,
            steps_per_execution=steps_per_execution,
        )
        return model


def _layers(model: Any) -> Iterator[Any]:
    for layer in model.layers:
        yield layer
        if hasattr(layer, "layers"):  # nested models (a backbone)
            yield from _layers(layer)


@contextlib.contextmanager
def open_harness(compiled: Compiled) -> Iterator[Harness]:
    """Generate the spec's code into a temporary folder, import it and load the data."""
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from specc.codegen import generate
    from specc.codegen.loader import generated_modules

    code = generate(compiled.loaded, compiled.graph)
    with tempfile.TemporaryDirectory(prefix="specc-recipe-") as tmp:
        code.write(Path(tmp))
        with generated_modules(Path(tmp), expect_hash=code.hash) as modules:
            data = modules["data"].load_data()
            yield Harness(compiled, dict(modules), data)
