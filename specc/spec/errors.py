"""Spec errors: where (file:line:col, dotted path), what was expected and received, and a hint."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Location", "SpecError", "SpecErrors", "did_you_mean", "dotted", "describe"]


@dataclass(frozen=True)
class Location:
    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True)
class SpecError:
    """One problem in a spec; `path` is its place in the document, e.g. ('model', 'layers', 2)."""

    path: tuple[str | int, ...]
    message: str
    hint: str | None = None
    location: Location | None = None

    def with_location(self, location: Location) -> SpecError:
        return SpecError(self.path, self.message, self.hint, location)

    def format(self) -> str:
        where = f"{self.location}: " if self.location else ""
        field = f"{dotted(self.path)}: " if self.path else ""
        hint = f" ({self.hint})" if self.hint else ""
        return f"{where}{field}{self.message}{hint}"

    def format_warning(self) -> str:
        """The line of a warning (a valid spec that probably means something else):
        `warning: FILE:LINE:COL: path: message (hint)`."""
        return f"warning: {self.format()}"

    def sort_key(self) -> tuple:
        loc = self.location
        return (loc.file, loc.line, loc.col) if loc else ("", 0, 0), dotted(self.path), self.message


class SpecErrors(Exception):
    """Every problem found in one spec, raised together.

    `spec` is the spec itself when it passed the schema and broke only cross-field rules, so
    that later stages (shape inference) can still report their own problems in the same run.
    """

    def __init__(self, errors: Iterable[SpecError], *, spec: Any = None):
        self.spec = spec
        unique: dict[str, SpecError] = {}
        for error in errors:
            unique.setdefault(error.format(), error)
        self.errors = sorted(unique.values(), key=SpecError.sort_key)
        super().__init__("\n".join(e.format() for e in self.errors))


def dotted(path: Sequence[str | int]) -> str:
    """('model', 'layers', 2, 'units') -> 'model.layers[2].units'."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def did_you_mean(word: Any, choices: Iterable[str]) -> str | None:
    """A 'did you mean `x`?' hint when `word` is close to one of `choices`."""
    import difflib  # only when there is an error to explain

    if not isinstance(word, str):
        return None
    choices = list(choices)
    match = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if not match:
        lowered = {c.lower(): c for c in choices}
        if word.lower() in lowered:
            match = [lowered[word.lower()]]
    if not match and ":" not in word:
        # qualified choices (`sklearn:iris`): compare the word with the part after the prefix
        unqualified = {c.rsplit(":", 1)[1].lower(): c for c in choices if ":" in c}
        near = difflib.get_close_matches(word.lower(), list(unqualified), n=1, cutoff=0.6)
        if near:
            match = [unqualified[near[0]]]
    return f"did you mean `{match[0]}`?" if match else None


_YAML_TYPE_NAMES = {
    bool: "a boolean",
    int: "an integer",
    float: "a number",
    str: "a string",
    list: "a list",
    dict: "a mapping",
    type(None): "null",
}


def describe(value: Any) -> str:
    """How a received YAML value is shown in messages: its text and its YAML type."""
    kind = _YAML_TYPE_NAMES.get(type(value), type(value).__name__)
    if value is None:
        return "null"
    if isinstance(value, dict):
        keys = ", ".join(str(k) for k in list(value)[:4])
        return f"a mapping ({{{keys}{', ...' if len(value) > 4 else ''}}})"
    if isinstance(value, list):
        return f"a list of {len(value)} item{'s' if len(value) != 1 else ''}"
    text = (
        repr(value)
        if isinstance(value, str)
        else str(value).lower()
        if isinstance(value, bool)
        else str(value)
    )
    if len(text) > 40:
        text = text[:37] + "..."
    return f"{text} ({kind})"
