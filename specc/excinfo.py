"""How an exception from a library is quoted in a message: its first line, and its type."""

from __future__ import annotations

__all__ = ["first_line", "reason"]


def first_line(exc: BaseException) -> str:
    """The first line of the exception's text, or its type name when it has no text."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def reason(exc: BaseException, limit: int = 500) -> str:
    """`Type: first line`, at most `limit` characters (for errors that wrap a library's)."""
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}"[:limit]
