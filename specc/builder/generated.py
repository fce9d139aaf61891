"""Import the generated code of a build folder, so training runs exactly the code a reviewer reads.

The generated `train.py` imports its siblings as `data` and `model`; those short names are
purged from `sys.modules` before and after, so several builds in one process never share modules.
"""

from __future__ import annotations

import contextlib
import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

__all__ = ["generated_modules"]

_SIBLINGS = ("data", "model", "train")


def _purge() -> None:
    for name in _SIBLINGS:
        sys.modules.pop(name, None)


@contextlib.contextmanager
def generated_modules(code_dir: Path) -> Iterator[dict[str, ModuleType]]:
    """Import `data`, `model` and `train` from `code_dir`; yield them by name."""
    code_dir = Path(code_dir).resolve()
    _purge()
    sys.path.insert(0, str(code_dir))
    try:
        modules: dict[str, ModuleType] = {}
        for name in _SIBLINGS:
            spec = importlib.util.spec_from_file_location(name, code_dir / f"{name}.py")
            if spec is None or spec.loader is None:
                raise ImportError(f"cannot import {code_dir / name}.py")
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            spec.loader.exec_module(module)
            modules[name] = module
        yield modules
    finally:
        with contextlib.suppress(ValueError):
            sys.path.remove(str(code_dir))
        _purge()
