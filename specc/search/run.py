"""Run a search on Optuna: each trial a complete spec, built like any other, in one study that
lives in a storage and so survives interruption and can be shared by several workers.

- Storage: SQLite in the search folder by default (`specc search` again resumes the study);
  any Optuna storage URL (a PostgreSQL database, say) lets workers on several machines run
  trials of one study at once. The study's trial count is shared: a worker stops starting
  trials once the study holds `trials` of them, whoever ran them.
- A trial: the searched values are written into the spec's text (`edit.set_values`, the
  user's comments kept), the text is validated and built into `trials/<number>/` by the normal
  build (code, training, ONNX export, parity). A spec the values make invalid, or a build that
  fails, is a failed trial with its reason; never a crash of the search.
- Pruning: the metric is reported to Optuna after every epoch; a trial its pruner stops is
  recorded as pruned with the epochs it ran.
- Outputs (rewritten after every trial): `results.csv` (one row per trial), `search.png` (the
  metric against each searched value) and `importances.json` (which values mattered, once
  enough trials completed) in the search folder, and `<spec>.best.yaml` beside the spec: the
  best trial's complete spec, the user's comments kept, buildable as it is.
"""

from __future__ import annotations

import csv
import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from specc.atomic import atomic_path, write_text
from specc.excinfo import reason

from .config import LoadedSearch
from .edit import set_values

__all__ = ["SearchSummary", "best_spec_path", "default_search_dir", "run_search"]

IMPORTANCE_MIN_TRIALS = 4
"""Completed trials before parameter importances are computed."""


@dataclass(frozen=True)
class SearchSummary:
    study_name: str
    storage: str
    trials: list[dict[str, Any]]
    best: dict[str, Any] | None
    folder: Path


def default_search_dir(search: LoadedSearch) -> Path:
    return Path("search") / search.name


def best_spec_path(search: LoadedSearch) -> Path:
    """Where the best trial's spec is written: beside the searched spec, so that the relative
    paths in it (data files, a teacher) still resolve and it builds as it is."""
    spec = Path(os.path.normpath(search.spec.path))
    return spec.with_name(f"{spec.name.split('.')[0]}.best.yaml")


def _sqlite_url(path: Path) -> str:
    return f"sqlite:///{path.resolve()}"


HEARTBEAT_S = 30
"""A running trial's worker writes a heartbeat this often; a trial whose worker was killed is
marked failed once its heartbeat is three times that old, so a resumed study is not held up."""


def _storage(url: str) -> Any:
    import optuna

    if not url.startswith(("sqlite:", "postgresql", "mysql")):
        return url
    import warnings

    engine = {"connect_args": {"timeout": 60}} if url.startswith("sqlite:") else None
    with warnings.catch_warnings():  # heartbeats are marked experimental in Optuna
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.storages.RDBStorage(
            url,
            engine_kwargs=engine,
            heartbeat_interval=HEARTBEAT_S,
            grace_period=3 * HEARTBEAT_S,
        )


def _sampler(search: LoadedSearch, existing: int) -> Any:
    import optuna

    seed = search.config.seed
    if seed is not None:
        # each worker and each resumed run draws its own values: the same seed would replay
        # the values of the trials already in the study
        seed = (seed * 1_000_003 + existing * 7_919 + os.getpid()) % (2**32)
    if search.config.sampler == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    return optuna.samplers.RandomSampler(seed=seed)


def _pruner(search: LoadedSearch) -> Any:
    import optuna

    if search.config.pruner == "none":
        return optuna.pruners.NopPruner()
    return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=2)


def _epoch_key(search: LoadedSearch) -> str:
    """The per-epoch Keras log that tracks the searched metric."""
    metric = {"token_accuracy": "accuracy"}.get(search.metric, search.metric)
    return f"val_{metric}" if search.split == "validation" else metric


