"""Checks of the subset settings of a built-in dataset: `data.classes` (which classes, relabelled
0..k-1) and `data.limit_per_class` (how many training examples of each class), for few-shot and
transfer-learning specs. What they select is computed by the generated `data.py`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from .checks_base import check
from .datasets import DATASETS
from .errors import SpecError
from .schema import BuiltinData, Spec

__all__ = ["picked_classes"]


def picked_classes(data: BuiltinData) -> int | None:
    """How many classes the spec's data holds: those of `data.classes`, else the dataset's."""
    if data.classes is not None:
        return len(data.classes)
    return DATASETS[data.dataset].classes


@check
def data_subset_fits(spec: Spec, _: Path) -> Iterator[SpecError]:
    data = spec.data
    if not isinstance(data, BuiltinData):
        return
    info = DATASETS[data.dataset]
    if data.classes is not None:
        if info.task != "multiclass":
            yield SpecError(
                ("data", "classes"),
                f"`classes` picks classes of a multiclass dataset; `{data.dataset}` is a "
                f"{info.task} dataset",
                "remove `classes`",
            )
        else:
            count = info.classes or 0
            seen: set[int] = set()
            for i, label in enumerate(data.classes):
                if label >= count:
                    yield SpecError(
                        ("data", "classes", i),
                        f"dataset `{data.dataset}` has classes 0..{count - 1}, got {label}",
                        f"pick labels from 0 to {count - 1}",
                    )
                elif label in seen:
                    yield SpecError(
                        ("data", "classes", i), f"class {label} is picked twice", "remove one"
                    )
                seen.add(label)
    if data.limit_per_class is not None and info.task not in ("multiclass", "binary"):
        yield SpecError(
            ("data", "limit_per_class"),
            f"`limit_per_class` applies to classification datasets; `{data.dataset}` is a "
            f"{info.task} dataset",
            "remove `limit_per_class`",
        )
