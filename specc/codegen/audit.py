"""Check generated code before anything runs it: it parses, and it uses nothing it should not.

Spec strings reach the generated files only through `pyfmt.literal` (one escaping path). This
module is the second line: every generated file is parsed with `ast` and checked against an
allowlist, and a file that fails is never written or imported. The rules:

1. imports only of the modules the generated code needs (`ALLOWED_IMPORTS`) and of its own
   sibling files;
2. no call of `exec`, `eval`, `compile`, `__import__`, `globals`, `locals`, `vars`,
   `breakpoint`, `input`, `getattr`/`setattr`/`delattr` on a module, or `open` of anything
   but the data files the spec names (for reading: a path constant, or a local bound to one)
   outside the `save` helpers that write the build's artifacts;
3. of `os` and `sys`, only the attributes the generated code uses (`os.replace`, `sys.argv`,
   ...); no other use of a module that runs programs or loads code (`subprocess`, `shutil`,
   `importlib`, `pickle`, `ctypes`, ...), whatever the name it is reached by;
4. no dunder attributes that lead out of ordinary code (`__globals__`, `__subclasses__`,
   `__builtins__`, `__code__`, ...).

A failure is a bug in specc (a template or an escaping path let something through), reported
as `CodeAuditError` naming the file, line and rule.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping

__all__ = ["ALLOWED_IMPORTS", "CodeAuditError", "audit_files", "audit_source"]

ALLOWED_IMPORTS = frozenset(
    {
        "__future__",
        "argparse",
        "collections",
        "collections.abc",
        "csv",
        "dataclasses",
        "math",
        "os",
        "pathlib",
        "sys",
        "time",
        "typing",
        "keras",
        "numpy",
        "tensorflow",
        "sklearn.datasets",
        "sklearn.model_selection",
    }
)

_FRAMEWORKS = frozenset({"keras", "tensorflow", "numpy"})  # with their submodules
_FORBIDDEN_CALLS = frozenset(
    {
        "exec",
        "eval",
        "compile",
        "__import__",
        "globals",
        "locals",
        "vars",
        "breakpoint",
        "input",
        "memoryview",
    }
)
_REFLECTION = frozenset({"getattr", "setattr", "delattr"})
# the data files the spec names (a given test split: TEST_*)
_DATA_PATHS = frozenset({"CSV_PATH", "NPZ_PATH", "TEST_CSV_PATH", "TEST_NPZ_PATH"})
_MODULE_ATTRIBUTES = {
    "os": frozenset({"replace", "fspath", "path", "environ", "makedirs", "cpu_count"}),
    "sys": frozenset({"argv", "exit", "path", "stdout", "stderr", "version_info"}),
}
_FORBIDDEN_NAMES = frozenset(
    {
        "subprocess",
        "shutil",
        "importlib",
        "pickle",
        "marshal",
        "ctypes",
        "socket",
        "builtins",
        "__builtins__",
        "pty",
        "runpy",
        "code",
        "codeop",
    }
)
_FORBIDDEN_DUNDERS = frozenset(
    {
        "__globals__",
        "__subclasses__",
        "__builtins__",
        "__code__",
        "__closure__",
        "__dict__",
        "__class__",
        "__bases__",
        "__mro__",
        "__base__",
        "__getattribute__",
        "__reduce__",
        "__reduce_ex__",
        "__loader__",
        "__spec__",
        "__import__",
    }
)


class CodeAuditError(Exception):
    """Generated code failed its check; `problems` lists `file:line: rule` entries."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        shown = "; ".join(problems[:5]) + (
            f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        )
        super().__init__(f"generated code refused: {shown}")


