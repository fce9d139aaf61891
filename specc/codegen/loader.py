"""The one way specc imports generated code: `generated_modules(code_dir)`.

Training runs exactly the code a reviewer reads, and `specc bench` needs the custom layers that
`model.keras` was saved with; both import the files of a build's `code/` folder here.

Each file is imported under a name no other module has (`_generated_<folder hash>_<n>_<stem>`),
so a user's own `data` or `model` package, or another build's code in the same process, is
never picked up or replaced. The generated `train.py` imports its siblings by their plain module
names (as `python train.py` needs); while it runs its top level, `sys.modules` maps those names
to this folder's modules, and whatever they named before is put back right after. On leaving
the context every module imported here is removed from `sys.modules` again (objects created
from them, such as Keras models and registered custom objects, stay valid).

Importing this module imports neither TensorFlow nor Keras; the generated code does.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import itertools
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import ModuleType

from .layout import FILES, MODULES, files_hash

__all__ = ["CodeMismatchError", "code_hash", "generated_modules"]


class CodeMismatchError(ImportError):
    """The code folder is not the code whose hash was expected (edited, or not specc's)."""


def code_hash(code_dir: str | Path) -> str:
    """The hash of the generated files in `code_dir`, computed as `GeneratedCode.hash` is."""
    folder = Path(code_dir)
    return files_hash(
        {
            name: (folder / name).read_text(encoding="utf-8")
            for name in FILES
            if (folder / name).is_file()
        }
    )


_COUNTER = itertools.count()
_MISSING = object()


def _import(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


@contextlib.contextmanager
def _aliased(aliases: dict[str, ModuleType]) -> Iterator[None]:
    """`sys.modules[name] = module` for each alias, the previous entries restored afterwards."""
    saved = {name: sys.modules.get(name, _MISSING) for name in aliases}
    sys.modules.update(aliases)
    try:
        yield
    finally:
        for name, previous in saved.items():
            if previous is _MISSING:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = previous


@contextlib.contextmanager
def generated_modules(
    code_dir: str | Path,
    roles: Iterable[str] = tuple(MODULES),
    *,
    expect_hash: str | None = None,
) -> Iterator[dict[str, ModuleType]]:
    """Import the generated modules of `code_dir`; yield them by role (`"model"`, `"data"`,
    `"train"`, see `specc.codegen.MODULES`).

    `roles` limits the import to some of them (`("model",)` only registers the custom layers);
    the modules a role's file imports are imported with it. A missing file raises `ImportError`.
    With `expect_hash`, nothing is imported unless the files hash to it (`CodeMismatchError`).
    """
    code_dir = Path(code_dir).resolve()
    if expect_hash is not None:
        found = code_hash(code_dir)
        if found != expect_hash:
            raise CodeMismatchError(
                f"the code in {code_dir} has hash {found[:16]}, not {expect_hash[:16]}: it is "
                "not the code specc generated for this build (edited, or from elsewhere)"
            )
    wanted = set(roles)
    if "train" in wanted:
        wanted |= {"model", "data"}  # train.py imports both
    digest = hashlib.sha1(str(code_dir).encode()).hexdigest()[:10]
    prefix = f"_generated_{digest}_{next(_COUNTER)}_"
    modules: dict[str, ModuleType] = {}
    try:
        for role, stem in MODULES.items():  # model and data first: train imports them
            if role not in wanted:
                continue
            path = code_dir / f"{stem}.py"
            if not path.is_file():
                raise ImportError(f"no generated {path.name} in {code_dir}")
            siblings = {MODULES[r]: m for r, m in modules.items()}
            with _aliased(siblings):
                modules[role] = _import(prefix + stem, path)
        yield modules
    finally:
        for module in modules.values():
            sys.modules.pop(module.__name__, None)
