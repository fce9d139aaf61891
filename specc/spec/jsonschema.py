"""The JSON Schema of the spec, for editors (`# yaml-language-server: $schema=...`) and docs."""

from __future__ import annotations

from typing import Any

from .schema import Spec

__all__ = ["spec_json_schema"]


def spec_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of spec version 1, with every field's documentation."""
    schema = Spec.model_json_schema(mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **schema,
    }
