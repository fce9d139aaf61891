"""One small example spec per lint rule: a change to a base spec that makes the rule fire, and
one that does not. `docs/lint.md` shows each example with the real output of `specc lint` on it
(`python -m tools.docs_gen`), and `tests/test_lint.py` checks both halves of every example, so
the rule list, the docs and the behaviour cannot drift apart.

A change is a mapping merged into `BASE` (mappings merge, other values replace, `None` removes
the key); `files` are data files written next to the spec.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = ["BASE", "EXAMPLES", "Example", "lint_example", "spec_text"]

BASE: dict[str, Any] = {
    "specc": 1,
    "name": "example",
    "seed": 1,
    "task": {"type": "multiclass", "classes": 3},
    "data": {"type": "builtin", "dataset": "sklearn:iris"},
    "model": {
        "inputs": [{"name": "features", "shape": [4]}],
        "layers": [{"type": "dense", "units": 8}, {"type": "dense", "units": 3}],
    },
    "training": {"batch_size": 16, "epochs": 10},
}


@dataclass(frozen=True)
class Example:
    fire: dict[str, Any]
    """The change to `BASE` that makes the rule fire."""
    quiet: dict[str, Any] = field(default_factory=dict)
    """A change (often none) for which it does not."""
    files: dict[str, str] = field(default_factory=dict)
    """Data files for the spec, by name."""
    quiet_files: dict[str, str] | None = None
    """Data files for the quiet half, if not `files`."""


def _dense(*units: int, **last: Any) -> list[dict[str, Any]]:
    layers: list[dict[str, Any]] = [{"type": "dense", "units": u} for u in units]
    layers[-1].update(last)
    return layers


_DIGITS = {
    "task": {"type": "multiclass", "classes": 10},
    "data": {"dataset": "sklearn:digits"},
    "model": {"inputs": [{"name": "pixels", "shape": [64]}], "layers": _dense(32, 10)},
}
_DIABETES = {
    "task": {"type": "regression", "classes": None},
    "data": {"dataset": "sklearn:diabetes"},
    "model": {"inputs": [{"name": "features", "shape": [10]}], "layers": _dense(16, 1)},
}
_CSV = {
    "task": {"type": "binary", "classes": None},
    "data": {"type": "csv", "dataset": None, "path": "data.csv", "target": "label"},
    "model": {"inputs": [{"name": "features", "shape": [2]}], "layers": _dense(4, 1)},
}
_BACKBONE = {
    "task": {"type": "multiclass", "classes": 10},
    "data": {"dataset": "sklearn:digits"},
    "model": {
        "inputs": [{"name": "pixels", "shape": [8, 8, 1]}],
        "layers": [
            {"type": "backbone", "source": "pretrained.keras", "output_shape": [64]},
            {"type": "dense", "units": 10},
        ],
    },
}


def _merge(base: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in change.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _csv(rows: list[tuple[float | str, float | str, int]]) -> str:
    return "a,b,label\n" + "".join(f"{a},{b},{label}\n" for a, b, label in rows)


_CLEAN_ROWS = [(i * 0.5, (i * 7) % 11, i % 2) for i in range(60)]
_REPEATED_ROWS = [(i % 10, i % 10, i % 2 if i < 10 else (i % 10) % 2) for i in range(60)]
_NAN_ROWS = [("nan" if i == 3 else i * 0.5, (i * 7) % 11, i % 2) for i in range(60)]
_IMBALANCED_ROWS = [(i * 0.5, (i * 7) % 11, 1 if i % 10 == 0 else 0) for i in range(60)]

_CLEAN = {"data.csv": _csv(_CLEAN_ROWS)}

EXAMPLES: dict[str, Example] = {
    "SPC101": Example({"model": {"layers": _dense(64, 3)}}),
    "SPC102": Example({"model": {"layers": [*_dense(1, activation="softmax"), *_dense(3)]}}),
    "SPC103": Example(
        {"model": {"layers": [*_dense(16, 16, 16, activation="tanh"), *_dense(3)]}},
        {"model": {"layers": _dense(16, 16, 16, 3)}},
    ),
    "SPC104": Example(
        _merge(_DIABETES, {"model": {"layers": _dense(16, 1, activation="relu")}}), _DIABETES
    ),
    "SPC105": Example({"model": {"layers": _dense(8, 3, dropout=0.2)}}),
    "SPC106": Example(
        _merge(_DIGITS, {"model": {"layers": _dense(2, 10)}}),
        _merge(_DIGITS, {"model": {"layers": _dense(16, 10)}}),
    ),
    "SPC201": Example({"training": {"batch_size": 24}}),
    "SPC202": Example({"training": {"batch_size": 256}}),
    "SPC203": Example(_merge(_DIGITS, {"training": {"batch_size": 1}}), _DIGITS),
    "SPC204": Example(_merge(_DIGITS, {"training": {"batch_size": "full"}}), _DIGITS),
    "SPC205": Example(
        _merge(_DIGITS, {"model": {"layers": _dense(256, 256, 10)}}),
        _merge(_DIGITS, {"model": {"layers": _dense(32, 10)}}),
    ),
    "SPC206": Example({"training": {"optimizer": {"type": "adam", "learning_rate": 0.01}}}),
    "SPC207": Example({"training": {"schedule": {"type": "cosine"}}}),
    "SPC208": Example({"seed": None}),
    "SPC209": Example({"training": {"augmentation": {"flip": "horizontal"}}}),
    "SPC301": Example(_CSV, _CSV, files={"data.csv": _csv(_NAN_ROWS)}, quiet_files=_CLEAN),
    "SPC302": Example(_CSV, _CSV, files={"data.csv": _csv(_REPEATED_ROWS)}, quiet_files=_CLEAN),
    "SPC303": Example(_CSV, _CSV, files={"data.csv": _csv(_REPEATED_ROWS)}, quiet_files=_CLEAN),
    "SPC304": Example(
        _merge(_CSV, {"data": {"missing": "impute_mean"}}),
        _merge(_CSV, {"data": {"missing": "impute_mean"}}),
        files={"data.csv": _csv(_NAN_ROWS)},
        quiet_files=_CLEAN,
    ),
    "SPC305": Example(_DIGITS),
    "SPC306": Example(
        _CSV,
        _merge(_CSV, {"training": {"class_weight": "balanced"}}),
        files={"data.csv": _csv(_IMBALANCED_ROWS)},
    ),
    "SPC401": Example(
        _merge(
            _BACKBONE,
            {
                "model": {
                    "layers": [
                        {
                            **_BACKBONE["model"]["layers"][0],
                            "similarity": "similar",
                            "freeze": "fine_tune",
                        },
                        _BACKBONE["model"]["layers"][1],
                    ]
                }
            },
        ),
        _merge(
            _BACKBONE,
            {
                "model": {
                    "layers": [
                        {**_BACKBONE["model"]["layers"][0], "similarity": "similar"},
                        _BACKBONE["model"]["layers"][1],
                    ]
                }
            },
        ),
        files={"pretrained.keras": ""},
    ),
    "SPC402": Example(
        _merge(
            _BACKBONE,
            {
                "model": {
                    "layers": [
                        {
                            "type": "backbone",
                            "source": "applications:MobileNetV2",
                            "weights": None,
                            "output_shape": [1280],
                        },
                        _BACKBONE["model"]["layers"][1],
                    ]
                }
            },
        ),
        _merge(
            _BACKBONE,
            {
                "model": {
                    "layers": [
                        {
                            "type": "backbone",
                            "source": "applications:MobileNetV2",
                            "weights": None,
                            "output_shape": [1280],
                            "freeze": "fine_tune",
                        },
                        _BACKBONE["model"]["layers"][1],
                    ]
                }
            },
        ),
    ),
}
"""Rule id -> its example."""


def spec_text(change: dict[str, Any]) -> str:
    """The YAML text of `BASE` with `change` merged in."""
    return yaml.safe_dump(_merge(BASE, change), sort_keys=False, default_flow_style=None)


def lint_example(rule_id: str, folder: Path, *, fire: bool = True) -> list[Any]:
    """Write the example (spec `example.yaml` and its files) into `folder`; return every
    diagnostic of `specc lint --data` on it."""
    from specc.lint import run
    from specc.pipeline import compile_spec

    example = EXAMPLES[rule_id]
    files = example.files if fire or example.quiet_files is None else example.quiet_files
    for name, content in files.items():
        (folder / name).write_text(content, encoding="utf-8")
    path = folder / "example.yaml"
    path.write_text(spec_text(example.fire if fire else example.quiet), encoding="utf-8")
    compiled = compile_spec(path)
    return run(compiled.loaded, compiled.graph, data=True)