def _module_names(tree: ast.AST) -> set[str]:
    """Names bound to imported modules (`import numpy as np` binds `np`)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                names.add(alias.asname or alias.name.split(".")[0])
    return names


class _Auditor(ast.NodeVisitor):
    def __init__(self, filename: str, siblings: frozenset[str], modules: set[str]) -> None:
        self.filename, self.siblings, self.modules = filename, siblings, modules
        self.problems: list[str] = []
        self._functions: list[str] = []
        self._path_names: list[set[str]] = [set()]  # per function: locals bound to a data path

    def _fail(self, node: ast.AST, rule: str) -> None:
        self.problems.append(f"{self.filename}:{getattr(node, 'lineno', 0)}: {rule}")

    def _check_module(self, node: ast.AST, name: str) -> None:
        if name in self.siblings:
            return
        if name not in ALLOWED_IMPORTS and name.split(".")[0] not in {
            "keras",
            "tensorflow",
            "numpy",
        }:
            self._fail(node, f"import of `{name}` is not allowed")

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._check_module(node, alias.name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            self._fail(node, "relative imports are not allowed")
            return
        self._check_module(node, node.module or "")
        for alias in node.names:
            if alias.name == "*":
                self._fail(node, f"`from {node.module} import *` is not allowed")

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._functions.append(node.name)
        self._path_names.append(set())
        self.generic_visit(node)
        self._path_names.pop()
        self._functions.pop()

    def visit_Assign(self, node: ast.Assign) -> None:
        """`path = CSV_PATH` or `path = TEST_CSV_PATH if test else CSV_PATH`: `path` names a data
        file in this function (any other binding of the name forgets that)."""
        for target in node.targets:
            if isinstance(target, ast.Name):
                if len(node.targets) == 1 and self._is_data_path(node.value, local=False):
                    self._path_names[-1].add(target.id)
                else:
                    self._path_names[-1].discard(target.id)
        self.generic_visit(node)

    def _is_data_path(self, node: ast.AST | None, local: bool = True) -> bool:
        """A data-path constant, a local bound to one, or `A if cond else B` of two of them."""
        if isinstance(node, ast.IfExp):
            return self._is_data_path(node.body, local) and self._is_data_path(node.orelse, local)
        if not isinstance(node, ast.Name):
            return False
        return node.id in _DATA_PATHS or (local and node.id in self._path_names[-1])

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Name):
            if func.id in _FORBIDDEN_CALLS:
                self._fail(node, f"call of `{func.id}` is not allowed")
            elif func.id in _REFLECTION and node.args:
                target = node.args[0]
                if isinstance(target, ast.Name) and target.id in self.modules:
                    self._fail(node, f"`{func.id}` on the module `{target.id}` is not allowed")
            elif func.id == "open" and not self._known_open(node):
                self._fail(node, "`open` is allowed only on the data path or in the `save` helpers")
        self.generic_visit(node)

    def _known_open(self, node: ast.Call) -> bool:
        """`open` of a data path (for reading), or inside a `save`/`save_*` helper."""
        if any(f == "save" or f.startswith("save_") for f in self._functions):
            return True
        first = node.args[0] if node.args else None
        mode = node.args[1] if len(node.args) > 1 else None
        mode = next((k.value for k in node.keywords if k.arg == "mode"), mode)
        reading = mode is None or (isinstance(mode, ast.Constant) and mode.value in ("r", "rb"))
        return self._is_data_path(first) and reading

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if node.attr in _FORBIDDEN_DUNDERS:
            self._fail(node, f"attribute `{node.attr}` is not allowed")
        value = node.value
        if isinstance(value, ast.Name) and value.id in _MODULE_ATTRIBUTES:
            if node.attr not in _MODULE_ATTRIBUTES[value.id]:
                self._fail(node, f"`{value.id}.{node.attr}` is not allowed")
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if node.id in _FORBIDDEN_NAMES:
            self._fail(node, f"use of `{node.id}` is not allowed")


def audit_source(source: str, filename: str, siblings: Iterable[str] = ()) -> list[str]:
    """The problems of one generated file (empty when it passes)."""
    try:
        tree = ast.parse(source, filename=filename)
    except SyntaxError as exc:
        return [f"{filename}:{exc.lineno or 0}: does not parse ({exc.msg})"]
    except ValueError as exc:  # a NUL byte in the source
        return [f"{filename}:0: does not parse ({exc})"]
    auditor = _Auditor(filename, frozenset(siblings), _module_names(tree))
    auditor.visit(tree)
    return auditor.problems


def audit_files(files: Mapping[str, str]) -> None:
    """Check every generated file (name -> source); raise `CodeAuditError` on any problem."""
    siblings = frozenset(name.removesuffix(".py") for name in files)
    problems = [p for name in sorted(files) for p in audit_source(files[name], name, siblings)]
    if problems:
        raise CodeAuditError(problems)
