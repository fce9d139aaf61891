"""Lint rules that read the real data (`specc lint --data`, `validate --data`, every build).

The examples are loaded and split by the very code the build trains with: the generated
`spec_data.py` (it needs NumPy and scikit-learn, never TensorFlow) is written to a temporary
folder, imported, and its `load_examples()` and `split_examples()` called. So the "shared
between train and test" rule sees the split training will see. numpy is imported here, lazily
by `specc.lint.run`, only when data rules run.
"""

from __future__ import annotations

import contextlib
import io
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .base import Finding, LintContext, rule

__all__ = ["DataFacts", "load_facts"]

# More than this fraction of repeated examples is worth a look (repeats weigh those examples
# more and leak between splits); a few can be genuine.
DUPLICATE_FRACTION = 0.01

# The largest class this many times the smallest: accuracy starts to reward always guessing the
# majority class (a common working threshold for "imbalanced"; see imbalanced-learn's user guide).
IMBALANCE_RATIO = 3.0


@dataclass(frozen=True)
class DataFacts:
    """The examples before the split, the three splits, what loading printed, or why it
    failed (`error`, and nothing else set)."""

    x: dict[str, Any] | None = None
    y: Any = None
    splits: dict[str, tuple[dict[str, Any], Any]] | None = None
    printed: str = ""
    error: str | None = None


def load_facts(ctx: LintContext) -> DataFacts:
    """Load and split the data with the generated data code."""
    from specc.codegen import generate
    from specc.codegen.layout import MODULES
    from specc.codegen.loader import generated_modules

    try:
        code = generate(ctx.loaded, ctx.graph)
    except Exception as exc:  # a bug in specc (CodeAuditError): say it, do not crash the lint
        return DataFacts(error=f"the data code could not be generated: {exc}")
    name = f"{MODULES['data']}.py"
    printed = io.StringIO()
    with tempfile.TemporaryDirectory(prefix="specc-lint-") as folder:
        (Path(folder) / name).write_text(code.files[name], encoding="utf-8")
        try:
            with (
                generated_modules(folder, ("data",)) as modules,
                contextlib.redirect_stdout(printed),
            ):
                x, y = modules["data"].load_examples()
                data = modules["data"]
                splits = dict(data.split_examples(x, y, ctx.spec.seed))
                if "test" not in splits:  # a given test split (data.test), loaded apart
                    splits["test"] = data.load_test_examples()
        except Exception as exc:  # the data's own problem, said by the generated code
            text = " ".join(str(exc).split()) or type(exc).__name__  # one line
            return DataFacts(printed=printed.getvalue(), error=text)
    return DataFacts(x, y, splits, printed.getvalue())


def _rows(x: dict[str, Any], y: Any | None = None) -> list[bytes]:
    """One bytes key per example: every input (and the target, if given) side by side."""
    import numpy as np

    arrays = [np.ascontiguousarray(x[k]).reshape(len(x[k]), -1) for k in sorted(x)]
    if y is not None:
        arrays.append(np.ascontiguousarray(y).reshape(len(y), -1))
    count = len(arrays[0])
    return [b"|".join(a[i].tobytes() for a in arrays) for i in range(count)]


def _facts(ctx: LintContext) -> DataFacts | None:
    facts = ctx.data
    return facts if isinstance(facts, DataFacts) and facts.error is None else None


@rule(
    "SPC301",
    "error",
    "the data cannot be loaded",
    "Missing values, unreadable files or wrong types stop training; lint says so first.",
    data=True,
)
def data_loads(ctx: LintContext) -> Iterator[Finding]:
    facts = ctx.data
    if ctx.samples == 0:
        yield Finding(("data",), "the data holds no examples", "add examples to the data file")
    elif isinstance(facts, DataFacts) and facts.error is not None:
        yield Finding(
            ("data",),
            f"loading the data fails: {facts.error}",
            "fix the data file or the `data` section",
        )


