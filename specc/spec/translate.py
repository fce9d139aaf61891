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
from pydantic.fields import FieldInfo

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


def _walk(root: type[BaseModel], loc: tuple[Any, ...]) -> tuple[Any, list[Any]]:
    """The annotation reached by following a pydantic `loc` (tags included) from `root`, and
    the constraints (`Ge`, `Lt`, ...) attached to it."""
    tp: Any = root
    meta: list[Any] = []
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
                return None, []
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            field = tp.model_fields.get(part) if isinstance(part, str) else None
            if field is None:
                return None, []
            tp = field.annotation
            meta = list(field.metadata)
        elif typing.get_origin(tp) in (list, tuple) and isinstance(part, int):
            tp = typing.get_args(tp)[0]
            meta = []
        elif typing.get_origin(tp) is dict:
            tp = typing.get_args(tp)[1]
            meta = []
        else:
            return None, []
    meta += unwrap_annotated(tp)[1]
    tp = _unwrap(tp)
    members = _union_members(tp)
    if members is not None:
        non_none = [m for m in typing.get_args(tp) if m is not type(None)]
        if len(non_none) == 1:
            meta += unwrap_annotated(non_none[0])[1]
        models = [m for m in members if isinstance(m, type) and issubclass(m, BaseModel)]
        if len(models) == 1:
            return models[0], meta
        if len(non_none) == 1:
            return _unwrap(non_none[0]), meta
    return tp, meta


def unwrap_annotated(tp: Any) -> tuple[Any, list[Any]]:
    """Strip `Annotated`, returning the bare type and its constraints."""
    meta: list[Any] = []
    while typing.get_origin(tp) is typing.Annotated:
        args = typing.get_args(tp)
        for extra in args[1:]:
            meta.extend(extra.metadata if isinstance(extra, FieldInfo) else [extra])
        tp = args[0]
    return tp, meta


def _type_at(root: type[BaseModel], loc: tuple[Any, ...]) -> Any:
    """The annotation reached by following a pydantic `loc` (tags included) from `root`."""
    return _walk(root, loc)[0]


