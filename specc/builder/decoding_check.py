"""seq2seq builds: the decoding facts `model.onnx` records, and the check that the deployed
model decodes the test split to exactly the sequences Keras decodes.

The metadata names the input that reads the answer so far (`specc.decoder_input`, empty for a
model that reads none) and the start token (`specc.start_token`), so that
`specc.load(build).predict(source)` can decode greedily by itself (`specc.runtime.decoding`).
The verify stage then decodes the test split twice: with the generated `train.py`'s
`greedy_decode` on the trained Keras model, and with the runtime `Predictor` on the staged ONNX
model, fed the source alone; every token of every sequence must match, or no `model.onnx` is
written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from specc.excinfo import reason
from specc.pipeline import Compiled
from specc.spec.tasks import decoder_input

from .errors import BuildError
from .state import BuildState, Trained

__all__ = ["check_decoding", "decoding_markdown", "decoding_metadata", "decoding_note"]


def decoding_metadata(compiled: Compiled, trained: Trained) -> dict[str, str]:
    """`specc.decoder_input` and `specc.start_token` of a seq2seq model; {} for other tasks. The
    start token is the one token every test example's decoder input starts with (teacher
    forcing puts it there); it is left empty when the data disagree."""
    spec = compiled.spec
    if spec.task.type != "seq2seq":
        return {}
    name = decoder_input(spec)
    start = ""
    if name is not None and name in trained.x_test:
        first = np.unique(np.asarray(trained.x_test[name])[:, :1])
        if first.size == 1:
            start = str(int(first[0]))
    return {"specc.decoder_input": name or "", "specc.start_token": start}


def check_decoding(state: BuildState, staged: Path) -> dict[str, Any]:
    """Decode the test split with Keras (the generated `greedy_decode`) and with the runtime on
    the staged ONNX model: `{"decoded": counts}` for the parity record, or a `BuildError` (after
    removing `staged`) when any sequence differs; {} for tasks other than seq2seq."""
    from specc.codegen.loader import generated_modules
    from specc.runtime.predictor import Predictor

    if state.spec.task.type != "seq2seq":
        return {}
    trained = state.trained
    assert trained is not None, "the decoding check runs after train"
    try:
        with generated_modules(state.out / "code", expect_hash=state.code.hash) as modules:
            expected = np.asarray(modules["train"].greedy_decode(trained.model, trained.x_test))
        predictor = Predictor(staged, "cpu", check_build=False)
        # the source alone, as a deployer calls it; with no start token recorded (the data's
        # decoder inputs start with different tokens) the decoder input too, for its column 0
        plan = predictor.decoding
        given = predictor.feed_names
        if plan is not None and plan.start_token is None:
            given = (*given, plan.decoder_input)
        source = {name: trained.x_test[name] for name in given}
        decoded = np.asarray(predictor.predict(source).label_indices)
    except Exception as exc:
        staged.unlink(missing_ok=True)
        raise BuildError("verify", f"greedy decoding could not run: {reason(exc)}") from exc
    n = len(expected)
    same = np.all(decoded.reshape(n, -1) == expected.reshape(n, -1), axis=1)
    result = {
        "sequences": int(n),
        "identical": int(same.sum()),
        "loop": "specc.load(...).predict" if predictor.decoding else "one run",
    }
    if not same.all():
        staged.unlink(missing_ok=True)
        first = int(np.argmin(same))
        raise BuildError(
            "verify",
            f"greedy decoding differs: {n - result['identical']} of {n} test sequences decode "
            f"differently in ONNX Runtime and Keras (first: example {first}, ONNX "
            f"{decoded.reshape(n, -1)[first].tolist()}, Keras {expected[first].tolist()})",
            "no model.onnx was written; report this model",
        )
    return {"decoded": result}


def decoding_note(checked: dict[str, Any]) -> str:
    """The verify stage's progress note on decoded sequences ("" when none were checked)."""
    decoded = checked.get("decoded")
    if not decoded:
        return ""
    return f"; {decoded['identical']}/{decoded['sequences']} sequences decode alike"


def decoding_markdown(parity: dict[str, Any]) -> list[str]:
    """The report's sentence on decoded sequences, when the build checked them."""
    decoded = parity.get("decoded")
    if not decoded:
        return []
    how = (
        "one token per run, fed back by `specc.load(...).predict`"
        if decoded["loop"] != "one run"
        else "the source alone, one run"
    )
    return [
        f"Greedy decoding of the test split, Keras vs the deployed model ({how}): "
        f"{decoded['identical']} of {decoded['sequences']} sequences identical.",
        "",
    ]
