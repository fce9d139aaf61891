"""A build folder that changes all at once: staging, a lock, and an atomic swap.

A build writes into `.<name>.staging/` beside the build folder `<name>/`, and only a build that
completed is swapped in: on Linux with `renameat2(RENAME_EXCHANGE)`, which exchanges the two
folders in one step, so `<name>/` is at every moment either the complete previous build or the
complete new one; elsewhere with two renames (`<name>` -> `.<name>.previous`, staging ->
`<name>`), and a later build or `recover` puts `.previous` back if a crash fell between them.

A build that fails leaves `<name>/` untouched; its staging folder is kept as `.<name>.failed/`
(the log and the generated code that failed), replacing an older one. A killed build leaves a
stale staging folder, removed by the next build. `.<name>.lock` (an advisory `flock`) makes a
second build of the same folder wait until the first is done.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import fcntl
import os
import shutil
from collections.abc import Callable
from pathlib import Path

__all__ = ["BuildFolder", "recover"]

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _sibling(out: Path, role: str) -> Path:
    return out.parent / f".{out.name}.{role}"


def _exchange(a: Path, b: Path) -> bool:
    """Swap two existing paths atomically; False where the system cannot."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p]
    renameat2.restype = ctypes.c_int
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(a))


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists() or path.is_symlink():
        path.unlink(missing_ok=True)


def recover(out: Path) -> None:
    """Undo a swap that a crash interrupted: put `.previous` back when `<name>` is missing."""
    previous = _sibling(out, "previous")
    if previous.is_dir():
        if not out.exists():
            previous.rename(out)
        else:
            _remove(previous)


class BuildFolder:
    """The build folder `out` and its staging folder, under a lock (a context manager)."""

    def __init__(self, out: Path, on_wait: Callable[[str], None] | None = None) -> None:
        self.out = Path(out)
        self.staging = _sibling(self.out, "staging")
        self.failed = _sibling(self.out, "failed")
        self._on_wait = on_wait
        self._lock_fd: int | None = None

    def __enter__(self) -> BuildFolder:
        if self.out.exists() and not self.out.is_dir():
            raise NotADirectoryError(f"{self.out} exists and is not a folder")
        self.out.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(_sibling(self.out, "lock"), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if self._on_wait is not None:
                self._on_wait(f"{self.out}: another build of this folder is running; waiting")
            fcntl.flock(fd, fcntl.LOCK_EX)
        self._lock_fd = fd
        recover(self.out)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._lock_fd is not None:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = None

    def start(self) -> Path:
        """A fresh, empty staging folder (a stale one from a killed build is removed)."""
        _remove(self.staging)
        self.staging.mkdir()
        return self.staging

    def commit(self) -> None:
        """Swap the completed staging folder in as the build folder."""
        _fsync_tree(self.staging)
        if not self.out.exists():
            self.staging.rename(self.out)
        elif _exchange(self.staging, self.out):
            _remove(self.staging)  # now the previous build
        else:
            previous = _sibling(self.out, "previous")
            _remove(previous)
            self.out.rename(previous)
            self.staging.rename(self.out)
            _remove(previous)
        _fsync_dir(self.out.parent)
        _remove(self.failed)

    def abandon(self) -> Path | None:
        """Keep a failed build's staging folder as `.<name>.failed`; return where it went."""
        if not self.staging.exists():
            return None
        _remove(self.failed)
        self.staging.rename(self.failed)
        return self.failed


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _fsync_tree(root: Path) -> None:
    """Flush every file and folder of `root` to disk before it becomes the build."""
    for folder, _, files in os.walk(root):
        for name in files:
            with contextlib.suppress(OSError), open(os.path.join(folder, name), "rb") as fh:
                os.fsync(fh.fileno())
        _fsync_dir(Path(folder))
