"""What the generated `data.py` needs for a subset of a built-in dataset: the constants and
comments of `data.classes` (classes kept, relabelled 0..k-1) and `data.limit_per_class` (first
N training examples of each class), rendered by `templates/data/sklearn.py.j2` and
`templates/data/limit.py.j2`. The spec checks (`specc.spec.checks_subset`) vouch for the values.
"""

from __future__ import annotations

from typing import Any

from specc.spec.schema import BuiltinData

from .pyfmt import comment_lines, constant

__all__ = ["subset_context"]


def subset_context(data: BuiltinData, binary: bool) -> dict[str, Any]:
    """Context keys `subset_constants`, `picked_classes` and `limit_per_class` (booleans say
    which code to render), `limit_labels` (how the limit reads class ids off the targets)."""
    lines: list[str] = []
    if data.classes is not None:
        lines += comment_lines(
            f"data.classes: only the examples of these {len(data.classes)} classes of "
            f"{data.dataset}, relabelled 0..{len(data.classes) - 1} in this order"
        )
        lines.append(constant("KEPT_CLASSES", tuple(data.classes)))
    if data.limit_per_class is not None:
        lines += comment_lines(
            "data.limit_per_class: training examples kept per class (the validation and test "
            "splits keep every example)"
        )
        lines.append(constant("LIMIT_PER_CLASS", data.limit_per_class))
    return {
        "subset_constants": "\n".join(lines),
        "picked_classes": data.classes is not None,
        "limit_per_class": data.limit_per_class is not None,
        # binary targets are (n, 1): the limit counts the flat 0/1 labels
        "limit_labels": "y[:, 0]" if binary else "y",
    }
