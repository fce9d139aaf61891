"""The build's own error type."""

from __future__ import annotations

__all__ = ["BuildError"]


class BuildError(Exception):
    """A build stage failed; `message` says what went wrong and `hint` what to change."""

    def __init__(self, stage: str, message: str, hint: str | None = None):
        self.stage, self.message, self.hint = stage, message, hint
        super().__init__(f"[{stage}] {message}" + (f" ({hint})" if hint else ""))
