"""Generate the reference documentation from the code, so it cannot drift from it.

    python -m tools.docs_gen            # rewrite docs/spec-reference.md, docs/cli.md,
                                        # docs/specc.schema.json, docs/lint.md
    python -m tools.docs_gen --check    # exit 1 when a file is out of date

`docs/spec-reference.md` comes from the pydantic models of the spec (types, defaults and the
fields' docstrings), `docs/cli.md` from the click commands, and `docs/specc.schema.json` is the
JSON Schema `specc schema` prints (the example specs point editors at it).
"""

from __future__ import annotations

import argparse
import inspect
import json
import sys
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import yaml
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from specc.spec.translate import bound_parts
from specc.spec.translate import unwrap_annotated as _unwrap

__all__ = ["render_all", "render_cli", "render_reference", "render_schema", "main"]

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = "docs/spec-reference.md"
CLI = "docs/cli.md"
SCHEMA = "docs/specc.schema.json"
REGENERATE = "python -m tools.docs_gen"

# --------------------------------------------------------------------------- helpers


def _doc(obj: Any) -> str:
    return inspect.cleandoc(obj.__doc__ or "").strip()


def _one_line(text: str | None) -> str:
    """Table-cell text: newlines folded, pipes escaped."""
    return " ".join((text or "").split()).replace("|", "\\|")


def _first_sentence(text: str) -> str:
    text = " ".join(text.split())
    end = text.find(". ")
    return text if end < 0 else text[: end + 1]


def _anchor(name: str) -> str:
    return name.lower().replace(".", "-").replace("_", "-")


def _yaml_inline(value: Any) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, width=10_000, sort_keys=False)
    text = text.strip()
    if text.endswith("\n..."):
        text = text[: -len("\n...")].strip()
    elif text.endswith("..."):
        text = text[: -len("...")].strip()
    return text


def _union_args(tp: Any) -> tuple[Any, ...] | None:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return typing.get_args(tp)
    return None


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _tag(model: type[BaseModel]) -> str | None:
    """The `type` value that selects `model` in a discriminated union (None if it has none)."""
    f = model.model_fields.get("type")
    if f is None:
        return None
    args = typing.get_args(_unwrap(f.annotation)[0])
    return args[0] if len(args) == 1 else None


def _tagged_union(tp: Any) -> list[type[BaseModel]] | None:
    """The members of a discriminated union of models (chosen by `type`), else None."""
    tp, _ = _unwrap(tp)
    members = _union_args(tp)
    if not members:
        return None
    models = [_unwrap(m)[0] for m in members]
    if len(models) > 1 and all(_is_model(m) and _tag(m) for m in models):
        return models
    return None


def _bounds(meta: list[Any]) -> str:
    return ", ".join(bound_parts(meta))


def _lengths(meta: list[Any], unit: str) -> str:
    low = next((m.min_length for m in meta if getattr(m, "min_length", None) is not None), None)
    high = next((m.max_length for m in meta if getattr(m, "max_length", None) is not None), None)
    if low is not None and high is not None:
        if low == high:
            return f"exactly {low} {unit}{'s' if low != 1 else ''}"
        return f"{low} to {high} {unit}s"
    if low is not None:
        return f"at least {low} {unit}{'s' if low != 1 else ''}"
    if high is not None:
        return f"at most {high} {unit}{'s' if high != 1 else ''}"
    return ""


# --------------------------------------------------------------------------- spec reference


@dataclass
class _Union:
    """A discriminated union documented as a choice between models."""

    key: str  # e.g. "task", "model.layers", "training.optimizer"
    members: list[type[BaseModel]]
    is_list: bool = False  # the field is a list of such mappings

    @property
    def anchor(self) -> str:
        return "choice-" + _anchor(self.key)