class _TrialProgress:
    """The build's progress sink for one trial: silent, but reports each epoch to Optuna and
    stops the trial when the pruner says so."""

    def __init__(self, trial: Any, key: str):
        from specc.builder.progress import Progress

        self.inner = Progress(quiet=True)
        self.trial, self.key, self.epochs = trial, key, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def keras_callback(self, epochs: int):
        import keras
        import optuna

        sink = self

        class _Report(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                sink.epochs = epoch + 1
                value = (logs or {}).get(sink.key)
                if value is None or not math.isfinite(float(value)):
                    return
                sink.trial.report(float(value), epoch)
                if sink.trial.should_prune():
                    raise optuna.TrialPruned(f"stopped by the pruner after epoch {epoch + 1}")

        return _Report()


def _objective(search: LoadedSearch, folder: Path) -> Callable[[Any], float]:
    import optuna

    from specc.builder import BuildError, build
    from specc.spec import SpecErrors

    text = search.spec.text
    spec_path = search.spec.path

    def objective(trial: optuna.Trial) -> float:
        values = {
            name: dist.suggest(trial, name) for name, dist in search.config.parameters.items()
        }
        try:
            chosen = {search.paths[n]: v for n, v in values.items()}
            trial_text = set_values(text, chosen, search.discriminators)
        except KeyError as exc:
            trial.set_user_attr("reason", f"cannot write the values: {exc.args[0]}")
            raise
        trial.set_user_attr("spec", trial_text)
        out = folder / "trials" / f"{trial.number:04d}"
        progress = _TrialProgress(trial, _epoch_key(search))
        started = time.perf_counter()
        try:
            result = build(
                spec_path,
                out,
                force=True,
                progress=progress,
                spec_text=trial_text,  # type: ignore[arg-type]
            )
        except SpecErrors as errors:
            trial.set_user_attr(
                "reason",
                "invalid spec: "
                + "; ".join(e.format().split(": ", 1)[-1] for e in errors.errors[:3]),
            )
            raise
        except BuildError as exc:
            if isinstance(exc.__cause__, optuna.TrialPruned) or isinstance(
                getattr(exc.__cause__, "__cause__", None), optuna.TrialPruned
            ):
                trial.set_user_attr("epochs", progress.epochs)
                raise optuna.TrialPruned(str(exc.__cause__)) from None
            trial.set_user_attr("reason", f"build failed at {exc.stage}: {exc.message}")
            raise
        finally:
            trial.set_user_attr("seconds", round(time.perf_counter() - started, 2))
        trial.set_user_attr("epochs", int(result.metrics.get("epochs_run", 0)))
        trial.set_user_attr("test", result.metrics["metrics"].get("test", {}))
        value = result.metrics["metrics"].get(search.split, {}).get(search.metric)
        if value is None or not math.isfinite(float(value)):
            trial.set_user_attr("reason", f"no finite {search.split}.{search.metric}")
            raise ValueError(f"no finite {search.split}.{search.metric} in the build's metrics")
        return float(value)

    return objective


def _rows(study: Any) -> list[dict[str, Any]]:
    rows = []
    for t in study.trials:
        rows.append(
            {
                "number": t.number,
                "state": t.state.name.lower(),
                "value": t.value,
                **{f"param:{k}": v for k, v in t.params.items()},
                **{f"test:{k}": v for k, v in (t.user_attrs.get("test") or {}).items()},
                "epochs": t.user_attrs.get("epochs"),
                "seconds": t.user_attrs.get("seconds"),
                "reason": t.user_attrs.get("reason", ""),
            }
        )
    return rows


def _write_outputs(search: LoadedSearch, study: Any, folder: Path) -> dict[str, Any] | None:
    import optuna

    rows = _rows(study)
    fields = list(dict.fromkeys(k for r in rows for k in r))
    with atomic_path(folder / "results.csv", suffix=".csv") as tmp:
        with open(tmp, "w", newline="", encoding="utf-8") as file:
            writer = csv.DictWriter(file, fieldnames=fields)
            writer.writeheader()
            writer.writerows(rows)
    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if not done:
        return None
    best = study.best_trial
    header = (
        f"# The best trial ({best.number}) of the search {search.path.name}: "
        f"{search.split}.{search.metric} = {best.value:.6g}\n"
    )
    write_text(best_spec_path(search), header + best.user_attrs["spec"])
    _plot(search, done, folder / "search.png")
    if len(done) >= IMPORTANCE_MIN_TRIALS and len(search.config.parameters) > 1:
        try:
            importances = optuna.importance.get_param_importances(study)
        except Exception as exc:  # too little variation, say: the rest still stands
            importances = {"error": reason(exc)}
        write_text(folder / "importances.json", json.dumps(importances, indent=2) + "\n")
    return {"number": best.number, "value": best.value, "params": best.params}


def _plot(search: LoadedSearch, done: list[Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(search.config.parameters)
    fig, axes = plt.subplots(1, len(names), figsize=(4 * len(names), 3.2), squeeze=False)
    for ax, name in zip(axes[0], names, strict=True):
        dist = search.config.parameters[name]
        xs = [t.params.get(name) for t in done]
        ys = [t.value for t in done]
        if dist.kind == "choice":
            labels = [str(c) for c in dist.choice or []]
            ax.scatter([labels.index(str(x)) for x in xs], ys)
            ax.set_xticks(range(len(labels)), labels)
        else:
            ax.scatter(xs, ys)
            if dist.logscale:
                ax.set_xscale("log")
        ax.set_xlabel(name)
        ax.set_ylabel(f"{search.split}.{search.metric}")
    fig.tight_layout()
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=100)
    plt.close(fig)


_RACES = ("unique", "already exists", "database is locked", "duplicat")
"""What a storage says when another worker is creating the same tables or study at that moment."""


def _open_study(name: str, url: str, search: LoadedSearch) -> Any:
    """Create the storage's tables and the study, or load them. Workers that start together
    race to create them: the losers (a table that already exists, a unique-name violation)
    retry and then load what the winner created."""
    import optuna

    last: Exception | None = None
    for attempt in range(8):
        try:
            return optuna.create_study(
                study_name=name,
                storage=_storage(url),
                direction=search.direction,
                load_if_exists=True,
                pruner=_pruner(search),
            )
        except Exception as exc:  # sqlalchemy's IntegrityError/OperationalError, optuna's own
            text = f"{type(exc).__name__} {exc}".lower()
            if not any(race in text for race in _RACES):
                raise
            last = exc
            time.sleep(0.25 * (attempt + 1))
    raise RuntimeError(f"the storage stayed busy: {last}")


def run_search(
    search: LoadedSearch,
    folder: Path,
    *,
    trials: int | None = None,
    timeout: float | None = None,
    storage: str | None = None,
    say: Callable[[str], None] = lambda _: None,
) -> SearchSummary:
    """Run trials of the search's study until it holds `trials` of them (default: the search
    file's) or `timeout` seconds have passed; return what the study holds."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)  # failures: our own line says why
    folder.mkdir(parents=True, exist_ok=True)
    url = storage or _sqlite_url(folder / "study.db")
    total = trials if trials is not None else search.config.trials
    timeout = timeout if timeout is not None else search.config.timeout
    name = f"specc-{search.name}"
    study = _open_study(name, url, search)
    study.sampler = _sampler(search, len(study.trials))
    finished = (
        optuna.trial.TrialState.COMPLETE,
        optuna.trial.TrialState.PRUNED,
        optuna.trial.TrialState.FAIL,
    )
    running = optuna.trial.TrialState.RUNNING
    started = time.monotonic()

    def counted() -> int:
        return len(study.get_trials(deepcopy=False, states=finished))

    def after(study: Any, trial: Any) -> None:
        _write_outputs(search, study, folder)
        n = counted()
        why = trial.user_attrs.get("reason")
        if trial.state == optuna.trial.TrialState.PRUNED:
            what = f"pruned after epoch {trial.user_attrs.get('epochs')}"
        elif trial.value is not None:
            what = f"{search.split}.{search.metric} {trial.value:.4f}"
        else:
            what = trial.state.name.lower() + (f": {why}" if why else "")
        try:
            best = f"best {study.best_value:.4f} (trial {study.best_trial.number})"
        except ValueError:
            best = "no completed trial yet"
        left = ""
        if timeout is not None:
            left = f", {max(0.0, timeout - (time.monotonic() - started)):.0f} s left"
        say(f"trial {trial.number} ({n} of {total}): {what}; {best}{left}")

    existing = counted()
    if existing >= total:
        say(f"the study already holds {existing} finished trials of {total}; nothing to run")
    else:
        say(
            f"search {search.path.name}: {total} trials in study `{name}` ({existing} already "
            f"done), {search.config.sampler} sampling, storage {url}"
        )
        study.optimize(
            _objective(search, folder),
            timeout=timeout,
            # running trials of other workers count too, so that together they run `total`
            callbacks=[optuna.study.MaxTrialsCallback(total, states=(*finished, running)), after],
            catch=(Exception,),
        )
    best = _write_outputs(search, study, folder)
    return SearchSummary(name, url, _rows(study), best, folder)
