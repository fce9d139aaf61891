"""Set values at dotted paths in a YAML text, keeping everything else of it as it was.

The edit works on the text, at the positions PyYAML reports for each node, so the user's
comments, order and layout survive: a search trial's spec (and the best one, written out for
the user) reads like the spec it came from, with only the searched values changed. A value
whose key is not written in the file is added to the mapping that should hold it (on its own
line in a block mapping, after the last entry in a flow one), as a flow mapping when the keys
above it are missing too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import yaml

from specc.spec.errors import dotted

__all__ = ["PathSyntaxError", "parse_path", "scalar_text", "set_values"]

_PART = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)((?:\[\d+\])*)")


class PathSyntaxError(ValueError):
    """A dotted path that is not `name.name[index].name`."""


def parse_path(dotted: str) -> tuple[str | int, ...]:
    """`model.layers[1].units` -> ('model', 'layers', 1, 'units')."""
    parts: list[str | int] = []
    for piece in dotted.split("."):
        match = _PART.fullmatch(piece)
        if match is None:
            raise PathSyntaxError(
                f"`{dotted}` is not a dotted spec path (write it like `model.layers[1].units`)"
            )
        parts.append(match.group(1))
        parts += [int(i) for i in re.findall(r"\[(\d+)\]", match.group(2))]
    return tuple(parts)


def scalar_text(value: Any) -> str:
    """`value` as a YAML flow scalar (JSON is valid YAML for numbers, booleans and strings)."""
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, float):
        return repr(value) if value == value and abs(value) != float("inf") else json.dumps(value)
    if isinstance(value, int):
        return str(value)
    return json.dumps(str(value))


def _flow(parts: tuple[str | int, ...], value: Any) -> str:
    """A flow mapping that holds `value` at `parts` (keys only)."""
    text = scalar_text(value)
    for key in reversed(parts):
        text = f"{{{key}: {text}}}"
    return text


def _find(node: yaml.Node, key: str | int) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                return v
    if isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
        return node.value[key]
    return None


def _one(text: str, path: tuple[str | int, ...], value: Any, keep: bool = False) -> str:
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    if root is None:
        raise KeyError("the document is empty")
    node, depth = root, 0
    while depth < len(path):
        child = _find(node, path[depth])
        if child is None:
            break
        node, depth = child, depth + 1
    if depth == len(path):  # the key is written: replace its value
        if keep:
            return text
        if not isinstance(node, yaml.ScalarNode):
            raise KeyError(f"`{dotted(path)}` holds a {node.id}, not a single value")
        start, end = node.start_mark.index, node.end_mark.index
        return text[:start] + scalar_text(value) + text[end:]
    missing = path[depth:]
    if not isinstance(node, yaml.MappingNode) or isinstance(missing[0], int):
        raise KeyError(f"`{dotted(path[: depth + 1])}` is not written in the spec")
    if any(isinstance(p, int) for p in missing):
        raise KeyError(f"`{dotted(path[: depth + 1])}` is not written in the spec")
    head, rest = missing[0], missing[1:]
    value_text = _flow(rest, value) if rest else scalar_text(value)  # type: ignore[arg-type]
    if node.flow_style or not node.value:
        if not node.value:
            raise KeyError(f"`{dotted(path[:depth])}` is empty; write the value in the spec")
        last = node.value[-1][1]
        at = last.end_mark.index
        return text[:at] + f", {head}: {value_text}" + text[at:]
    first_key = node.value[0][0]
    indent = first_key.start_mark.column
    last = node.value[-1][1]
    at = last.end_mark.index
    # the end of the last value's line (a block value ends at the start of the next line)
    line_end = text.find("\n", at if text[at - 1 : at] != "\n" else at - 1)
    line_end = len(text) if line_end == -1 else line_end
    addition = "\n" + " " * indent + f"{head}: {value_text}"
    return text[:line_end] + addition + text[line_end:]


def set_values(
    text: str,
    values: Mapping[tuple[str | int, ...], Any],
    missing: Mapping[tuple[str | int, ...], Any] | None = None,
) -> str:
    """`text` with each path of `values` set to its value, and each path of `missing` set only
    where the file does not write it (the `type` of a section the values add, say). Raises
    `KeyError` for a path that cannot be set (an index past the end, a path through a value)."""
    for path, value in (missing or {}).items():
        text = _one(text, path, value, keep=True)
    for path, value in values.items():
        text = _one(text, path, value)
    return text
