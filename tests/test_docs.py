"""The generated docs match the code, cover every field and option, and the README agrees
with CI about how the tests are run."""

from __future__ import annotations

import json
import re
from pathlib import Path

import click
import pytest

from specc.cli import cli
from specc.spec.jsonschema import spec_json_schema
from tools import docs_gen

ROOT = Path(__file__).resolve().parent.parent
REGENERATE = "run `python -m tools.docs_gen` and commit the result"


def _sections(markdown: str) -> dict[str, str]:
    """{heading text: body} for the `##`/`###` sections of a Markdown file."""
    out: dict[str, str] = {}
    parts = re.split(r"^#{2,3} (.+)$", markdown, flags=re.M)
    for heading, body in zip(parts[1::2], parts[2::2], strict=True):
        out[heading.strip()] = body
    return out


@pytest.mark.parametrize("relative", sorted(docs_gen.render_all()))
def test_generated_file_is_up_to_date(relative: str) -> None:
    fresh = docs_gen.render_all()[relative]
    path = ROOT / relative
    assert path.is_file(), f"{relative} is missing: {REGENERATE}"
    assert path.read_text(encoding="utf-8") == fresh, f"{relative} is out of date: {REGENERATE}"


def test_check_mode_reports_stale_files(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert docs_gen.main(["--check", "--root", str(tmp_path)]) == 1
    assert "python -m tools.docs_gen" in capsys.readouterr().err
    assert docs_gen.main(["--root", str(tmp_path)]) == 0
    for relative in docs_gen.render_all():
        assert (tmp_path / relative).is_file()
    assert docs_gen.main(["--check", "--root", str(tmp_path)]) == 0


def test_schema_file_is_the_schema() -> None:
    on_disk = json.loads((ROOT / "docs" / "specc.schema.json").read_text(encoding="utf-8"))
    assert on_disk == spec_json_schema()
    assert on_disk["$schema"].startswith("https://json-schema.org/")


def test_every_schema_field_is_in_the_reference() -> None:
    """Each model of the schema has a section whose table lists each of its fields."""
    reference = (ROOT / "docs" / "spec-reference.md").read_text(encoding="utf-8")
    sections = _sections(reference)
    by_model = {heading.split()[0]: body for heading, body in sections.items()}
    schema = spec_json_schema()
    models = {"Spec": schema, **schema["$defs"]}
    missing = []
    for name, definition in models.items():
        body = by_model.get(name)
        if body is None:
            missing.append(f"section {name}")
            continue
        for field in definition.get("properties", {}):
            if f"| `{field}` |" not in body:
                missing.append(f"{name}.{field}")
    assert not missing, f"not in docs/spec-reference.md: {missing} ({REGENERATE})"


def test_reference_shows_field_docstrings_and_defaults() -> None:
    reference = (ROOT / "docs" / "spec-reference.md").read_text(encoding="utf-8")
    body = _sections(reference)["Dense (`type: dense`)"]
    row = next(line for line in body.splitlines() if line.startswith("| `units` |"))
    assert "**required**" in row and "Number of output units." in row
    row = next(line for line in body.splitlines() if line.startswith("| `dropout` |"))
    assert "`0.0`" in row and ">= 0.0" in row and "< 1.0" in row
    training = _sections(reference)["Training"]
    assert "`{type: adam}`" in training


def test_reference_explains_every_discriminated_union() -> None:
    reference = (ROOT / "docs" / "spec-reference.md").read_text(encoding="utf-8")
    sections = _sections(reference)
    for key in ("task", "data", "model.layers", "training.optimizer", "training.schedule"):
        body = sections[f"`{key}`: kinds by `type`"]
        assert "`type` key picks the kind" in body
    layers = sections["`model.layers`: kinds by `type`"]
    from specc.spec.layers import LAYER_TYPES

    for layer_type in LAYER_TYPES:
        assert f"| `{layer_type}` |" in layers
        assert any(h.endswith(f"(`type: {layer_type}`)") for h in sections)


def _commands() -> list[tuple[str, click.Command, click.Context]]:
    root = click.Context(cli, info_name="specc", **cli.context_settings)
    out = []
    for name in cli.list_commands(root):
        command = cli.get_command(root, name)
        assert command is not None
        out.append((name, command, click.Context(command, info_name=name, parent=root)))
    return out


def test_every_cli_command_and_option_is_documented() -> None:
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    sections = _sections(text)
    commands = _commands()
    assert {"validate", "show", "schema", "codegen", "build"} <= {name for name, *_ in commands}
    missing = []
    for name, command, ctx in commands:
        body = sections.get(f"`specc {name}`")
        if body is None:
            missing.append(f"command {name}")
            continue
        if " ".join((command.help or "").split()[:5]) not in " ".join(body.split()):
            missing.append(f"help of {name}")
        for param in command.get_params(ctx):
            if isinstance(param, click.Option):
                missing += [f"{name} {o}" for o in param.opts if f"`{o}`" not in body]
            elif isinstance(param, click.Argument):
                metavar = param.metavar or param.name.upper()
                if f"`{metavar}`" not in body:
                    missing.append(f"{name} {metavar}")
    for opt in cli.get_params(click.Context(cli, info_name="specc", **cli.context_settings)):
        missing += [f"specc {o}" for o in opt.opts if f"`{o}`" not in text]
    assert not missing, f"not in docs/cli.md: {missing} ({REGENERATE})"


# --------------------------------------------------------------------------- README vs CI

SETUP = re.compile(r"^(python3? -m venv \S+|\. \S+/bin/activate|source \S+/bin/activate)$")


def _readme_test_command() -> str:
    readme = ROOT / "README.md"
    if not readme.is_file():
        pytest.skip("README.md does not exist yet")
    blocks = re.findall(r"^```[a-z]*\n(.*?)^```", readme.read_text(encoding="utf-8"), re.M | re.S)
    lines = [
        line.strip().removeprefix("$ ")
        for block in blocks
        for line in block.splitlines()
        if "pytest" in line and "pip install" in line
    ]
    if not lines:
        pytest.skip("README.md has no fenced install-and-test command yet")
    assert len(lines) == 1, f"several test commands in README.md: {lines}"
    # CI makes its own virtual environment; compare what follows the venv set-up
    steps = [step.strip() for step in lines[0].split("&&")]
    while steps and SETUP.match(steps[0]):
        steps.pop(0)
    return " && ".join(steps)


def test_readme_test_command_is_what_ci_runs() -> None:
    command = _readme_test_command()
    assert command == 'pip install -e ".[dev]" && python -m pytest -q'
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert command in ci.splitlines(), "the README's test command is not a line of .ci/run"
    last = [line for line in ci.splitlines() if line.strip() and not line.startswith("#")][-1]
    assert last == command, ".ci/run must end with the README's test command"
