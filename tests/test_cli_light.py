"""The light commands stay light (no TensorFlow, no onnxruntime) and `specc` is self-describing."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from specc.cli import cli
from specc.spec import SpecErrors

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("tensorflow", "onnxruntime")
SPEC = "specs/digits_cnn.yaml"


def test_help_lists_every_command_with_a_one_line_summary() -> None:
    result = CliRunner().invoke(cli, ["--help"], terminal_width=200)
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    start = lines.index("Commands:")
    listed = {}
    for line in lines[start + 1 :]:
        if not line.startswith("  "):
            break
        name, _, summary = line.strip().partition(" ")
        listed[name] = summary.strip()
    expected = set(cli.commands)
    assert {"validate", "show", "schema", "codegen", "build"} <= expected
    assert set(listed) == expected
    for name, summary in listed.items():
        command = cli.commands[name]
        assert summary, f"`specc {name}` has no help line"
        assert command.help and summary.rstrip(".") in " ".join(command.help.split())


def test_short_help_option_and_version() -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["-h"]).stdout == runner.invoke(cli, ["--help"]).stdout
    version = runner.invoke(cli, ["--version"])
    assert version.exit_code == 0 and version.stdout.startswith("specc, version ")


@pytest.mark.parametrize("name", sorted(["validate", "lint", "show", "schema", "codegen", "build"]))
def test_command_help(name: str) -> None:
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0
    assert result.stdout.startswith(f"Usage: cli {name}") or f"{name} [OPTIONS]" in result.stdout


def _run_in_process(args: list[str]) -> subprocess.CompletedProcess:
    """Run `specc ARGS` inside a fresh interpreter, then report its exit code and which heavy
    modules it loaded."""
    code = textwrap.dedent(
        f"""
        import sys
        from specc.cli import cli
        try:
            cli.main(args={args!r}, prog_name="specc", standalone_mode=False)
            status = 0
        except SystemExit as exc:
            status = exc.code or 0
        print("EXIT=" + str(status))
        print("HEAVY=" + ",".join(m for m in {HEAVY!r} if m in sys.modules))
        assert "tensorflow" not in sys.modules and "onnxruntime" not in sys.modules
        """
    )
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


@pytest.mark.parametrize(
    ("args", "status"),
    [
        (["validate", SPEC], 0),
        (["validate", "--data", SPEC], 0),
        (["validate", "tests/invalid/many_errors.yaml"], 2),
        (["lint", SPEC], 0),
        (["lint", "--data", "--format", "json", SPEC], 0),
        (["show", SPEC], 0),
        (["schema"], 0),
        (["codegen", SPEC, "-o", "{tmp}"], 0),
    ],
    ids=[
        "validate",
        "validate-data",
        "validate-invalid",
        "lint",
        "lint-data",
        "show",
        "schema",
        "codegen",
    ],
)
def test_light_commands_do_not_import_heavy_libraries(
    args: list[str], status: int, tmp_path: Path
) -> None:
    args = [a.replace("{tmp}", str(tmp_path / "code")) for a in args]
    proc = _run_in_process(args)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert f"EXIT={status}" in lines, proc.stdout
    assert lines[-1] == "HEAVY=", lines[-1]
    if args[0] == "codegen":
        assert sorted(p.name for p in (tmp_path / "code").glob("*.py"))


# Never imported by `specc validate`: heavy libraries, the parts of specc that serve other
# commands, and modules it needs only to print an error (or that a command imports lazily).
NOT_FOR_VALIDATE = (
    *HEAVY,
    "keras",
    "onnx",
    "numpy",
    "sklearn",
    "scipy",
    "pandas",
    "matplotlib",
    "jinja2",
    "specc.codegen",
    "specc.builder",
    "specc.export",
    "specc.runtime",
    "specc.spec.jsonschema",
    "specc.spec.fielddocs",
    "json",
    "difflib",
)


@pytest.mark.parametrize("command", ["validate", "lint"])
def test_validate_imports_only_what_it_needs(command: str) -> None:
    """What keeps `specc validate` (and `specc lint` without `--data`) quick to start (speed
    itself is measured by benchmarks/bench_validate_startup.py): none of `NOT_FOR_VALIDATE` is
    imported, and of the spec models only `Spec` builds a validator (one build for the whole
    schema: defaults that are models are made without validation, see `SpecModel`)."""
    code = textwrap.dedent(
        f"""
        import sys
        from specc.cli import cli
        from specc.spec.base import SpecModel
        try:
            cli.main(args=[{command!r}, {SPEC!r}], prog_name="specc", standalone_mode=False)
        except SystemExit as exc:
            assert not exc.code, exc.code
        loaded = list(sys.modules)  # before this script imports json
        import json
        def models(cls):
            for sub in cls.__subclasses__():
                yield sub
                yield from models(sub)
        built = sorted({{m.__name__ for m in models(SpecModel) if m.__pydantic_complete__}})
        print(json.dumps({{"modules": loaded, "built": built}}))
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.splitlines()[-1])
    unwanted = sorted(
        m
        for m in report["modules"]
        if any(m == name or m.startswith(name + ".") for name in NOT_FOR_VALIDATE)
    )
    assert unwanted == []
    assert report["built"] == ["Spec"]


