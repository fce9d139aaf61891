"""`specc lint`: every rule fires on its example and stays quiet on the near miss; diagnostics
are located in the spec file; the command's exit codes, formats and options; the lint lines of
`specc validate`. Real specs, real data files, no TensorFlow."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from specc.cli import cli
from specc.lint import RULES, run, unknown_rules
from specc.lint.samples import example_count
from specc.pipeline import compile_spec
from tools.lint_examples import BASE, EXAMPLES, lint_example, spec_text

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "specs").glob("*.yaml"))

unknown_rules([])  # registers the data rules too


def test_every_rule_has_an_example_and_every_example_a_rule() -> None:
    assert sorted(EXAMPLES) == sorted(RULES)


def test_rule_ids_and_severities_are_well_formed() -> None:
    for rule_id, rule in RULES.items():
        assert rule_id.startswith("SPC") and len(rule_id) == 6 and rule_id[3:].isdigit()
        assert rule.severity in ("error", "warning", "info")
        assert rule.title and rule.why.endswith(".")
        assert rule.data == rule_id.startswith("SPC3"), rule_id


@pytest.mark.parametrize("rule_id", sorted(EXAMPLES))
def test_rule_fires_on_its_example(rule_id: str, tmp_path: Path) -> None:
    found = [d for d in lint_example(rule_id, tmp_path) if d.rule == rule_id]
    assert found, f"{rule_id} did not fire on its example"
    for diagnostic in found:
        assert diagnostic.message and diagnostic.location is not None
        assert diagnostic.location.file == str(tmp_path / "example.yaml")
        assert diagnostic.format().startswith(f"{diagnostic.location}: {rule_id} ")


@pytest.mark.parametrize("rule_id", sorted(EXAMPLES))
def test_rule_is_quiet_on_the_near_miss(rule_id: str, tmp_path: Path) -> None:
    found = [d for d in lint_example(rule_id, tmp_path, fire=False) if d.rule == rule_id]
    assert found == []


def test_base_example_spec_is_clean(tmp_path: Path) -> None:
    # the near misses rely on it: with the data rules, on iris, seed 1
    path = tmp_path / "base.yaml"
    path.write_text(spec_text({}), encoding="utf-8")
    compiled = compile_spec(path)
    assert run(compiled.loaded, compiled.graph, data=True) == []
    assert BASE["seed"] == 1


def test_diagnostic_points_at_the_field(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(spec_text({"training": {"batch_size": 24}}), encoding="utf-8")
    compiled = compile_spec(path)
    (diagnostic,) = run(compiled.loaded, compiled.graph)
    line = path.read_text().splitlines()[diagnostic.location.line - 1]
    assert line[diagnostic.location.col - 1 :].startswith("24")
    assert diagnostic.field == "training.batch_size"
    assert diagnostic.to_json()["line"] == diagnostic.location.line


def test_a_default_is_said_to_be_one(tmp_path: Path) -> None:
    change = {"training": {"epochs": 10, "batch_size": None}}  # batch size 32 by default
    (tmp_path / "data.csv").write_text("a,b,label\n" + "1,2,0\n3,4,1\n" * 5, encoding="utf-8")
    csv = EXAMPLES["SPC301"].fire
    compiled = compile_spec_text(tmp_path, {**csv, **change})
    (found,) = [d for d in run(compiled.loaded, compiled.graph) if d.rule == "SPC202"]
    assert found.message.endswith("(a default: the field is not in the spec)")
    lines = compiled.loaded.text.splitlines()
    training_line = next(i for i, line in enumerate(lines, 1) if line.startswith("training:"))
    assert found.location.line == training_line  # the section the default belongs to


def test_ignore_skips_a_rule(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(spec_text({"training": {"batch_size": 24}, "seed": None}), encoding="utf-8")
    compiled = compile_spec(path)
    rules = {d.rule for d in run(compiled.loaded, compiled.graph)}
    assert rules == {"SPC201", "SPC208"}
    kept = run(compiled.loaded, compiled.graph, ignore=["SPC201"])
    assert {d.rule for d in kept} == {"SPC208"}


def test_threshold_boundaries(tmp_path: Path) -> None:
    """Adam at exactly 10x the usual rate is not "far"; just above it is."""

    def rules(change: dict) -> set[str]:
        path = tmp_path / "spec.yaml"
        path.write_text(spec_text(change), encoding="utf-8")
        compiled = compile_spec(path)
        return {d.rule for d in run(compiled.loaded, compiled.graph)}

    assert "SPC206" not in rules(
        {"training": {"optimizer": {"type": "adam", "learning_rate": 3e-3}}}
    )
    assert "SPC206" in rules({"training": {"optimizer": {"type": "adam", "learning_rate": 3.1e-3}}})
    assert "SPC206" in rules({"training": {"optimizer": {"type": "adamw", "learning_rate": 2e-5}}})
    assert "SPC206" not in rules({"training": {"optimizer": {"type": "sgd", "learning_rate": 0.1}}})
    # a width of exactly the limit (4x the larger of 4 inputs and 3 outputs) is fine
    assert "SPC101" not in rules(
        {"model": {"layers": [{"type": "dense", "units": 16}, {"type": "dense", "units": 3}]}}
    )
    assert "SPC101" in rules(
        {"model": {"layers": [{"type": "dense", "units": 17}, {"type": "dense", "units": 3}]}}
    )


def test_regularised_large_network_is_only_a_note(tmp_path: Path) -> None:
    change = EXAMPLES["SPC205"].fire
    path = tmp_path / "spec.yaml"
    regularised = {**change, "training": {"early_stopping": {"patience": 3}}}
    path.write_text(spec_text(regularised), encoding="utf-8")
    compiled = compile_spec(path)
    (found,) = [d for d in run(compiled.loaded, compiled.graph) if d.rule == "SPC205"]
    assert found.severity == "info" and "early stopping" in found.message


# --------------------------------------------------------------------------- example counts


def test_example_count_of_builtin_csv_and_npz(tmp_path: Path) -> None:
    iris = compile_spec_text(tmp_path, {})
    assert example_count(iris.spec, tmp_path) == 150
    csv = tmp_path / "data.csv"
    csv.write_text('a,b,label\n1,"two\nlines",0\n3,4,1\n\n5,6,0\n', encoding="utf-8")
    spec = compile_spec_text(tmp_path, EXAMPLES["SPC301"].fire).spec
    assert example_count(spec, tmp_path) == 3  # a quoted newline is one record; blank lines none
    np.savez(tmp_path / "data.npz", x=np.zeros((37, 2), np.float32), y=np.zeros(37, np.float32))
    npz_change = {
        "task": {"type": "binary", "classes": None},
        "data": {"type": "npz", "dataset": None, "path": "data.npz"},
        "model": {
            "inputs": [{"name": "x", "shape": [2]}],
            "layers": [{"type": "dense", "units": 1}],
        },
    }
    spec = compile_spec_text(tmp_path, npz_change).spec
    assert example_count(spec, tmp_path) == 37
    (tmp_path / "data.npz").write_bytes(b"not a zip")
    assert example_count(spec, tmp_path) is None


def compile_spec_text(folder: Path, change: dict):
    path = folder / "spec.yaml"
    path.write_text(spec_text(change), encoding="utf-8")
    return compile_spec(path)


# --------------------------------------------------------------------------- the command


def _invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def _write(tmp_path: Path, change: dict, name: str = "spec.yaml") -> str:
    path = tmp_path / name
    path.write_text(spec_text(change), encoding="utf-8")
    return str(path)


def test_lint_exit_codes(tmp_path: Path) -> None:
    clean = _write(tmp_path, {}, "clean.yaml")
    warned = _write(tmp_path, {"training": {"batch_size": 256}}, "warned.yaml")
    noted = _write(tmp_path, {"training": {"batch_size": 24}}, "noted.yaml")
    erred = _write(tmp_path, EXAMPLES["SPC102"].fire, "erred.yaml")
    assert _invoke("lint", clean).exit_code == 0
    assert _invoke("lint", warned).exit_code == 0
    assert _invoke("lint", "--strict", warned).exit_code == 1
    assert _invoke("lint", "--strict", noted).exit_code == 0  # notes never fail
    assert _invoke("lint", erred).exit_code == 1
    assert _invoke("lint", "--strict", "--ignore", "SPC202", warned).exit_code == 0
    invalid = tmp_path / "invalid.yaml"
    invalid.write_text("specc: 1\nname: x\n", encoding="utf-8")
    result = _invoke("lint", str(invalid), warned)
    assert result.exit_code == 2 and "missing" in result.stdout
    assert "SPC202" in result.stdout  # the valid spec is still linted


def test_lint_text_output(tmp_path: Path) -> None:
    spec = _write(tmp_path, {"training": {"batch_size": 256}})
    result = _invoke("lint", spec)
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{spec}:") and " SPC202 warning training.batch_size: " in lines[0]
    assert "(hint: " in lines[0]
    assert lines[-1] == f"{spec}: 1 warning"


def test_lint_json_output(tmp_path: Path) -> None:
    spec = _write(tmp_path, {"training": {"batch_size": 24}, "seed": None})
    invalid = tmp_path / "invalid.yaml"
    invalid.write_text("specc: 1\n", encoding="utf-8")
    result = _invoke("lint", "--format", "json", spec, str(invalid))
    assert result.exit_code == 2
    document = json.loads(result.stdout)
    first, second = document["specs"]
    assert first["valid"] and {d["rule"] for d in first["diagnostics"]} == {"SPC201", "SPC208"}
    for d in first["diagnostics"]:
        assert set(d) == {"rule", "severity", "field", "message", "hint", "file", "line", "col"}
    assert not second["valid"] and second["errors"]


def test_unknown_rule_id_is_a_usage_error(tmp_path: Path) -> None:
    result = _invoke("lint", "--ignore", "SPC999", _write(tmp_path, {}))
    assert result.exit_code == 2 and "unknown rule id SPC999" in result.output
    noted = _write(tmp_path, {"training": {"batch_size": 24}}, "noted.yaml")
    assert "SPC201" not in _invoke("lint", "--ignore", "spc201", noted).stdout


def test_empty_data_file_is_named_as_such(tmp_path: Path) -> None:
    (tmp_path / "data.csv").write_text("a,b,label\n", encoding="utf-8")
    spec = _write(tmp_path, EXAMPLES["SPC301"].fire)
    result = _invoke("lint", "--data", spec)
    assert result.exit_code == 1
    assert "SPC301 error data: the data holds no examples" in result.stdout
    assert "SPC202" not in result.stdout and "Traceback" not in result.output


def test_lint_data_flag_runs_the_data_rules(tmp_path: Path) -> None:
    spec = _write(tmp_path, {"seed": 0})  # iris, seed 0: one duplicated flower lands in test
    assert "SPC303" not in _invoke("lint", spec).stdout
    assert "SPC303" in _invoke("lint", "--data", spec).stdout


def test_data_that_cannot_load_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    example = EXAMPLES["SPC301"]
    (tmp_path / "data.csv").write_text(example.files["data.csv"], encoding="utf-8")
    spec = _write(tmp_path, example.fire)
    result = _invoke("lint", "--data", spec)
    assert result.exit_code == 1
    assert "SPC301 error data: loading the data fails" in result.stdout
    assert "Traceback" not in result.output


def test_validate_prints_lint_warnings_after_ok(tmp_path: Path) -> None:
    spec = _write(tmp_path, {"training": {"batch_size": 256}, "seed": None})
    result = _invoke("validate", spec)
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == f"{spec}: ok"
    assert "SPC202 warning" in lines[1]
    assert lines[2] == f"1 more note: specc lint {spec}"
    assert _invoke("validate", "-q", spec).stdout == ""


def test_validate_data_flag(tmp_path: Path) -> None:
    spec = _write(tmp_path, {"seed": 0, "training": {"batch_size": 24}})  # SPC201: a note
    assert "SPC303" not in _invoke("validate", spec).stdout
    with_data = _invoke("validate", "--data", spec).stdout
    assert "SPC303" in with_data and f"1 more note: specc lint --data {spec}" in with_data


@pytest.mark.parametrize("spec", SPECS, ids=[p.stem for p in SPECS])
def test_example_specs_lint_without_errors(spec: Path) -> None:
    """The shipped specs: no errors, no warnings (breast_cancer_mlp's wide first layer is a note:
    it has dropout, penalties and early stopping)."""
    compiled = compile_spec(spec)
    found = run(compiled.loaded, compiled.graph, data=True)
    assert [d for d in found if d.severity in ("error", "warning")] == []


def test_a_regularised_wide_layer_is_only_a_note(tmp_path: Path) -> None:
    wide = {
        "model": {
            "layers": [
                {"type": "dense", "units": 64, "dropout": 0.3},
                {"type": "dense", "units": 3},
            ]
        }
    }
    compiled = compile_spec_text(tmp_path, wide)
    (found,) = [d for d in run(compiled.loaded, compiled.graph) if d.rule == "SPC101"]
    assert found.severity == "info" and found.message.endswith("the spec regularises (dropout)")


def test_a_failing_rule_is_an_error_finding_not_a_crash(tmp_path: Path) -> None:
    from specc.lint.base import rule

    def broken(ctx):
        raise ZeroDivisionError("division by zero")

    rule("SPC999", "info", "a broken rule", "For this test.")(broken)
    try:
        compiled = compile_spec_text(tmp_path, {})
        (found,) = run(compiled.loaded, compiled.graph)
        assert found.rule == "SPC999" and found.severity == "error"
        assert "could not run: ZeroDivisionError: division by zero" in found.message
    finally:
        del RULES["SPC999"]


def test_an_all_missing_column_is_counted_not_warned_about(tmp_path: Path) -> None:
    import warnings

    rows = "".join(f"{i},nan,{i % 2}\n" for i in range(30))
    (tmp_path / "data.csv").write_text("a,b,label\n" + rows, encoding="utf-8")
    change = {**EXAMPLES["SPC304"].fire}
    compiled = compile_spec_text(tmp_path, change)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        found = {d.rule: d for d in run(compiled.loaded, compiled.graph, data=True)}
    assert "holds 30 NaN or inf values" in found["SPC304"].message
    assert "SPC305" not in found  # a column with no value at all is not "constant"
