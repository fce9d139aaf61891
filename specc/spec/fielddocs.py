"""Field documentation read from the schema's source: the docstring under each field.

Pydantic can extract these itself (`use_attribute_docstrings`), but that parses the source of
every model at import time and slows every command; docs and the JSON Schema read them here,
only when asked.
"""

from __future__ import annotations

import ast
import functools
import inspect
import textwrap

from pydantic import BaseModel

__all__ = ["field_docs", "model_doc"]


@functools.cache
def _class_field_docs(cls: type) -> dict[str, str]:
    try:
        source = textwrap.dedent(inspect.getsource(cls))
    except (OSError, TypeError):
        return {}
    body = ast.parse(source).body[0].body  # type: ignore[attr-defined]
    docs: dict[str, str] = {}
    for stmt, following in zip(body, body[1:], strict=False):
        if (
            isinstance(stmt, ast.AnnAssign)
            and isinstance(stmt.target, ast.Name)
            and isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            docs[stmt.target.id] = inspect.cleandoc(following.value.value)
    return docs


def field_docs(model: type[BaseModel]) -> dict[str, str]:
    """{field name: docstring} for every field of `model`, inherited fields included."""
    docs: dict[str, str] = {}
    for cls in reversed(model.__mro__):
        if isinstance(cls, type) and issubclass(cls, BaseModel) and cls is not BaseModel:
            docs.update(_class_field_docs(cls))
    return {name: docs[name] for name in model.model_fields if name in docs}


def model_doc(model: type[BaseModel]) -> str:
    return inspect.cleandoc(model.__doc__ or "")
