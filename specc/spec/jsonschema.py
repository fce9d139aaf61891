"""The JSON Schema of the spec, for editors (`# yaml-language-server: $schema=...`) and docs."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from . import base, layers, passes, schema, training
from .fielddocs import field_docs
from .schema import Spec

__all__ = ["spec_json_schema"]


def _models() -> dict[str, type[BaseModel]]:
    found: dict[str, type[BaseModel]] = {}
    for module in (base, layers, schema, training, passes):
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, BaseModel) and value is not BaseModel:
                found[value.__name__] = value
    return found


def _describe(node: dict[str, Any], model: type[BaseModel] | None) -> None:
    if model is None:
        return
    docs = field_docs(model)
    for name, prop in node.get("properties", {}).items():
        if name in docs:
            prop.setdefault("description", docs[name])


def spec_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of spec version 1, with every field's documentation."""
    generated = Spec.model_json_schema(mode="validation")
    models = _models()
    _describe(generated, Spec)
    for name, definition in generated.get("$defs", {}).items():
        _describe(definition, models.get(name))
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **generated}