def bound_parts(meta: list[Any]) -> list[str]:
    """[">= 0.0", "< 1.0"] from the constraints (annotated-types metadata) of a field."""
    parts = []
    for attr, symbol in (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<=")):
        for item in meta:
            value = getattr(item, attr, None)
            if value is not None:
                parts.append(f"{symbol} {value}")
                break
    return parts


def _bounds(meta: list[Any]) -> str:
    """`>= 0.0 and < 1.0` from the constraints of a field."""
    return " and ".join(bound_parts(meta))


def _union_tags(tp: Any) -> list[str]:
    """The `type` values of a discriminated union of models."""
    tags: list[str] = []
    for member in _union_members(_unwrap(tp)) or ():
        if (
            isinstance(member, type)
            and issubclass(member, BaseModel)
            and "type" in (member.model_fields)
        ):
            tags.extend(typing.get_args(_unwrap(member.model_fields["type"].annotation)))
    return tags


def _expected(tp: Any, meta: list[Any]) -> str | None:
    """What a value of annotation `tp` looks like, for "required field is missing" messages."""
    tp = _unwrap(tp)
    bounds = _bounds(meta)
    if tp is int:
        return f"an integer {bounds}".rstrip()
    if tp is float:
        return f"a number {bounds}".rstrip()
    if tp is str:
        return "a string"
    if tp is bool:
        return "true or false"
    if typing.get_origin(tp) is typing.Literal:
        if len(typing.get_args(tp)) == 1:
            return f"`{typing.get_args(tp)[0]}`"
        return "one of " + ", ".join(f"`{v}`" for v in typing.get_args(tp))
    if typing.get_origin(tp) in (list, tuple):
        return "a list"
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return "a mapping"
    tags = _union_tags(tp)
    if tags:
        return "a mapping with `type` one of " + ", ".join(f"`{t}`" for t in tags)
    return None


def _fields(root: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Field names of the model at `loc`, or none when it is not a model."""
    parent = _type_at(root, loc)
    if isinstance(parent, type) and issubclass(parent, BaseModel):
        return list(parent.model_fields)
    return []


def _literals(expected: str) -> list[str]:
    return re.findall(r"'([^']*)'", expected)


def _message(err: dict[str, Any], root: type[BaseModel]) -> tuple[str, str | None]:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    value = err.get("input")
    loc = tuple(err["loc"])
    if kind == "missing":
        tp, meta = _walk(root, loc)
        expected = _expected(tp, meta)
        hint = None
        if typing.get_origin(tp) is typing.Literal and len(typing.get_args(tp)) == 1:
            hint = f"add `{loc[-1]}: {typing.get_args(tp)[0]}`"
        return "required field is missing" + (f": expected {expected}" if expected else ""), hint
    if kind == "extra_forbidden":
        allowed = _fields(root, loc[:-1])
        hint = did_you_mean(loc[-1], allowed) or (
            "allowed fields: " + ", ".join(allowed) if allowed else None
        )
        return f"unknown field `{loc[-1]}`", hint
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        tags = _literals(ctx.get("expected_tags", "")) or _union_tags(_type_at(root, loc))
        listing = ", ".join(f"`{t}`" for t in tags)
        if kind == "union_tag_not_found":
            return f"missing `type`: expected one of {listing}", "add a `type:` entry"
        return (
            f"unknown type `{ctx.get('tag')}`: expected one of {listing}",
            did_you_mean(ctx.get("tag"), tags),
        )
    if kind == "literal_error":
        options = _literals(ctx.get("expected", ""))
        shown = ", ".join(f"`{o}`" for o in options) if options else ctx.get("expected", "")
        return f"expected one of {shown}, got {describe(value)}", did_you_mean(value, options)
    if kind in _BOUNDS:
        symbol, key = _BOUNDS[kind]
        bounds = _bounds(_walk(root, loc)[1]) or f"{symbol} {ctx.get(key)}"
        return f"expected a value {bounds}, got {describe(value)}", None
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
    raw = exc.errors(include_url=False)
    misspelt = _misspelt_fields(raw, root)
    groups: dict[tuple, list[tuple[dict, tuple, bool]]] = {}
    for err in raw:
        loc = tuple(err["loc"])
        if err["type"] == "missing" and loc in misspelt:
            continue  # reported once, as the unknown key that was probably meant to be it
        if err["type"] in ("missing", "extra_forbidden"):
            matched, *_ = source.resolve(loc[:-1])
            real = matched + (loc[-1],)
            full = True
        else:
            real, _, _, full = source.resolve(loc)
            if err["type"] == "union_tag_invalid":
                # point at the `type:` value rather than at the whole mapping
                tagged, *_, tag_full = source.resolve(real + ("type",))
                if tag_full:
                    real = tagged
        groups.setdefault(real, []).append((err, loc, full))

    errors: list[SpecError] = []
    for real, items in groups.items():
        if len(items) > 1 and all(not full for _, _, full in items):
            # the members of one union each rejected the same value: merge them
            expected: list[str] = []
            for err, loc, _ in items:
                if err["type"] == "literal_error":
                    expected.extend(f"`{o}`" for o in _literals(err["ctx"]["expected"]))
                elif err["type"] in _BOUNDS:
                    symbol, key = _BOUNDS[err["type"]]
                    bounds = _bounds(_walk(root, loc)[1]) or f"{symbol} {err['ctx'][key]}"
                    kind = "an integer" if isinstance(err.get("input"), int) else "a number"
                    expected.append(f"{kind} {bounds}")
                elif err["type"] in _EXPECTED:
                    expected.append(_EXPECTED[err["type"]])
                else:
                    text = _message(err, root)[0].removeprefix("expected ")
                    expected.append(text.split(", got ")[0])
            expected = list(dict.fromkeys(expected))
            value = items[0][0].get("input")
            message = f"expected {' or '.join(expected)}, got {describe(value)}"
            errors.append(SpecError(real, message, None, _where(source, real, items[0][0])))
            continue
        for err, _loc, _ in items:
            message, hint = _message(err, root)
            errors.append(SpecError(real, message, hint, _where(source, real, err)))
    return errors


def _misspelt_fields(raw: list[dict[str, Any]], root: type[BaseModel]) -> set[tuple]:
    """Locations of missing fields for which the same mapping has a close unknown key
    (`unit:` for `units:`); the unknown key's did-you-mean hint covers both."""
    missing = {tuple(e["loc"]) for e in raw if e["type"] == "missing"}
    out: set[tuple] = set()
    for err in raw:
        if err["type"] != "extra_forbidden":
            continue
        parent = tuple(err["loc"][:-1])
        hint = did_you_mean(err["loc"][-1], _fields(root, parent))
        for loc in missing:
            if loc[:-1] == parent and hint == f"did you mean `{loc[-1]}`?":
                out.add(loc)
    return out


def _where(source: SourceMap, real: tuple, err: dict) -> Location:
    if err["type"] == "extra_forbidden":
        pos = source.key_position(real)
        if pos is not None:
            return Location(source.file, *pos)
    if err["type"] == "missing":
        return source.location(real[:-1])
    return source.location(real)