@dataclass
class _Reference:
    """Collects the models and unions reachable from `Spec`, each documented once."""

    models: dict[type[BaseModel], str] = field(default_factory=dict)  # model -> anchor
    unions: dict[tuple[type, ...], _Union] = field(default_factory=dict)
    # long shared choice lists (activations, initializers): values -> (title, docstring)
    vocabularies: dict[tuple[Any, ...], tuple[str, str]] = field(default_factory=dict)

    def link(self, model: type[BaseModel]) -> str:
        return f"[{model.__name__}](#{_anchor(model.__name__)})"

    def type_text(self, tp: Any, meta: list[Any] | None = None) -> str:
        """A readable type: `integer (> 0)`, `list of [Input](#input)`, ..."""
        tp, extra = _unwrap(tp)
        meta = list(meta or []) + extra
        members = _tagged_union(tp)
        if members is not None:
            union = self.unions.get(tuple(members))
            target = f"#{union.anchor}" if union else ""
            return f"mapping chosen by `type` ([{len(members)} kinds]({target}))"
        args = _union_args(tp)
        if args is not None:
            parts = [self.type_text(a) for a in args if a is not type(None)]
            if type(None) in args:
                parts.append("`null`")
            text = " or ".join(parts)
            bounds = _bounds(meta)
            return f"{text} ({bounds})" if bounds else text
        if tp is type(None):
            return "`null`"
        if typing.get_origin(tp) is typing.Literal:
            values = typing.get_args(tp)
            if values in self.vocabularies:
                name = self.vocabularies[values][0]
                return f"[{name.lower()}](#{_anchor(name)}) name"
            return " or ".join(f"`{_yaml_inline(v)}`" for v in values)
        if tp is bool:
            return "boolean"
        if tp in (int, float):
            word = "integer" if tp is int else "number"
            bounds = _bounds(meta)
            return f"{word} ({bounds})" if bounds else word
        if tp is str:
            pattern = next((m.pattern for m in meta if getattr(m, "pattern", None)), None)
            if pattern:
                return "[name](#names)"
            lengths = _lengths(meta, "character")
            return f"string ({lengths})" if lengths else "string"
        origin = typing.get_origin(tp)
        if origin in (list, tuple):
            (item,) = typing.get_args(tp)[:1]
            lengths = _lengths(meta, "item")
            return f"list of {self.type_text(item)}" + (f", {lengths}" if lengths else "")
        if origin is dict:
            key, value = typing.get_args(tp)
            return f"mapping of {self.type_text(key)} to {self.type_text(value)}"
        if _is_model(tp):
            return f"mapping: {self.link(tp)}"
        return f"`{getattr(tp, '__name__', tp)}`"

    def default_text(self, info: FieldInfo) -> str:
        if info.default is PydanticUndefined and info.default_factory is None:
            return "**required**"
        value = info.get_default(call_default_factory=True)
        if isinstance(value, BaseModel):
            dumped = value.model_dump(mode="json", exclude_defaults=True)
            return f"`{_yaml_inline(dumped)}`" if dumped else "all defaults"
        if value == "":
            return '`""`'
        return f"`{_yaml_inline(value)}`"


def _ordered_fields(model: type[BaseModel]) -> list[tuple[str, FieldInfo]]:
    """`type` first, then the model's own fields, then inherited ones (nearest class first)."""
    owner: dict[str, int] = {}
    for depth, klass in enumerate(model.__mro__):
        if klass is BaseModel or not _is_model(klass):
            continue
        for name in inspect.get_annotations(klass):
            owner.setdefault(name, depth)
    position = {name: i for i, name in enumerate(model.model_fields)}
    names = sorted(position, key=lambda n: (n != "type", owner.get(n, 99), position[n]))
    return [(n, model.model_fields[n]) for n in names]


def _nested(tp: Any) -> Iterator[Any]:
    """Models and discriminated unions mentioned in annotation `tp`, outermost first."""
    tp, _ = _unwrap(tp)
    if _tagged_union(tp) is not None:
        yield tp
        return
    if _is_model(tp):
        yield tp
        return
    for arg in typing.get_args(tp):
        if arg is not type(None) and not isinstance(arg, (str, int, float, bool)):
            yield from _nested(arg)


