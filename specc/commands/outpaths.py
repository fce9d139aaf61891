"""Checks of `-o` output paths, made by the commands before anything is written.

A folder output (`build`, `codegen`) must be a folder or creatable as one; a file output
(`schema`, `predict`) must not be a folder, and its folder must be creatable. "Creatable" means
the nearest existing ancestor is a writable folder. With several specs, `build -o DIR` builds
each into `DIR/<file stem>`: a stem that is not a plain folder name (`...yaml` has stem `..`) or
that two spec files share is refused, so nothing is written outside DIR and no build overwrites
another. Failures raise `OutputPathError`, shown as `error: <message>` with exit code 2, before
any file is written; `describe_os_error` words an `OSError` met while writing anyway (a race, or
a place `os.access` cannot judge, such as /proc for root).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

__all__ = [
    "OutputPathError",
    "check_output_dir",
    "check_output_file",
    "describe_os_error",
    "spec_output_dirs",
]


class OutputPathError(click.ClickException):
    """An unusable output path: `error: <message>` on stderr, exit code 2."""

    exit_code = 2

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


def _nearest_existing(path: Path) -> Path:
    p = Path(os.path.abspath(path))
    while not p.exists() and p != p.parent:
        p = p.parent
    return p


def _check_creatable(path: Path, what: str) -> None:
    """`path` (a folder that may not exist yet) can be created and written to."""
    anchor = _nearest_existing(path)
    if not anchor.is_dir():
        raise OutputPathError(f"cannot create {what} {path}: {anchor} is a file, not a folder")
    if not os.access(anchor, os.W_OK | os.X_OK):
        raise OutputPathError(f"cannot write {what} {path}: {anchor} is not writable")


def check_output_dir(path: Path, what: str = "output folder") -> None:
    """Raise `OutputPathError` unless `path` is a writable folder or can be created as one."""
    if path.exists() and not path.is_dir():
        raise OutputPathError(f"{what} {path} exists and is not a folder")
    _check_creatable(path, what)


def check_output_file(path: Path, what: str = "output file") -> None:
    """Raise `OutputPathError` unless `path` can be written as a file (an existing file is
    replaced)."""
    if path.is_dir():
        raise OutputPathError(f"{what} {path} is a folder; give a file name")
    if path.exists() and not os.access(path, os.W_OK):
        raise OutputPathError(f"cannot write {what} {path}: it is not writable")
    _check_creatable(path.parent, what)


def spec_output_dirs(specs: Sequence[Path], output: Path | None) -> list[Path | None]:
    """The build folder of each spec: `output` itself for one spec (or None: the default),
    `output/<stem>` for several, after checking each is a writable folder inside `output`."""
    if output is None:
        return [None] * len(specs)
    check_output_dir(output)
    if len(specs) == 1:
        return [output]
    outs: list[Path | None] = []
    seen: dict[str, Path] = {}
    root = Path(os.path.abspath(output))
    for spec in specs:
        stem = spec.stem
        target = output / stem
        if stem in ("", ".", "..") or Path(os.path.abspath(target)).parent != root:
            raise OutputPathError(
                f"{spec}: with several specs each builds into {output}/<file name>, and "
                f"{stem!r} is not a folder name; rename the spec file"
            )
        other = seen.get(stem)
        if other is not None and os.path.abspath(other) != os.path.abspath(spec):
            raise OutputPathError(
                f"{other} and {spec} would both build into {target}; rename one of them"
            )
        seen[stem] = spec
        check_output_dir(target, "build folder")
        outs.append(target)
    return outs


def describe_os_error(exc: OSError) -> str:
    """`cannot write <file>: <reason>` for an OSError met while writing output."""
    where = exc.filename if exc.filename is not None else "the output"
    return f"cannot write {where}: {exc.strerror or exc}"
