"""The generated files: their module names and the hash a build records of them.

A module of its own so that the context builders and the loader can ask it without importing
the package that drives them (no import cycle).
"""

from __future__ import annotations

import hashlib

__all__ = ["FILES", "MODULES", "files_hash"]

# role -> module name of the generated file; model and data come first (train imports them)
MODULES = {"model": "spec_model", "data": "spec_data", "train": "train"}
FILES = tuple(f"{stem}.py" for stem in MODULES.values())


def files_hash(files: dict[str, str]) -> str:
    """sha256 over file names and contents, in name order (the `code_hash` of a build)."""
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + files[name].encode() + b"\0")
    return digest.hexdigest()
