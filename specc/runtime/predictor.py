"""`load()` and `Predictor`: an onnxruntime session wrapped for deployment.

Everything that does not depend on the data (names, shapes, dtypes, the decoding facts, the
bound run method) is computed once per session, so the per-call cost at batch 1 stays within a
few percent of a bare `InferenceSession.run`:

- `Predictor.run(x)` -> dict output name -> array: validated, cast, batched.
- `Predictor.predict(x)` -> `Prediction` (outputs plus lazily computed probabilities/labels).

The hot path (one array of at most `batch_size` rows, in the model's dtype or another float
dtype) costs a class check, a dtype identity check, a length check and, for a float input, the
finiteness check `inputs.all_finite` (a count of `np.isfinite(x)`) before the native session
runs; onnxruntime validates rank and fixed dimensions itself before computing anything. Any
other input, and any input onnxruntime refuses, goes through `InputChecker`, which casts or
explains what is wrong.

NaN or inf in a float input is refused with `NonFiniteInputError` (it would give NaN outputs and
meaningless labels) unless the call passes `allow_nonfinite=True`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from specc.excinfo import first_line

from .decoding import DecodingPlan, greedy_decode
from .errors import PredictorInputError
from .inputs import InputChecker, TensorSpec, all_finite, nonfinite_error
from .metadata import ModelMetadata, build_dir_of, check_complete_build, resolve_model_path
from .prediction import Decoder, Prediction
from .providers import SessionInfo, create_session

__all__ = ["DEFAULT_BATCH_SIZE", "Predictor", "load"]

DEFAULT_BATCH_SIZE = 4096
_ndarray = np.ndarray


class Predictor:
    """A loaded ONNX model. Create with `specc.runtime.load(path, device=...)`."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        device: str = "auto",
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        intra_op_threads: int | None = None,
        cuda_options: dict[str, Any] | None = None,
        check_build: bool = True,
    ) -> None:
        if int(batch_size) < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.path: Path = resolve_model_path(path)
        self.build_dir: Path | None = build_dir_of(self.path)
        session, info = create_session(self.path, device, intra_op_threads, cuda_options)
        self.session = session
        self.info: SessionInfo = info
        self.batch_size = int(batch_size)
        self.metadata = ModelMetadata.from_props(session.get_modelmeta().custom_metadata_map)
        if check_build:
            check_complete_build(self.path, self.metadata)
        self.inputs: tuple[TensorSpec, ...] = tuple(
            TensorSpec.from_ort(n) for n in session.get_inputs()
        )
        self.outputs: tuple[TensorSpec, ...] = tuple(
            TensorSpec.from_ort(n) for n in session.get_outputs()
        )
        self.input_names = tuple(s.name for s in self.inputs)
        self.output_names = tuple(s.name for s in self.outputs)
        self._checker = InputChecker(self.inputs, self.metadata.feature_names)
        # seq2seq with a decoder input: predict() decodes greedily, fed the source alone
        self.decoding = DecodingPlan.of(self.metadata, self.inputs, self.outputs[0].name)
        self.feed_inputs: tuple[TensorSpec, ...] = tuple(
            s for s in self.inputs if self.decoding is None or s.name != self.decoding.decoder_input
        )
        """The inputs `predict` needs: every input, less the decoder input it fills itself."""
        self.feed_names = tuple(s.name for s in self.feed_inputs)
        self._decoder = Decoder(
            task=self.metadata.task,
            class_names=self.metadata.class_names,
            threshold=self.metadata.threshold,
            output_names=self.output_names,
            primary=self.output_names[0],
        )
        # The native session's run skips the Python wrapper's per-call bookkeeping (input-name
        # checks that InputChecker already does); fall back to the public method otherwise.
        native = getattr(session, "_sess", None)
        self._run = native.run if native is not None and hasattr(native, "run") else session.run
        self._out_list = list(self.output_names)
        only = self.inputs[0] if len(self.inputs) == 1 else None
        self._fast = only is not None and only.rank > 0 and only.shape[0] is None
        self._name0 = only.name if only is not None else ""
        self._dtype0 = only.dtype if only is not None else None
        self._float0 = self._dtype0 is not None and self._dtype0.kind == "f"
        self._out0 = self.output_names[0] if len(self.output_names) == 1 else None

    # ------------------------------------------------------------------ facts
    @property
    def provider(self) -> str:
        """The execution provider that runs the model (e.g. `CPUExecutionProvider`)."""
        return self.info.provider

    @property
    def device(self) -> str:
        """`cpu` or `gpu`."""
        return self.info.device

    @property
    def task(self) -> str | None:
        return self.metadata.task

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.metadata.class_names

    def describe(self) -> str:
        """A few lines: the model, its inputs and outputs, and where it runs."""
        m = self.metadata
        lines = [
            f"model: {self.path}" + (f" (spec `{m.spec_name}`)" if m.spec_name else ""),
            f"task: {m.task or 'unknown'}"
            + (f", classes: {', '.join(m.class_names)}" if m.class_names else ""),
            "inputs: " + "; ".join(s.describe() for s in self.inputs),
            "outputs: " + "; ".join(s.describe() for s in self.outputs),
            f"device: {self.device} ({self.provider}, {self.info.intra_op_threads} threads)",
        ]
        if self.info.note:
            lines.append(f"note: {self.info.note}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"Predictor({str(self.path)!r}, provider={self.provider!r})"

    # ------------------------------------------------------------------ running
    def _native(self, feed: dict[str, np.ndarray]) -> list[np.ndarray]:
        try:
            return self._run(self._out_list, feed, None)
        except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own types
            raise PredictorInputError(
                f"onnxruntime rejected the input: {first_line(exc)} "
                f"(the model takes {self._checker.expected()})"
            ) from exc

    def run(self, x: Any, *, allow_nonfinite: bool = False) -> dict[str, np.ndarray]:
        """Raw outputs, keyed by output name. `x`: an array (single-input models) or a dict
        input name -> array. Rows beyond `batch_size` run in chunks and are concatenated.
        NaN/inf in a float input raise `NonFiniteInputError` unless `allow_nonfinite`."""
        if self._fast and x.__class__ is _ndarray:
            given = x
            if x.dtype is not self._dtype0:
                if not (self._float0 and x.dtype.kind == "f"):
                    return self._run_checked(x, allow_nonfinite)
                x = x.astype(self._dtype0)
            if x.ndim and 0 < len(x) <= self.batch_size:
                if self._float0 and not allow_nonfinite and not all_finite(x):
                    raise nonfinite_error(self._name0, x)
                # onnxruntime checks rank and fixed dimensions itself, before computing; on any
                # refusal the checked path explains (or fixes) what is wrong with the input.
                try:
                    out = self._run(self._out_list, {self._name0: x}, None)
                except Exception:  # noqa: BLE001
                    return self._run_checked(given, allow_nonfinite)
                if self._out0 is not None:
                    return {self._out0: out[0]}
                return dict(zip(self.output_names, out, strict=True))
            return self._run_checked(given, allow_nonfinite)
        return self._run_checked(x, allow_nonfinite)

    __call__ = run

    def _run_checked(self, x: Any, allow_nonfinite: bool = False) -> dict[str, np.ndarray]:
        feed, n = self._checker.check(x, allow_nonfinite)
        step = self.batch_size
        if n <= step:
            return dict(zip(self.output_names, self._native(feed), strict=True))
        chunks: list[list[np.ndarray]] = []
        for start in range(0, n, step):
            part = {k: v[start : start + step] for k, v in feed.items()}
            chunks.append(self._native(part))
        return {
            name: np.concatenate([c[i] for c in chunks], axis=0)
            for i, name in enumerate(self.output_names)
        }

    def predict(self, x: Any, *, allow_nonfinite: bool = False) -> Prediction:
        """Run and wrap the outputs in a `Prediction` (probabilities, labels, records).
        NaN/inf in a float input raise `NonFiniteInputError` unless `allow_nonfinite`.

        A seq2seq model that reads the answer so far (`self.decoding`) takes the source alone
        (an array, or a dict by input name) and is decoded greedily: one run per answer step,
        each reading back the tokens predicted before (`specc.runtime.decoding`); its labels are
        the decoded strings."""
        plan = self.decoding
        if plan is None:
            return Prediction(self.run(x, allow_nonfinite=allow_nonfinite), self._decoder)
        source, start = plan.source(x, self.feed_names)

        def step(feed: dict[str, Any]) -> np.ndarray:
            return self.run(feed, allow_nonfinite=allow_nonfinite)[plan.output]

        return Prediction({plan.output: greedy_decode(step, source, plan, start)}, self._decoder)

    def predict_file(
        self, path: str | os.PathLike[str], *, allow_nonfinite: bool = False
    ) -> Prediction:
        """Predict on a `.npy`, `.npz` or `.csv` file (see `specc.runtime.files.read_inputs`)."""
        from .files import read_inputs

        data = read_inputs(path, self, allow_nonfinite=allow_nonfinite)
        return self.predict(data, allow_nonfinite=allow_nonfinite)


def load(
    path: str | os.PathLike[str],
    device: str = "auto",
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    intra_op_threads: int | None = None,
    cuda_options: dict[str, Any] | None = None,
    check_build: bool = True,
) -> Predictor:
    """Load an ONNX model (a `.onnx` file or a build folder holding `model.onnx`).

    `device`: `auto` (GPU when it works, else CPU), `cpu` or `gpu` (raises
    `DeviceUnavailableError` with install instructions when CUDA is not usable).
    `batch_size`: largest number of rows sent to onnxruntime at once.
    `intra_op_threads`: CPU threads per operator (default: physical cores, or `SPECC_THREADS`).
    `check_build`: refuse a model in a build folder that is not a complete build of it
    (`IncompleteBuildError`); a pass working on a build in progress turns it off.
    """
    return Predictor(
        path,
        device,
        batch_size=batch_size,
        intra_op_threads=intra_op_threads,
        cuda_options=cuda_options,
        check_build=check_build,
    )
