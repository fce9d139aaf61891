"""Bounds on a spec document, checked before and right after parsing, so that no file (an
alias bomb, a deeply nested or huge document, an integer of thousands of digits) can make
`specc validate` slow, hungry or crash: each is a located error, answered in well under a
second.

- `MAX_BYTES`: the size of the file;
- `MAX_DIGITS`: the length of a run of digits (Python refuses to convert integers of more than
  4,300 digits; no spec value needs more than a few dozen);
- `MAX_DEPTH`: how deeply mappings and sequences nest;
- `MAX_NODES`: the number of values in the document with every alias expanded (YAML aliases
  let a few hundred bytes stand for billions of values); the count is taken on the composed
  node graph, where an alias is a shared node, without expanding anything.
"""

from __future__ import annotations

import re
from typing import Any

from .errors import Location, SpecError

__all__ = [
    "MAX_BYTES",
    "MAX_DEPTH",
    "MAX_DIGITS",
    "MAX_NODES",
    "check_text",
    "check_tree",
    "nested_too_deeply",
]

MAX_BYTES = 1_000_000
MAX_DIGITS = 1000
MAX_DEPTH = 64
MAX_NODES = 100_000

_DIGITS = re.compile(rf"\d{{{MAX_DIGITS + 1},}}")


def _location(file: str, text: str, offset: int) -> Location:
    line = text.count("\n", 0, offset) + 1
    return Location(file, line, offset - (text.rfind("\n", 0, offset) + 1) + 1)


def check_text(text: str, file: str) -> SpecError | None:
    """The first bound the raw text breaks (size, a too long number), or None."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_BYTES:
        return SpecError(
            (),
            f"the file is {size:,} bytes; a spec may be at most {MAX_BYTES:,}",
            "a spec describes a model; keep data in `data.path` files",
            Location(file, 1, 1),
        )
    match = _DIGITS.search(text)
    if match is not None:
        return SpecError(
            (),
            f"a number of {len(match.group()):,} digits; at most {MAX_DIGITS} are allowed",
            None,
            _location(file, text, match.start()),
        )
    return None


def nested_too_deeply(file: str) -> SpecError:
    """The error for a document whose nesting exhausted the parser."""
    return SpecError(
        (),
        f"the document nests too deeply (more than {MAX_DEPTH} levels)",
        None,
        Location(file, 1, 1),
    )


def check_tree(root: Any, file: str) -> SpecError | None:
    """The first bound the composed YAML node graph breaks (depth, values after expanding
    aliases), or None. Iterative, and each shared (aliased) node is counted once per use
    without walking it again."""
    import yaml

    def children(node: Any) -> list[Any]:
        if isinstance(node, yaml.MappingNode):
            return [n for pair in node.value for n in pair]
        if isinstance(node, yaml.SequenceNode):
            return list(node.value)
        return []

    def at(node: Any) -> Location:
        return Location(file, node.start_mark.line + 1, node.start_mark.column + 1)

    # depth first, post-order, with the expanded size of every node memoised by identity
    sizes: dict[int, int] = {}
    stack: list[tuple[Any, int, bool]] = [(root, 1, False)]
    on_path: set[int] = set()
    while stack:
        node, depth, expanded = stack.pop()
        key = id(node)
        if expanded:
            on_path.discard(key)
            total = 1 + sum(sizes[id(child)] for child in children(node))
            if total > MAX_NODES:
                return SpecError(
                    (),
                    f"the document expands to more than {MAX_NODES:,} values "
                    "(through YAML aliases `*name`)",
                    "write the values out; a spec needs no aliases of large parts",
                    at(node),
                )
            sizes[key] = total
            continue
        if key in sizes:
            continue
        if depth > MAX_DEPTH:
            return SpecError(
                (), f"the document nests more than {MAX_DEPTH} levels deep", None, at(node)
            )
        if key in on_path:  # a recursive alias (the node contains itself)
            return SpecError((), "a YAML alias refers to a value that contains it", None, at(node))
        on_path.add(key)
        stack.append((node, depth, True))
        for child in children(node):
            if id(child) not in sizes:
                stack.append((child, depth + 1, False))
    return None