@rule(
    "SPC302",
    "warning",
    "duplicated examples",
    "Repeated examples weigh more in training and land in several splits, flattering the "
    "test metrics.",
    data=True,
)
def duplicates(ctx: LintContext) -> Iterator[Finding]:
    facts = _facts(ctx)
    if facts is None:
        return
    rows = _rows(facts.x, facts.y)
    repeated = len(rows) - len(set(rows))
    if repeated and repeated > DUPLICATE_FRACTION * len(rows):
        yield Finding(
            ("data",),
            f"{repeated} of {len(rows)} examples repeat an earlier one (same inputs and target)",
            "remove the repeats from the data",
        )


@rule(
    "SPC303",
    "warning",
    "examples shared between the training and test splits",
    "A test example also seen in training measures memory, not generalisation.",
    data=True,
)
def train_test_overlap(ctx: LintContext) -> Iterator[Finding]:
    facts = _facts(ctx)
    if facts is None:
        return
    train = set(_rows(facts.splits["train"][0]))
    test = _rows(facts.splits["test"][0])
    shared = sum(1 for row in test if row in train)
    if shared:
        yield Finding(
            ("data",),
            f"{shared} of {len(test)} test examples have the same inputs as a training example",
            "remove repeated examples before splitting",
        )


@rule(
    "SPC304",
    "info",
    "missing values handled by `data.missing`",
    "NaN and inf cannot be trained on; `data.missing` drops or imputes them, and it is worth "
    "knowing how many.",
    data=True,
)
def missing_values(ctx: LintContext) -> Iterator[Finding]:
    import numpy as np

    facts = _facts(ctx)
    if facts is None:
        return
    dropped = [line for line in facts.printed.splitlines() if "dropped" in line]
    for line in dropped:
        yield Finding(("data", "missing"), line)
    for name, array in facts.x.items():
        if array.dtype.kind == "f":
            bad = int((~np.isfinite(array)).sum())
            if bad:
                yield Finding(
                    ("data", "missing"),
                    f"input `{name}` holds {bad} NaN or inf value{'s' if bad != 1 else ''}, "
                    "imputed with training means",
                )


@rule(
    "SPC305",
    "info",
    "constant features",
    "A feature with one value over the training split carries no information.",
    data=True,
)
def constant_features(ctx: LintContext) -> Iterator[Finding]:
    import numpy as np

    facts = _facts(ctx)
    if facts is None:
        return
    x_train = facts.splits["train"][0]
    for index, node in enumerate(ctx.graph.inputs):
        array = x_train.get(node.name)
        if array is None or array.dtype.kind != "f" or len(array) < 2:
            continue
        flat = array.reshape(len(array), -1)
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN column: not constant
            constant = np.flatnonzero(np.nanmax(flat, axis=0) == np.nanmin(flat, axis=0))
        if constant.size:
            first = ", ".join(str(i) for i in constant[:8]) + (", ..." if constant.size > 8 else "")
            yield Finding(
                ("model", "inputs", index),
                f"{constant.size} of {flat.shape[1]} features of `{node.name}` are constant "
                f"over the training split (flat indices {first})",
                "drop them from the data if nothing else needs them",
            )


@rule(
    "SPC306",
    "warning",
    "class imbalance without class weights",
    "With one class several times as frequent as another, the loss is dominated by the "
    "majority class; `class_weight: balanced` reweighs it.",
    data=True,
)
def class_imbalance(ctx: LintContext) -> Iterator[Finding]:
    import numpy as np

    from specc.spec.tasks import task_kind

    facts, spec = _facts(ctx), ctx.spec
    kind = task_kind(spec)
    if facts is None or not kind.class_targets or spec.training.class_weight != "none":
        return
    classes = kind.classes(spec.task) or 2
    labels = np.asarray(facts.y).reshape(-1).astype(np.int64)
    counts = np.bincount(labels, minlength=classes)
    smallest, largest = int(counts.min()), int(counts.max())
    if smallest == 0 or largest > IMBALANCE_RATIO * smallest:
        yield Finding(
            ("training", "class_weight"),
            f"class counts range from {smallest} (class {int(counts.argmin())}) to {largest} "
            f"(class {int(counts.argmax())}) and no class weights are set",
            "set `class_weight: balanced`",
        )
