"""The search file: which spec, which values to search over, what to optimise, for how long.

```yaml
spec: digits_cnn.yaml            # relative to this file
metric: validation.accuracy      # <split>.<metric> of the build's metrics (never the test split)
direction: maximize              # default: minimize for a loss, maximize otherwise
trials: 20
timeout: 600                     # seconds, optional
sampler: random                  # random (default) or tpe
pruner: median                   # median (default) or none: stop bad trials from their curves
parameters:
  training.optimizer.learning_rate: {loguniform: [1.0e-4, 1.0e-2]}
  model.layers[1].units: {int: [32, 256], log: true}
  training.batch_size: {choice: [32, 64, 128]}
  model.layers[3].rate: {uniform: [0.0, 0.5]}
```

Loading checks everything before a trial runs, each problem located in the search file: the
spec is valid, every parameter path names a field of the spec, every distribution is well formed
and the metric is one the build reports on a split that exists. The test split is refused as a
metric: choosing on it would make the reported test figures optimistic.
"""

from __future__ import annotations

import builtins
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from specc.spec import LoadedSpec, SpecError, SpecErrors, load_spec
from specc.spec.errors import Location, did_you_mean, dotted
from specc.spec.source import SourceMap, load_yaml
from specc.spec.tasks import resolved_metrics, task_kind
from specc.spec.translate import translate

from .edit import PathSyntaxError, parse_path