def _collect(ref: _Reference, model: type[BaseModel], where: str, order: list[Any]) -> None:
    """Register `model` and, depth first, the models and unions its fields use. A union's
    kinds are listed together, before the models nested in them."""
    if model in ref.models:
        return
    ref.models[model] = _anchor(model.__name__)
    order.append(model)
    _collect_fields(ref, model, where, order)


def _collect_fields(ref: _Reference, model: type[BaseModel], where: str, order: list[Any]) -> None:
    for name, info in _ordered_fields(model):
        key = f"{where}.{name}" if where else name
        for item in _nested(info.annotation):
            if _is_model(item):
                _collect(ref, item, key, order)
                continue
            members = _tagged_union(item)
            assert members is not None
            if tuple(members) in ref.unions:
                continue
            is_list = typing.get_origin(_unwrap(info.annotation)[0]) is list
            ref.unions[tuple(members)] = union = _Union(key, members, is_list)
            order.append(union)
            fresh = [m for m in members if m not in ref.models]
            for member in fresh:
                ref.models[member] = _anchor(member.__name__)
                order.append(member)
            for member in fresh:
                _collect_fields(ref, member, key, order)


def _model_section(ref: _Reference, model: type[BaseModel], lines: list[str]) -> None:
    from specc.spec.fielddocs import field_docs

    tag = _tag(model)
    title = f"{model.__name__} (`type: {tag}`)" if tag else model.__name__
    lines += [f'<a id="{_anchor(model.__name__)}"></a>', "", f"### {title}", ""]
    if _doc(model):
        lines += [" ".join(_doc(model).split()), ""]
    lines += ["| field | type | default | description |", "|---|---|---|---|"]
    docs = field_docs(model)
    for name, info in _ordered_fields(model):
        type_text = ref.type_text(info.annotation, info.metadata)
        description = info.description or docs.get(name)
        if name == "type" and tag and not description:
            description = "Selects this kind."
        lines.append(
            f"| `{name}` | {_one_line(type_text)} | {_one_line(ref.default_text(info))} "
            f"| {_one_line(description)} |"
        )
    lines.append("")


def _union_section(ref: _Reference, union: _Union, lines: list[str]) -> None:
    kinds = "layer" if union.key == "model.layers" else union.key.rsplit(".", 1)[-1]
    lines += [f'<a id="{union.anchor}"></a>', "", f"### `{union.key}`: kinds by `type`", ""]
    subject = f"Each item of `{union.key}`" if union.is_list else f"`{union.key}`"
    lines += [
        f"{subject} is a mapping whose `type` key picks the kind of {kinds}; the other keys "
        "are the fields of that kind (any other key is an error).",
        "",
        "| `type` | kind | summary |",
        "|---|---|---|",
    ]
    for member in union.members:
        summary = _one_line(_first_sentence(_doc(member)))
        lines.append(f"| `{_tag(member)}` | {ref.link(member)} | {summary} |")
    lines.append("")


def _vocabularies() -> dict[tuple[Any, ...], tuple[str, str]]:
    """The named `Literal` aliases of `specc.spec.base` (Activation, Initializer) with the
    docstrings written under them."""
    import ast

    from specc.spec import base

    tree = ast.parse(inspect.getsource(base))
    out: dict[tuple[Any, ...], tuple[str, str]] = {}
    body = tree.body
    for node, after in zip(body, [*body[1:], None], strict=True):
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1):
            continue
        target = node.targets[0]
        alias = getattr(base, target.id, None) if isinstance(target, ast.Name) else None
        if typing.get_origin(alias) is not typing.Literal or len(typing.get_args(alias)) < 8:
            continue
        doc = ""
        if isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant):
            doc = str(after.value.value)
        out[typing.get_args(alias)] = (target.id, " ".join(doc.split()))
    return out


def _vocabulary_sections(ref: _Reference, lines: list[str]) -> None:
    for values, (name, doc) in ref.vocabularies.items():
        lines += [f'<a id="{_anchor(name)}"></a>', "", f"### {name} names", ""]
        if doc:
            lines += [doc, ""]
        lines += [", ".join(f"`{v}`" for v in values), ""]


