"""Field documentation read from the schema's source: the docstring under each field.

Pydantic can extract these itself (`use_attribute_docstrings`), but that parses the source of
every model at import time and slows every command; docs and the JSON Schema read them here,
only when asked.
"""

from __future__ import annotations

import ast
import functools
import inspect
import sys

from pydantic import BaseModel

__all__ = ["field_docs", "model_doc"]


@functools.cache
def _module_field_docs(module_name: str) -> dict[str, dict[str, str]]:
    """{class name: {field: docstring}} for every class of a module, parsing its source once."""
    module = sys.modules.get(module_name)
    try:
        source = inspect.getsource(module) if module is not None else ""
    except (OSError, TypeError):
        return {}
    found: dict[str, dict[str, str]] = {}
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.ClassDef):
            continue
        docs: dict[str, str] = {}
        for stmt, following in zip(node.body, node.body[1:], strict=False):
            if (
                isinstance(stmt, ast.AnnAssign)
                and isinstance(stmt.target, ast.Name)
                and isinstance(following, ast.Expr)
                and isinstance(following.value, ast.Constant)
                and isinstance(following.value.value, str)
            ):
                docs[stmt.target.id] = inspect.cleandoc(following.value.value)
        found[node.name] = docs
    return found


def _class_field_docs(cls: type) -> dict[str, str]:
    return _module_field_docs(cls.__module__).get(cls.__qualname__, {})


def field_docs(model: type[BaseModel]) -> dict[str, str]:
    """{field name: docstring} for every field of `model`, inherited fields included."""
    docs: dict[str, str] = {}
    for cls in reversed(model.__mro__):
        if isinstance(cls, type) and issubclass(cls, BaseModel) and cls is not BaseModel:
            docs.update(_class_field_docs(cls))
    return {name: docs[name] for name in model.model_fields if name in docs}


def model_doc(model: type[BaseModel]) -> str:
    return inspect.cleandoc(model.__doc__ or "")