def test_spec_model_modules_do_not_postpone_annotations() -> None:
    """Under `from __future__ import annotations` pydantic compiles every field annotation from
    a string when the class is created (see `SpecModel`): a module defining spec models does
    without it."""
    import __future__

    from specc.spec import Spec  # noqa: F401  (imports every schema module)
    from specc.spec.base import SpecModel

    def models(cls: type) -> list[type]:
        return [m for sub in cls.__subclasses__() for m in (sub, *models(sub))]

    modules = {sys.modules[m.__module__] for m in models(SpecModel)}
    assert len(modules) >= 4
    postponed = [
        m.__name__ for m in modules if vars(m).get("annotations") is __future__.annotations
    ]
    assert postponed == []


def test_help_loads_neither_the_spec_package_nor_pydantic() -> None:
    """`specc --help` (and the commands that read no spec) import click and the command
    definitions only."""
    code = textwrap.dedent(
        """
        import sys
        from specc.cli import cli
        try:
            cli.main(args=["--help"], prog_name="specc", standalone_mode=False)
        except SystemExit:
            pass
        print(",".join(sorted(m for m in sys.modules if m.split(".")[0] in
                              ("pydantic", "yaml", "specc"))))
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    loaded = proc.stdout.splitlines()[-1].split(",")
    assert sorted(loaded) == [
        "specc",
        "specc.cli",
        "specc.commands",
        "specc.commands.build",
        "specc.commands.common",
        "specc.commands.lint",
        "specc.commands.recipe",
        "specc.commands.runtime",
        "specc.commands.search",
    ]


def test_schema_command_prints_the_documented_schema(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["schema"])
    assert result.exit_code == 0
    printed = json.loads(result.stdout)
    documented = json.loads((ROOT / "docs" / "specc.schema.json").read_text(encoding="utf-8"))
    assert printed == documented
    assert printed["title"] == "Spec"
    assert set(printed["required"]) >= {"specc", "name", "task", "data", "model"}
    assert "Dense" in printed["$defs"]

    out = tmp_path / "schema.json"
    written = CliRunner().invoke(cli, ["schema", "-o", str(out)])
    assert written.exit_code == 0 and written.stdout == f"wrote {out}\n"
    assert json.loads(out.read_text(encoding="utf-8")) == documented


def test_schema_validates_the_example_specs_structurally() -> None:
    """Each example spec's keys are properties the schema declares (a light structural check)."""
    import yaml

    schema = json.loads((ROOT / "docs" / "specc.schema.json").read_text(encoding="utf-8"))
    for spec in sorted((ROOT / "specs").glob("*.yaml")):
        data = yaml.safe_load(spec.read_text(encoding="utf-8"))
        assert set(data) <= set(schema["properties"]), spec.name
        assert set(schema["required"]) <= set(data), spec.name


def test_unknown_command_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["valdate"])
    assert result.exit_code == 2
    assert isinstance(result.exception, SystemExit)
    assert "No such command" in result.output


def test_click_groups_are_consistent() -> None:
    assert isinstance(cli, click.Group)
    for name, command in cli.commands.items():
        assert command.name == name


@pytest.mark.parametrize("case", ["csv_shape_mismatch", "csv_target_count", "csv_two_inputs"])
def test_codegen_reports_data_errors_cleanly(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A CSV file that does not fit the spec is a located spec error (exit 2) for `codegen` as
    for `validate`, never a traceback, and no code is written."""
    monkeypatch.chdir(ROOT)
    spec = f"tests/invalid/{case}.yaml"
    result = CliRunner().invoke(cli, ["codegen", spec, "-o", str(tmp_path / "code")])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and not isinstance(result.exception, SpecErrors)
    expected = (ROOT / "tests" / "invalid" / f"{case}.expected").read_text(encoding="utf-8")
    assert result.stderr == expected
    assert not (tmp_path / "code").exists()