def render_reference() -> str:
    """`docs/spec-reference.md`: every section, field, type, default and docstring."""
    from specc.spec.schema import Spec

    ref = _Reference(vocabularies=_vocabularies())
    order: list[Any] = []
    _collect(ref, Spec, "", order)

    lines = [
        "# Spec reference",
        "",
        f"<!-- Generated from the pydantic models in specc/spec by `{REGENERATE}`; "
        "do not edit. -->",
        "",
        " ".join(_doc(Spec).split()),
        "",
        "A spec is one YAML mapping. Every mapping is strict: an unknown key is an error (with a "
        'did-you-mean hint), and values are not coerced (`"16"` is not an integer). Fields '
        "marked **required** have no default; every other field may be left out. "
        "`specc build` writes the resolved spec, every default filled in, to "
        "`spec.lock.yaml`.",
        "",
        "Editors check and complete specs with the JSON Schema in "
        "[`specc.schema.json`](specc.schema.json): start a spec with",
        "",
        "```yaml",
        "# yaml-language-server: $schema=../docs/specc.schema.json",
        "```",
        "",
        '<a id="names"></a>',
        "",
        "**Names** (the spec's `name`, input and layer names, references to them) are made of "
        "letters, digits and `_`, do not start with a digit and are at most 64 characters "
        "long: they become Python identifiers and ONNX tensor names.",
        "",
        "## Choices by `type`",
        "",
        "Some fields hold one of several kinds of mapping, told apart by their `type` key "
        "(a *discriminated union*): the task, the data source, each layer, the optimizer and "
        "the learning-rate schedule. Each kind has its own fields; the tables below list "
        "them per kind. A missing or unknown `type` is reported with the list of kinds.",
        "",
        "| field | kinds |",
        "|---|---|",
    ]
    for union in ref.unions.values():
        kinds = ", ".join(f"`{_tag(m)}`" for m in union.members)
        lines.append(f"| [`{union.key}`](#{union.anchor}) | {kinds} |")
    lines += ["", "## Contents", ""]
    for item in order:
        if isinstance(item, _Union):
            lines.append(f"- [`{item.key}`: kinds by `type`](#{item.anchor})")
        else:
            lines.append(f"  - {ref.link(item)}" if _tag(item) else f"- {ref.link(item)}")
    for _, (name, _) in ref.vocabularies.items():
        lines.append(f"- [{name} names](#{_anchor(name)})")
    lines += ["", "## Sections", ""]
    for item in order:
        if isinstance(item, _Union):
            _union_section(ref, item, lines)
        else:
            _model_section(ref, item, lines)
    _vocabulary_sections(ref, lines)
    return "\n".join(lines).rstrip("\n") + "\n"


# --------------------------------------------------------------------------- CLI reference


def _param_type(param: click.Parameter) -> str:
    kind = param.type
    if isinstance(param, click.Option) and param.is_flag:
        return "flag"
    if isinstance(kind, click.Choice):
        return " or ".join(f"`{c}`" for c in kind.choices)
    if isinstance(kind, (click.IntRange, click.FloatRange)):
        word = "integer" if isinstance(kind, click.IntRange) else "number"
        bounds = []
        if kind.min is not None:
            bounds.append(f"{'>' if kind.min_open else '>='} {kind.min}")
        if kind.max is not None:
            bounds.append(f"{'<' if kind.max_open else '<='} {kind.max}")
        return f"{word} ({', '.join(bounds)})" if bounds else word
    return {"text": "text", "integer": "integer", "float": "number"}.get(kind.name, kind.name)


def _param_default(param: click.Parameter) -> str:
    if param.required:
        return "**required**"
    default = param.to_info_dict().get("default")  # click's own normalised default
    if isinstance(param, click.Option) and param.is_flag:
        return "on" if default is True else "off"
    if default is None or callable(default) or default in ((), []):
        return ""
    return f"`{default}`"


def _help_text(text: str | None) -> str:
    text = inspect.cleandoc(text or "").split("\f")[0]  # click hides what follows \f
    lines = [line for line in text.splitlines() if line.strip() != "\b"]
    return "\n".join(lines).strip()


