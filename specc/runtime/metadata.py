"""The `specc.*` metadata a build writes into `model.onnx`, parsed into a small dataclass.

Every key is optional here: a plain ONNX file from elsewhere loads with task `None` and
predictions then carry raw outputs only. Paths are resolved here too: a build folder stands for
its `model.onnx`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ModelNotFoundError

__all__ = ["TASKS", "ModelMetadata", "check_complete_build", "resolve_model_path"]

TASKS = ("regression", "binary", "multiclass", "multilabel", "seq2seq")


def _json_list(raw: str | None, key: str) -> tuple[str, ...]:
    if raw is None or raw.strip() == "":
        return ()
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(f"model metadata `{key}` is not valid JSON: {exc}") from exc
    if not isinstance(value, list):
        raise ValueError(
            f"model metadata `{key}` should be a JSON list, got {type(value).__name__}"
        )
    return tuple(str(v) for v in value)


@dataclass(frozen=True)
class ModelMetadata:
    """What the build recorded about the model (`specc.*` keys of `metadata_props`)."""

    spec_name: str | None = None
    spec_hash: str | None = None
    task: str | None = None
    class_names: tuple[str, ...] = ()
    input_names: tuple[str, ...] = ()
    output_names: tuple[str, ...] = ()
    feature_names: tuple[str, ...] = ()
    threshold: float = 0.5
    preprocessing: Any = None
    decoder_input: str | None = None
    """seq2seq: the input that reads the answer so far, filled by greedy decoding."""
    start_token: int | None = None
    """seq2seq: the token id that starts every answer (None: not recorded)."""
    raw: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_props(cls, props: Mapping[str, str]) -> ModelMetadata:
        """Parse the string map that onnxruntime's `custom_metadata_map` (or onnx) returns."""
        task = props.get("specc.task") or None
        if task is not None and task not in TASKS:
            task = None
        threshold = 0.5
        raw_threshold = props.get("specc.threshold")
        if raw_threshold not in (None, ""):
            try:
                threshold = float(raw_threshold)
            except ValueError as exc:
                raise ValueError(
                    f"model metadata `specc.threshold` is not a number: {raw_threshold!r}"
                ) from exc
        preprocessing = None
        raw_pre = props.get("specc.preprocessing")
        if raw_pre:
            try:
                preprocessing = json.loads(raw_pre)
            except json.JSONDecodeError:
                preprocessing = raw_pre
        start = (props.get("specc.start_token") or "").strip()
        if start and not start.isdigit():
            raise ValueError(f"model metadata `specc.start_token` is not a token id: {start!r}")
        return cls(
            decoder_input=props.get("specc.decoder_input") or None,
            start_token=int(start) if start else None,
            spec_name=props.get("specc.spec_name") or None,
            spec_hash=props.get("specc.spec_hash") or None,
            task=task,
            class_names=_json_list(props.get("specc.class_names"), "specc.class_names"),
            input_names=_json_list(props.get("specc.input_names"), "specc.input_names"),
            output_names=_json_list(props.get("specc.output_names"), "specc.output_names"),
            feature_names=_json_list(props.get("specc.feature_names"), "specc.feature_names"),
            threshold=threshold,
            preprocessing=preprocessing,
            raw=dict(props),
        )

    @property
    def is_classifier(self) -> bool:
        return self.task in ("binary", "multiclass", "multilabel")


def resolve_model_path(path: str | os.PathLike[str]) -> Path:
    """Return the `.onnx` file that `path` names: the file itself or `<folder>/model.onnx`."""
    p = Path(path)
    if p.is_dir():
        candidate = p / "model.onnx"
        if not candidate.is_file():
            raise ModelNotFoundError(
                f"no model.onnx in {p} (is it a finished build folder? run `specc build` first)"
            )
        return candidate
    if not p.exists():
        raise ModelNotFoundError(f"model not found: {p}")
    if not p.is_file():
        raise ModelNotFoundError(f"not a file or build folder: {p}")
    return p


def build_dir_of(model_path: Path) -> Path | None:
    """The build folder that holds `model_path`, when it looks like one (has `model.keras` or
    `metrics.json` beside it), else None."""
    folder = model_path.parent
    if (folder / "model.keras").exists() or (folder / "metrics.json").exists():
        return folder
    return None


def check_complete_build(model_path: Path, metadata: ModelMetadata) -> None:
    """Refuse a model that sits in a specc build folder (one with `spec.lock.yaml`) that is not
    a complete build of it: `metrics.json` is missing or unreadable, records another spec hash,
    or does not list the model among its artifacts. A model copied elsewhere is not checked."""
    from .errors import IncompleteBuildError

    folder = model_path.parent
    if not (folder / "spec.lock.yaml").is_file():
        return
    hint = f"rebuild it with `specc build` (or copy {model_path.name} out of the folder)"
    try:
        metrics = json.loads((folder / "metrics.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IncompleteBuildError(
            f"{folder} is not a complete build: it has no metrics.json (an interrupted build?); "
            + hint
        ) from None
    except (OSError, ValueError) as exc:
        raise IncompleteBuildError(f"{folder}/metrics.json is unreadable ({exc}); {hint}") from exc
    recorded = metrics.get("spec_hash") if isinstance(metrics, dict) else None
    if metadata.spec_hash and recorded and recorded != metadata.spec_hash:
        raise IncompleteBuildError(
            f"{model_path} was built from spec {metadata.spec_hash}, but {folder}/metrics.json "
            f"records spec {recorded}: the files come from different builds; {hint}"
        )
    artifacts = metrics.get("artifacts") if isinstance(metrics, dict) else None
    if isinstance(artifacts, list) and model_path.name not in artifacts:
        raise IncompleteBuildError(
            f"{model_path.name} is not an artifact of the build in {folder} (metrics.json does "
            f"not list it: left over from an earlier build?); {hint}"
        )
