"""Turn pydantic's validation errors into located, readable `SpecError`s.

Pydantic locations contain parts that are not in the document (a discriminated union's tag,
the label of a union member); they are dropped, so paths match what the user wrote. The errors
of the members of one union are merged into a single "expected A or B" message.
"""

from __future__ import annotations

import re
import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from .errors import Location, SpecError, describe, did_you_mean
from .source import SourceMap

__all__ = ["translate"]

_EXPECTED = {
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "string_type": "a string",
    "list_type": "a list",
    "tuple_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "none_required": "null",
}

_BOUNDS = {
    "greater_than": (">", "gt"),
    "greater_than_equal": (">=", "ge"),
    "less_than": ("<", "lt"),
    "less_than_equal": ("<=", "le"),
}


def _unwrap(tp: Any) -> Any:
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    return tp


def _union_members(tp: Any) -> tuple[Any, ...] | None:
    origin = typing.get_origin(tp)
    if origin is typing.Union or origin is types.UnionType:
        return tuple(_unwrap(a) for a in typing.get_args(tp))
    return None


def _type_at(root: type[BaseModel], loc: tuple[Any, ...]) -> Any:
    """The annotation reached by following a pydantic `loc` (tags included) from `root`."""
    tp: Any = root
    for part in loc:
        tp = _unwrap(tp)
        members = _union_members(tp)
        if members is not None:
            chosen = None
            non_none = [m for m in members if m is not type(None)]
            for member in non_none:
                if isinstance(member, type) and issubclass(member, BaseModel):
                    field = member.model_fields.get("type")
                    if field is not None and part in typing.get_args(_unwrap(field.annotation)):
                        chosen = member
                        break
            if chosen is not None:
                tp = chosen
                continue
            if len(non_none) == 1:
                tp = _unwrap(non_none[0])
            else:
                return None
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            field = tp.model_fields.get(part) if isinstance(part, str) else None
            if field is None:
                return None
            tp = field.annotation
        elif typing.get_origin(tp) in (list, tuple) and isinstance(part, int):
            tp = typing.get_args(tp)[0]
        elif typing.get_origin(tp) is dict:
            tp = typing.get_args(tp)[1]
        else:
            return None
    tp = _unwrap(tp)
    members = _union_members(tp)
    if members is not None:
        models = [m for m in members if isinstance(m, type) and issubclass(m, BaseModel)]
        if len(models) == 1:
            return models[0]
    return tp


def _literals(expected: str) -> list[str]:
    return re.findall(r"'([^']*)'", expected)


def _message(err: dict[str, Any], root: type[BaseModel]) -> tuple[str, str | None]:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    value = err.get("input")
    loc = tuple(err["loc"])
    if kind == "missing":
        return "required field is missing", None
    if kind == "extra_forbidden":
        parent = _type_at(root, loc[:-1])
        allowed = (
            list(parent.model_fields)
            if isinstance(parent, type) and issubclass(parent, BaseModel)
            else []
        )
        hint = did_you_mean(loc[-1], allowed) or (
            "allowed fields: " + ", ".join(allowed) if allowed else None
        )
        return f"unknown field `{loc[-1]}`", hint
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        tags = _literals(ctx.get("expected_tags", ""))
        listing = ", ".join(tags)
        if kind == "union_tag_not_found":
            return f"missing `type`: expected one of {listing}", None
        return f"unknown type `{ctx.get('tag')}`: expected one of {listing}", did_you_mean(
            ctx.get("tag"), tags
        )
    if kind == "literal_error":
        options = _literals(ctx.get("expected", ""))
        shown = ", ".join(f"`{o}`" for o in options) if options else ctx.get("expected", "")
        return f"expected one of {shown}, got {describe(value)}", did_you_mean(value, options)
    if kind in _BOUNDS:
        symbol, key = _BOUNDS[kind]
        return f"expected a value {symbol} {ctx.get(key)}, got {describe(value)}", None
    if kind in ("too_short", "too_long"):
        bound = ctx.get("min_length") if kind == "too_short" else ctx.get("max_length")
        word = "at least" if kind == "too_short" else "at most"
        n = ctx.get("actual_length")
        return f"expected {word} {bound} item{'s' if bound != 1 else ''}, got {n}", None
    if kind == "string_too_short":
        return "expected a non-empty string", None
    if kind == "string_too_long":
        return f"expected at most {ctx.get('max_length')} characters", None
    if kind == "string_pattern_mismatch":
        return (
            f"expected a name of letters, digits and `_` not starting with a digit, "
            f"got {describe(value)}",
            "names become Python identifiers and ONNX tensor names",
        )
    if kind == "value_error":
        message = str(ctx.get("error", err["msg"]))
        return message.removeprefix("Value error, "), None
    if kind in _EXPECTED:
        return f"expected {_EXPECTED[kind]}, got {describe(value)}", None
    return f"{err['msg'].rstrip('.')}, got {describe(value)}", None


def translate(exc: ValidationError, source: SourceMap, root: type[BaseModel]) -> list[SpecError]:
    """Located `SpecError`s for every error in `exc`, union members merged."""
    groups: dict[tuple, list[tuple[dict, tuple, bool]]] = {}
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        if err["type"] in ("missing", "extra_forbidden"):
            matched, *_ = source.resolve(loc[:-1])
            real = matched + (loc[-1],)
            full = True
        else:
            real, _, _, full = source.resolve(loc)
        groups.setdefault(real, []).append((err, loc, full))

    errors: list[SpecError] = []
    for real, items in groups.items():
        if len(items) > 1 and all(not full for _, _, full in items):
            # the members of one union each rejected the same value: merge them
            expected: list[str] = []
            for err, _, _ in items:
                if err["type"] == "literal_error":
                    expected.extend(f"`{o}`" for o in _literals(err["ctx"]["expected"]))
                elif err["type"] in _EXPECTED:
                    expected.append(_EXPECTED[err["type"]])
                else:
                    expected.append(_message(err, root)[0])
            expected = list(dict.fromkeys(expected))
            value = items[0][0].get("input")
            message = f"expected {' or '.join(expected)}, got {describe(value)}"
            errors.append(SpecError(real, message, None, _where(source, real, items[0][0])))
            continue
        for err, _loc, _ in items:
            message, hint = _message(err, root)
            errors.append(SpecError(real, message, hint, _where(source, real, err)))
    return errors


def _where(source: SourceMap, real: tuple, err: dict) -> Location:
    if err["type"] == "extra_forbidden":
        pos = source.key_position(real)
        if pos is not None:
            return Location(source.file, *pos)
    if err["type"] == "missing":
        return source.location(real[:-1])
    return source.location(real)