def _command_section(
    name: str, command: click.Command, parent: click.Context, lines: list[str]
) -> None:
    ctx = click.Context(command, info_name=name, parent=parent)
    usage = " ".join(command.collect_usage_pieces(ctx))
    lines += [f"## `specc {name}`", "", "```", f"specc {name} {usage}".rstrip(), "```", ""]
    lines += [_help_text(command.help), ""]
    params = command.get_params(ctx)
    arguments = [p for p in params if isinstance(p, click.Argument)]
    options = [p for p in params if isinstance(p, click.Option)]
    if arguments:
        lines += ["| argument | type | count |", "|---|---|---|"]
        for arg in arguments:
            count = "one or more" if arg.nargs == -1 else str(arg.nargs)
            if not arg.required:
                count += " (optional)"
            metavar = arg.metavar or arg.name.upper()
            lines.append(f"| `{metavar}` | {_param_type(arg)} | {count} |")
        lines.append("")
    if options:
        lines += ["| option | type | default | description |", "|---|---|---|---|"]
        for opt in options:
            names = ", ".join(f"`{o}`" for o in [*opt.opts, *opt.secondary_opts])
            lines.append(
                f"| {names} | {_one_line(_param_type(opt))} | {_one_line(_param_default(opt))} "
                f"| {_one_line(opt.help)} |"
            )
        lines.append("")


def render_cli() -> str:
    """`docs/cli.md`: every command with its help text, arguments and options."""
    from specc.cli import cli

    root = click.Context(cli, info_name="specc", **cli.context_settings)
    lines = [
        "# Command line",
        "",
        f"<!-- Generated from the click commands in specc by `{REGENERATE}`; do not edit. -->",
        "",
        _help_text(cli.help),
        "",
        "Commands that read a spec print every error in it, one per line as "
        "`FILE:LINE:COL: path: message (hint)`, then the count, and exit with code 2.",
        "",
        "| command | summary |",
        "|---|---|",
    ]
    names = cli.list_commands(root)
    for name in names:
        command = cli.get_command(root, name)
        assert command is not None
        lines.append(
            f"| [`specc {name}`](#specc-{name}) | {_one_line(command.get_short_help_str(200))} |"
        )
    lines += ["", "Options of `specc` itself:", ""]
    lines += ["| option | description |", "|---|---|"]
    for opt in cli.get_params(root):
        if isinstance(opt, click.Option):
            names_ = ", ".join(f"`{o}`" for o in [*opt.opts, *opt.secondary_opts])
            lines.append(f"| {names_} | {_one_line(opt.help)} |")
    lines.append("")
    for name in names:
        command = cli.get_command(root, name)
        assert command is not None
        _command_section(name, command, root, lines)
    return "\n".join(lines).rstrip("\n") + "\n"


# --------------------------------------------------------------------------- schema


def render_schema() -> str:
    """`docs/specc.schema.json`: exactly what `specc schema` prints."""
    from specc.spec.jsonschema import spec_json_schema

    return json.dumps(spec_json_schema(), indent=2) + "\n"


def render_all() -> dict[str, str]:
    """Every generated file, by path relative to the repository root."""
    from .lint_docs import LINT, render_lint

    return {
        REFERENCE: render_reference(),
        CLI: render_cli(),
        SCHEMA: render_schema(),
        LINT: render_lint(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.docs_gen", description=__doc__)
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if a file is out of date"
    )
    parser.add_argument(
        "--root", type=Path, default=ROOT, help="repository root (default: this checkout)"
    )
    args = parser.parse_args(argv)
    stale = []
    for relative, text in render_all().items():
        target = args.root / relative
        current = target.read_text(encoding="utf-8") if target.is_file() else None
        if current == text:
            continue
        stale.append(relative)
        if not args.check:
            from specc.atomic import write_text

            write_text(target, text)
            print(f"wrote {relative}")
    if args.check and stale:
        print(f"out of date: {', '.join(stale)} (run `{REGENERATE}`)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
