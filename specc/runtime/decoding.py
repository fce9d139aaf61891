"""Greedy decoding of a teacher-forced seq2seq model, outside the graph.

A seq2seq model that reads the answer so far (an input fed with the start token and the tokens
before, `specc.decoder_input` in the metadata) cannot answer in one run: `Predictor.predict`
runs it once per answer step, feeding back its own predictions, exactly as the generated
`train.py` decodes with Keras (`greedy_decode`), so a deployer gives the source sequence alone.
A model that reads no decoder input (RepeatVector-style) needs no loop and no plan.

The loop is here rather than an ONNX `Loop` in the graph: the exported graph stays the one the
parity check compares with Keras output by output, and the loop is a dozen lines of numpy that
any runtime can repeat (see docs/runtime.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import ModelLoadError, PredictorInputError
from .inputs import TensorSpec
from .metadata import ModelMetadata

__all__ = ["DecodingPlan", "greedy_decode"]


@dataclass(frozen=True)
class DecodingPlan:
    """How to decode one model: the input that reads the answer so far, its steps, the start
    token (None: the caller gives it as column 0 of that input) and the output to read."""

    decoder_input: str
    steps: int
    start_token: int | None
    output: str
    dtype: np.dtype

    @classmethod
    def of(
        cls, metadata: ModelMetadata, inputs: tuple[TensorSpec, ...], output: str
    ) -> DecodingPlan | None:
        """The plan of a model whose metadata names a decoder input; None for every other."""
        name = metadata.decoder_input
        if metadata.task != "seq2seq" or not name:
            return None
        spec = next((s for s in inputs if s.name == name), None)
        if spec is None or spec.rank != 2 or spec.shape[1] is None:
            return None  # not a fixed-length token input: predict runs the model as it is
        start, vocab = metadata.start_token, len(metadata.class_names)
        if start is not None and vocab and start >= vocab:
            raise ModelLoadError(
                f"model metadata `specc.start_token` is {start}, not a token of the model's "
                f"{vocab}-token vocabulary; rebuild the model"
            )
        return cls(name, int(spec.shape[1]), start, output, spec.dtype)

    def source(self, x: Any, names: tuple[str, ...]) -> tuple[dict[str, Any], np.ndarray | int]:
        """The source inputs of `x` (an array for a single source, or a dict), and the start
        tokens: the model's, else column 0 of a given decoder input."""
        if isinstance(x, Mapping):
            given = dict(x)
            decoder = given.pop(self.decoder_input, None)
        else:
            if len(names) != 1:
                raise PredictorInputError(
                    f"the model takes {len(names)} source inputs ({', '.join(names)}); "
                    "pass a dict keyed by input name"
                )
            given, decoder = {names[0]: x}, None
        if self.start_token is not None:
            return given, self.start_token
        if decoder is None:
            raise PredictorInputError(
                f"the model records no start token: give `{self.decoder_input}` too, its first "
                "column holding each example's start token"
            )
        decoder = np.asarray(decoder)
        if decoder.ndim != 2 or decoder.shape[1] < 1:
            raise PredictorInputError(
                f"`{self.decoder_input}` must be (n, {self.steps}) token ids, got shape "
                f"{decoder.shape}"
            )
        return given, decoder[:, 0]


def greedy_decode(
    run: Callable[[dict[str, Any]], np.ndarray],
    source: dict[str, Any],
    plan: DecodingPlan,
    start: np.ndarray | int,
) -> np.ndarray:
    """Probabilities (n, steps, vocab) of greedy decoding: `run` maps a feed (the source and
    the decoder input) to the model's probabilities (n, steps, vocab); step `t` keeps row `t`
    of the run whose decoder input holds the start token and the argmax tokens of steps before
    it. The decoded tokens are the argmax of the result."""
    n = len(np.asarray(next(iter(source.values()))))
    tokens = np.zeros((n, plan.steps), dtype=plan.dtype)
    tokens[:, 0] = start
    kept: np.ndarray | None = None
    for step in range(plan.steps):
        probabilities = np.asarray(run({**source, plan.decoder_input: tokens}))
        if kept is None:
            kept = np.empty((n, plan.steps, probabilities.shape[-1]), probabilities.dtype)
        kept[:, step] = probabilities[:, step]
        if step + 1 < plan.steps:
            tokens[:, step + 1] = probabilities[:, step].argmax(axis=-1)
    assert kept is not None  # steps >= 1: a fixed token input has at least one
    return kept
