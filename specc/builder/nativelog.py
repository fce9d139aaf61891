"""Send what TensorFlow's C++ core writes to the process's stderr into the build's log file.

TensorFlow prints start-up and graph notes from C++ straight to file descriptor 2 (CUDA probes,
"NodeDef mentions attribute ..."), which no Python setting silences. During the heavy stages
fd 2 points at `build.log` in the build folder, while progress keeps writing to the terminal
through a duplicate of the original descriptor. Errors still reach the user: they surface as
Python exceptions, reported after the original stderr is back.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from .progress import Progress

__all__ = ["native_stderr_to"]


@contextlib.contextmanager
def native_stderr_to(path: Path, progress: Progress) -> Iterator[None]:
    """Redirect fd 2 to `path` (appending); `progress` keeps printing where stderr went."""
    try:
        original_fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # stderr is not a real file (captured)
        yield
        return
    sys.stderr.flush()
    saved = os.dup(original_fd)
    terminal = os.fdopen(os.dup(saved), "w", buffering=1)
    previous_stream = progress.stream
    if progress.stream is sys.stderr or progress.stream is sys.__stderr__:
        progress.stream = terminal
    with open(path, "ab") as log:
        os.dup2(log.fileno(), original_fd)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, original_fd)
        os.close(saved)
        progress.stream = previous_stream
        terminal.close()