__all__ = ["Distribution", "LoadedSearch", "SearchConfig", "load_search"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Distribution(_Strict):
    """One searched value: exactly one of `uniform`, `loguniform`, `int`, `choice`."""

    uniform: tuple[float, float] | None = None
    """A float drawn uniformly from [low, high]."""
    loguniform: tuple[float, float] | None = None
    """A float whose logarithm is uniform on [log low, log high] (learning rates); low > 0."""
    int: tuple[builtins.int, builtins.int] | None = None
    """An integer from [low, high]; with `log: true`, uniform in its logarithm."""
    log: bool = False
    """For `int`: sample on a log scale (layer widths)."""
    step: Annotated[float, Field(gt=0)] | None = None
    """For `uniform` and `int`: the grid step (optional)."""
    choice: list[Any] | None = None
    """One of the listed values (numbers, strings or booleans)."""

    @model_validator(mode="after")
    def _one_kind(self) -> Distribution:
        given = [k for k in ("uniform", "loguniform", "int", "choice") if getattr(self, k)]
        if len(given) != 1:
            raise ValueError(
                "expected exactly one of `uniform`, `loguniform`, `int`, `choice`, got "
                + (", ".join(f"`{g}`" for g in given) or "none")
            )
        kind = given[0]
        if kind == "choice":
            if not self.choice or any(isinstance(v, (dict, list)) for v in self.choice):
                raise ValueError("`choice` needs a non-empty list of single values")
            return self
        low, high = getattr(self, kind)
        if not all(math.isfinite(v) for v in (low, high)) or low >= high:
            raise ValueError(f"`{kind}` needs [low, high] with finite low < high")
        if kind == "loguniform" and low <= 0:
            raise ValueError("`loguniform` needs low > 0")
        if self.log and (kind != "int" or low <= 0):
            raise ValueError("`log: true` goes with `int` and low >= 1")
        return self

    @property
    def kind(self) -> str:
        return next(k for k in ("uniform", "loguniform", "int", "choice") if getattr(self, k))

    def suggest(self, trial: Any, name: str) -> Any:
        """Draw the value from an Optuna trial."""
        kind = self.kind
        if kind == "choice":
            return trial.suggest_categorical(name, self.choice)
        if kind == "int":
            low, high = self.int  # type: ignore[misc]
            step = int(self.step) if self.step else 1
            return trial.suggest_int(name, low, high, step=step, log=self.log)
        if kind == "loguniform":
            low, high = self.loguniform  # type: ignore[misc]
            return trial.suggest_float(name, low, high, log=True)
        low, high = self.uniform  # type: ignore[misc]
        return trial.suggest_float(name, low, high, step=self.step)

    @property
    def logscale(self) -> bool:
        return self.kind == "loguniform" or self.log


class SearchConfig(_Strict):
    """A random (or TPE) search over values of one spec, on Optuna."""

    spec: str = Field(min_length=1)
    """The spec file searched over, relative to this file."""
    metric: str = ""
    """`<split>.<metric>` of the build's metrics to optimise, the split `validation` or
    `train`; default: the validation split's headline metric (accuracy, or R^2)."""
    direction: Literal["minimize", "maximize", "auto"] = "auto"
    """`auto`: minimize a loss or an error (loss, mae, mse, rmse), maximize the others."""
    trials: Annotated[int, Field(ge=1, le=100_000)] = 20
    """Trials in the study, counted over every worker and every resumed run."""
    timeout: Annotated[float, Field(gt=0)] | None = None
    """Seconds this run may start trials for (the trial running then finishes)."""
    sampler: Literal["random", "tpe"] = "random"
    """`random` search (default: few of many values matter, and random finds them in fewer
    trials than a grid) or Optuna's TPE."""
    pruner: Literal["median", "none"] = "median"
    """`median`: stop a trial whose per-epoch metric falls below the median of earlier trials
    at the same epoch (after 5 trials and 2 epochs); `none`: run every trial to the end."""
    seed: int | None = None
    """Seed of the sampler (each worker and each resumed run draws its own values from it)."""
    parameters: dict[str, Distribution] = Field(min_length=1)
    """Dotted spec path -> distribution of its value."""


_MINIMIZED = {"loss", "mae", "mse", "rmse"}


@dataclass(frozen=True)
class LoadedSearch:
    config: SearchConfig
    path: Path
    spec: LoadedSpec
    split: str
    metric: str
    direction: str
    paths: dict[str, tuple[str | int, ...]]
    discriminators: dict[tuple[str | int, ...], str]
    """`<section>.type` of each section a searched path goes through, written into a trial's
    spec where the file leaves the section out (its values take their defaults)."""

    @property
    def name(self) -> str:
        return self.path.name.split(".")[0]


def _field_names(value: Any) -> list[str]:
    fields = getattr(type(value), "model_fields", None)
    return list(fields) if fields else []


def _check_path(spec: Any, path: tuple[str | int, ...]) -> str | None:
    """None when `path` names a single value of the spec, else what is wrong."""
    value = spec
    for depth, part in enumerate(path):
        where = dotted(path[:depth]) or "the spec"
        if isinstance(part, int):
            if not isinstance(value, (list, tuple)) or part >= len(value):
                size = len(value) if isinstance(value, (list, tuple)) else 0
                return f"`{where}` has no item [{part}] ({size} items)"
            value = value[part]
            continue
        names = _field_names(value)
        if part not in names:
            hint = did_you_mean(part, names)
            return f"`{where}` has no field `{part}`" + (f"; {hint}" if hint else "")
        value = getattr(value, part)
    if _field_names(value) or isinstance(value, (list, tuple, dict)):
        return "it names a section, not a single value"
    return None


def _metric(config: SearchConfig, spec: Any) -> tuple[str, str, list[str]]:
    kind = task_kind(spec)
    names = ["loss", *kind.tracked_metrics, *resolved_metrics(spec)]
    if spec.task.type == "regression":
        names += ["mae", "mse", "rmse", "r2"]
    if spec.task.type == "seq2seq":
        names += ["token_accuracy", "sequence_accuracy"]
    names = list(dict.fromkeys(names))
    text = config.metric or f"validation.{kind.headline}"
    split, _, name = text.partition(".")
    return split, name, names


def _fail(errors: list[SpecError], source: SourceMap) -> SpecErrors:
    return SpecErrors(
        [e if e.location else e.with_location(source.location(e.path)) for e in errors]
    )


def load_search(path: str | Path) -> LoadedSearch:
    """Read and check a search file; raise `SpecErrors` (located) with every problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        why = "file not found" if isinstance(exc, FileNotFoundError) else f"cannot read: {exc}"
        raise SpecErrors([SpecError((), why, None, Location(str(path), 1, 1))]) from None
    data, source = load_yaml(path, text)
    if not isinstance(data, dict):
        raise SpecErrors(
            [
                SpecError(
                    (),
                    "expected a mapping (`spec:`, `parameters:`, ...)",
                    None,
                    Location(str(path), 1, 1),
                )
            ]
        )
    try:
        config = SearchConfig.model_validate(data)
    except ValidationError as exc:
        raise SpecErrors(translate(exc, source, SearchConfig)) from None
    spec_path = path.parent / config.spec
    try:
        loaded = load_spec(spec_path)
    except SpecErrors as errors:
        lead = SpecError(
            ("spec",), f"the spec {config.spec} is not valid ({len(errors.errors)} errors below)"
        )
        raise SpecErrors([*_fail([lead], source).errors, *errors.errors]) from None
    spec = loaded.spec
    problems: list[SpecError] = []
    paths: dict[str, tuple[str | int, ...]] = {}
    for name in config.parameters:
        try:
            parsed = parse_path(name)
        except PathSyntaxError as exc:
            problems.append(SpecError(("parameters", name), str(exc)))
            continue
        why = _check_path(spec, parsed)
        if why is not None:
            problems.append(SpecError(("parameters", name), f"not a value of the spec: {why}"))
        paths[name] = parsed
    split, metric, names = _metric(config, spec)
    if split == "test":
        problems.append(
            SpecError(
                ("metric",),
                "the test split is held out for the final figures; choosing on it would make "
                "them optimistic",
                "use `validation.<metric>`",
            )
        )
    elif split not in ("validation", "train") or metric not in names:
        problems.append(
            SpecError(
                ("metric",),
                f"expected `<split>.<metric>` with split validation or train and a metric of "
                f"this task ({', '.join(names)}), got `{config.metric}`",
            )
        )
    elif split == "validation" and spec.data.split.validation <= 0:
        problems.append(
            SpecError(
                ("metric",),
                f"the spec {config.spec} has no validation split (data.split.validation is 0)",
                "give the spec a validation split",
            )
        )
    if problems:
        raise _fail(problems, source)
    direction = config.direction
    if direction == "auto":
        direction = "minimize" if metric in _MINIMIZED else "maximize"
    types: dict[tuple[str | int, ...], str] = {}
    for parsed in paths.values():
        for depth in range(1, len(parsed)):
            section = _value(spec, parsed[:depth])
            if isinstance(getattr(section, "type", None), str):
                types[(*parsed[:depth], "type")] = section.type
    return LoadedSearch(config, path, loaded, split, metric, direction, paths, types)


def _value(spec: Any, path: tuple[str | int, ...]) -> Any:
    value = spec
    for part in path:
        value = value[part] if isinstance(part, int) else getattr(value, part)
    return value
