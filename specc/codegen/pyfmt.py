"""Python source fragments for the generated code, already in `ruff format` style.

The code generator builds statements from `Call` values instead of pasting strings together, so
every statement comes out the way `ruff format` (line length 100) would write it:

* a statement that fits on one line stays on one line;
* otherwise the call's arguments go one per line with a trailing comma (the "magic trailing
  comma" keeps ruff from joining them again), and nested calls get the same treatment.

Literals are written as ruff writes them: double-quoted strings, `(8, 8, 1)` / `(10,)` tuples.
"""

from __future__ import annotations

import keyword
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Union

__all__ = [
    "LINE_LENGTH",
    "Call",
    "Raw",
    "comment_lines",
    "constant",
    "identifier",
    "literal",
    "path_constant",
    "statement",
]

LINE_LENGTH = 100
INDENT = "    "


@dataclass(frozen=True)
class Raw:
    """Source text used as is (a variable name, an expression)."""

    text: str


Arg = Union["Call", Raw]


@dataclass(frozen=True)
class Call:
    """`func(*args, **kwargs)`; values are `Raw` source or nested `Call`s."""

    func: str
    args: tuple[Arg, ...] = ()
    kwargs: tuple[tuple[str, Arg], ...] = field(default=())
    brackets: str = "()"
    """`[]` with an empty `func` makes a list display."""

    @classmethod
    def list(cls, items: tuple[Arg, ...]) -> Call:
        """A list display `[a, b]`, split like call arguments."""
        return cls("", items, brackets="[]")

    def flat(self) -> str:
        parts = [_flat(a) for a in self.args] + [f"{k}={_flat(v)}" for k, v in self.kwargs]
        return f"{self.func}{self.brackets[0]}{', '.join(parts)}{self.brackets[1]}"

    @classmethod
    def apply(cls, *args: Arg, **kwargs: Arg) -> Call:
        """The arguments a layer is called with: `(x)`, `(query=a, value=b)`."""
        return cls("", args, tuple(kwargs.items()))

    def lines(
        self, indent: str, prefix: str = "", suffix: str = "", force_split: bool = False
    ) -> list[str]:
        """The call as source lines starting at `indent`, preceded by `prefix` (e.g. `x = `)
        and followed by `suffix` (e.g. `(x)` or `,`)."""
        one = f"{indent}{prefix}{self.flat()}{suffix}"
        if (len(one) <= LINE_LENGTH and not force_split) or not (self.args or self.kwargs):
            return [one]
        inner = indent + INDENT
        out = [f"{indent}{prefix}{self.func}{self.brackets[0]}"]
        for a in self.args:
            out.extend(_arg_lines(a, inner, "", ","))
        for k, v in self.kwargs:
            out.extend(_arg_lines(v, inner, f"{k}=", ","))
        out.append(f"{indent}{self.brackets[1]}{suffix}")
        return out


def _flat(value: Arg) -> str:
    return value.text if isinstance(value, Raw) else value.flat()


def _arg_lines(value: Arg, indent: str, prefix: str, suffix: str) -> list[str]:
    if isinstance(value, Call):
        return value.lines(indent, prefix, suffix)
    return [f"{indent}{prefix}{value.text}{suffix}"]


def statement(
    target: str | None, call: Call, indent: str = "", then: Call | str | None = None
) -> list[str]:
    """`target = call` or, with `then`, `target = call(...)(...)`: a layer built and applied to
    its inputs, `then` holding the application's arguments (`Call.apply(...)` or source text).

    Too long for one line, the constructor's arguments are split when the application is short
    (`)(x)`); otherwise the application's arguments are, and the constructor too if needed.
    """
    prefix = f"{target} = " if target else ""
    if then is None:
        return call.lines(indent, prefix)
    if isinstance(then, str):
        then = Call("", (Raw(then),))
    applied = then.flat()
    if len(f"{indent}{prefix}{call.flat()}{applied}") <= LINE_LENGTH:
        return [f"{indent}{prefix}{call.flat()}{applied}"]
    if len(f"{indent}){applied}") <= LINE_LENGTH:
        return call.lines(indent, prefix, applied)
    head = f"{indent}{prefix}{call.flat()}"
    if len(head) + 1 <= LINE_LENGTH:
        lines = [head]
    else:
        lines = call.lines(indent, prefix)
    return lines[:-1] + then.lines(indent, lines[-1][len(indent) :], force_split=True)


def literal(value: object) -> str:
    """A Python literal in ruff style: `"text"`, `1e-06`, `(3, 3)`, `(10,)`, `None`, `True`."""
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return string_literal(value)
    if isinstance(value, tuple):
        items = [literal(v) for v in value]
        return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"
    if isinstance(value, list):
        return f"[{', '.join(literal(v) for v in value)}]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{literal(k)}: {literal(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"no literal for {type(value).__name__}: {value!r}")


