"""YAML loading that keeps line/column positions, so every error can point into the file.

`load_yaml` returns the plain Python data (what PyYAML's safe loader builds) and a `SourceMap`
that finds the position of any dotted path in it. Duplicate keys, which PyYAML silently accepts,
are reported as errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import Location, SpecError
from .limits import check_text, check_tree, nested_too_deeply

__all__ = ["SourceMap", "load_yaml"]

PathPart = str | int


@dataclass
class _Node:
    """A YAML node reduced to what error reporting needs."""

    line: int
    col: int
    key_line: int | None = None
    key_col: int | None = None
    children: dict[PathPart, _Node] = field(default_factory=dict)


@dataclass
class SourceMap:
    """Positions of the nodes of one YAML document."""

    file: str
    root: _Node

    def resolve(self, path: tuple[Any, ...]) -> tuple[tuple[PathPart, ...], int, int, bool]:
        """Follow `path` as far as the document allows.

        Returns the parts of `path` that exist in the file, the line and column of the deepest
        node reached, and whether every part matched.
        """
        node = self.root
        matched: list[PathPart] = []
        full = True
        for part in path:
            child = node.children.get(part)
            if child is None:
                # a part the document does not have (a union tag or member label): skip it
                full = False
                continue
            matched.append(part)
            node = child
        return tuple(matched), node.line, node.col, full

    def key_position(self, path: tuple[PathPart, ...]) -> tuple[int, int] | None:
        """Position of the key of the mapping entry at `path` (for unknown-key errors)."""
        node = self.root
        for part in path:
            node = node.children.get(part)
            if node is None:
                return None
        if node.key_line is None:
            return node.line, node.col
        return node.key_line, node.key_col  # type: ignore[return-value]

    def location(self, path: tuple[Any, ...]) -> Location:
        _, line, col, _ = self.resolve(path)
        return Location(self.file, line, col)


def _build(node: yaml.Node, errors: list[SpecError], file: str, path: tuple) -> _Node:
    out = _Node(node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, yaml.Node] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if key in seen:
                first = seen[key]
                errors.append(
                    SpecError(
                        path + (key,),
                        f"duplicate key `{key}` (first given at line {first.start_mark.line + 1})",
                        "remove one of the two entries",
                        Location(
                            file, key_node.start_mark.line + 1, key_node.start_mark.column + 1
                        ),
                    )
                )
                continue
            seen[key] = key_node
            child = _build(value_node, errors, file, path + (key,))
            child.key_line = key_node.start_mark.line + 1
            child.key_col = key_node.start_mark.column + 1
            out.children[key] = child
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            out.children[index] = _build(item, errors, file, path + (index,))
    return out


_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's parser when PyYAML was built with it: the same documents, ten times faster."""


def _parse(text: str, loader: type, file: str) -> tuple[yaml.Node | None, Any]:
    """Compose the document once, check its bounds (`limits.check_tree`: depth, values after
    alias expansion) before anything walks it, then build the plain data from the same nodes."""
    from .errors import SpecErrors

    parser = loader(text)
    try:
        node = parser.get_single_node()
        problem = check_tree(node, file) if node is not None else None
        if problem is not None:
            raise SpecErrors([problem])
        data = parser.construct_document(node) if node is not None else None
    finally:
        parser.dispose()
    return node, data


def _yaml_error(exc: yaml.YAMLError, file: str) -> SpecError:
    """A YAML syntax error as a located spec error, in words a spec author understands."""
    if not isinstance(exc, yaml.MarkedYAMLError):
        return SpecError((), f"invalid YAML: {exc}", None, Location(file, 1, 1))
    mark = exc.problem_mark or exc.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    problem = (exc.problem or exc.context or "").replace("<block end>", "the end of a block")
    problem = problem.replace("'<block mapping start>'", "a mapping indented differently")
    message = f"invalid YAML: {problem}"
    hint = None
    if exc.context and exc.context_mark is not None and exc.context_mark is not mark:
        started = exc.context_mark
        hint = f"{exc.context} at line {started.line + 1}, column {started.column + 1}"
    return SpecError((), message, hint, Location(file, line, col))


def load_yaml(path: str | Path, text: str | None = None) -> tuple[Any, SourceMap]:
    """Parse one YAML document; raise `SpecErrors` for syntax errors and duplicate keys."""
    from .errors import SpecErrors

    file = str(path)
    if text is None:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise SpecErrors(
                [SpecError((), "file not found", None, Location(file, 1, 1))]
            ) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise SpecErrors(
                [SpecError((), f"cannot read the file: {exc}", None, Location(file, 1, 1))]
            ) from None
    problem = check_text(text, file)
    if problem is not None:
        raise SpecErrors([problem])
    try:
        node, data = _parse(text, _FAST_LOADER, file)
    except yaml.YAMLError:
        # libyaml words syntax errors its own way: the pure-Python loader's messages and
        # positions are the ones reported (and its verdict is the one that counts)
        try:
            node, data = _parse(text, yaml.SafeLoader, file)
        except yaml.YAMLError as exc:
            raise SpecErrors([_yaml_error(exc, file)]) from None
        except RecursionError:
            raise SpecErrors([nested_too_deeply(file)]) from None
    except RecursionError:
        raise SpecErrors([nested_too_deeply(file)]) from None
    if node is None:
        raise SpecErrors(
            [SpecError((), "the file is empty", "start with `specc: 1`", Location(file, 1, 1))]
        )
    errors: list[SpecError] = []
    root = _build(node, errors, file, ())
    if errors:
        raise SpecErrors(errors)
    return data, SourceMap(file, root)