def constant(name: str, value: object) -> str:
    """`NAME = value` as ruff writes it: on one line if it fits, else a list, tuple or dict with
    one item per line and a trailing comma."""
    one = f"{name} = {literal(value)}"
    if len(one) <= LINE_LENGTH or not isinstance(value, (list, tuple, dict)) or not value:
        return one
    if isinstance(value, dict):
        items = [f"{literal(k)}: {literal(v)}" for k, v in value.items()]
    else:
        items = [literal(item) for item in value]
    opening, closing = {dict: "{}", list: "[]", tuple: "()"}[type(value)]
    body = "".join(f"{INDENT}{item},\n" for item in items)
    return f"{name} = {opening}\n{body}{closing}"


def path_constant(name: str, path: str) -> str:
    """`NAME = Path("...")` of a POSIX path; a path too long for one line is split at `/` into
    adjacent string literals, one per line."""
    one = f"{name} = Path({literal(path)})"
    if len(one) <= LINE_LENGTH:
        return one
    width = LINE_LENGTH - len(INDENT) - 2  # the quotes
    chunks: list[str] = []
    for part in path.split("/"):
        piece = part if not chunks else "/" + part
        if chunks and len(chunks[-1]) + len(piece) <= width:
            chunks[-1] += piece
        else:
            chunks.append(piece)
    body = "".join(f"{INDENT}{literal(chunk)}\n" for chunk in chunks)
    return f"{name} = Path(\n{body})"


RESERVED = frozenset(
    {
        "x",
        "keras",
        "layers",
        "np",
        "math",
        "preprocessing",
        "target_scaling",
        "mean",
        "std",
        "model",
        "layer",
        "build_model",
        "normalize",
        "residual",
        "feed_forward",
        "transformer_encoder_block",
        "transformer_decoder_block",
        "gelu_tanh",
        "PositionalEmbedding",
        "print",
        "input",
        "len",
        "list",
        "type",
        "super",
    }
)


def identifier(name: str, taken: frozenset[str] | set[str] = RESERVED) -> str:
    """A variable name for `name` (a spec name, already an identifier) that shadows nothing."""
    if keyword.iskeyword(name) or name in taken:
        return f"{name}_"
    return name


def string_literal(text: str) -> str:
    """A Python string literal that evaluates to `text`, whatever it holds: quotes, backslashes,
    newlines, NUL and other control characters, line separators, lone surrogates. Printable
    characters stay as they are and the rest become the escapes `repr` writes; the quotes are
    the ones ruff writes: double quotes, unless the text holds more double than single quotes
    (then single quotes), the chosen quote escaped inside."""
    quote = "'" if text.count('"') > text.count("'") else '"'
    body = []
    for char in text:
        if char == "\\":
            body.append("\\\\")
        elif char == quote:
            body.append("\\" + quote)
        elif char.isprintable():
            body.append(char)
        else:
            body.append(_escaped(char))
    return quote + "".join(body) + quote


def _escaped(char: str) -> str:
    """A backslash escape of one character, as `repr` writes it (`\\x00`, `\\u2028`)."""
    return repr(char)[1:-1]


def doc_text(text: str) -> str:
    """`text` made safe inside a triple-quoted (not raw) docstring, reading back as `text`: a
    backslash and a double quote are escaped, so nothing in it can end the string or start an
    escape, and characters that are not printable (controls, NUL, line separators, lone
    surrogates) become escapes; newlines stay newlines."""
    out = []
    for char in text:
        if char == "\\":
            out.append("\\\\")
        elif char == '"':
            out.append('\\"')
        elif char == "\n" or char.isprintable():
            out.append(char)
        else:
            out.append(_escaped(char))
    return "".join(out)


def comment_text(text: str) -> str:
    """`text` made safe after `#` on one line: every character that is not printable (line
    breaks of any kind, NUL, controls) becomes its visible escape, so the comment cannot end
    early and let the rest of the text be read as code."""
    return "".join(c if c.isprintable() else _escaped(c) for c in text)


def comment_lines(text: str, indent: str = "") -> list[str]:
    """`# text`, wrapped to the line length; `text` passes through `comment_text`."""
    width = LINE_LENGTH - len(indent) - 2
    return [f"{indent}# {line}" for line in textwrap.wrap(comment_text(text), width) or [""]]


def wrap(text: str, indent: str = "", width: int = LINE_LENGTH) -> list[str]:
    """Prose wrapped to the line length, for docstrings; `text` passes through `doc_text`.
    Whitespace (newlines included) is folded into single spaces by the wrapping."""
    # long words are not broken: a break could split an escape such as \\x00 in two
    lines = textwrap.wrap(
        doc_text(text), width - len(indent), break_on_hyphens=False, break_long_words=False
    )
    return lines or [""]


def tuple_of(values: Sequence[str]) -> str:
    """`(a, b)` / `(a,)` from source fragments."""
    return f"({values[0]},)" if len(values) == 1 else f"({', '.join(values)})"
