"""The spec language on the bundled specs and its building blocks: positions, ordering, hints."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from specc.cli import cli
from specc.spec import (
    Location,
    SpecError,
    SpecErrors,
    load_spec,
    lock_data,
    lock_text,
    parse_spec,
)
from specc.spec.errors import describe, did_you_mean, dotted
from specc.spec.layers import LAYER_TYPES
from specc.spec.source import load_yaml

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "specs").glob("*.yaml"))
IDS = [p.stem for p in SPECS]


def test_there_are_example_specs() -> None:
    assert len(SPECS) >= 5


# --------------------------------------------------------------------------- bundled specs


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_bundled_spec_validates(spec: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    relative = spec.relative_to(ROOT).as_posix()
    result = CliRunner().invoke(cli, ["validate", relative])
    assert result.exit_code == 0, result.output
    first, *lint = result.stdout.splitlines()
    assert first == f"{relative}: ok"
    # then the lint's warnings, and how many notes `specc lint` adds
    notes = re.compile(rf"\d+ more notes?: specc lint {re.escape(relative)}")
    assert all(" SPC" in line or notes.fullmatch(line) for line in lint), lint


def test_validate_quiet_prints_nothing_for_valid_specs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    args = ["validate", "--quiet", *(p.relative_to(ROOT).as_posix() for p in SPECS)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_bundled_spec_shows(spec: Path) -> None:
    loaded = load_spec(spec)
    result = CliRunner().invoke(cli, ["show", str(spec)])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.startswith(f"Model `{loaded.spec.name}`")
    for inp in loaded.spec.model.inputs:
        assert inp.name in out
    for layer in loaded.spec.model.layers:
        if layer.name:
            assert layer.name in out
    assert "Total params:" in out


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_bundled_spec_points_at_the_schema(spec: Path) -> None:
    first = spec.read_text(encoding="utf-8").splitlines()[0]
    assert first == "# yaml-language-server: $schema=../docs/specc.schema.json"
    assert (spec.parent / "../docs/specc.schema.json").resolve().is_file()


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_lock_text_round_trips(spec: Path) -> None:
    loaded = load_spec(spec)
    text = lock_text(loaded.spec)
    again = parse_spec(text, spec)  # same path: relative references resolve alike
    assert again.spec == loaded.spec
    assert lock_text(again.spec) == text
    assert again.spec_hash == loaded.spec_hash


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_lock_text_is_complete_and_stable(spec: Path) -> None:
    loaded = load_spec(spec)
    text = lock_text(loaded.spec)
    assert text == lock_text(load_spec(spec).spec)
    assert text.startswith("# Resolved spec")
    data = yaml.safe_load(text)
    # every default is written out: each top-level field and each training field is present
    assert list(data) == list(type(loaded.spec).model_fields)
    assert set(data["training"]) == set(type(loaded.spec.training).model_fields)
    for layer in data["model"]["layers"]:
        assert layer["type"] in LAYER_TYPES
    assert lock_data(loaded.spec) == data


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_resolved_lock_writes_what_was_chosen(spec: Path) -> None:
    """With the graph, the lock names every `auto` choice, validates, and lowers to the same
    network; `data` fields that do not apply to the dataset are left out."""
    from specc.pipeline import compile_spec

    compiled = compile_spec(spec)
    text = lock_text(compiled.spec, compiled.graph)
    body = text.split("\n", 2)[2]  # after the two header lines
    assert "auto" not in body
    again = parse_spec(text, spec)
    from specc.ir.lower import lower

    graph = lower(again.spec)
    assert [(n.name, n.op, n.attrs, n.params) for n in graph.nodes] == [
        (n.name, n.op, n.attrs, n.params) for n in compiled.graph.nodes
    ]
    data = yaml.safe_load(text)["data"]
    applies = {
        "sklearn": set(),
        "synthetic:addition": {"samples", "digits"},
        "synthetic:reverse": {"samples", "length"},
    }
    if data.get("type") == "builtin":
        kind = data["dataset"] if data["dataset"].startswith("synthetic") else "sklearn"
        assert {"samples", "digits", "length"} & set(data) == applies[kind]


def test_spec_hash_ignores_formatting_and_defaults() -> None:
    spec = ROOT / "specs" / "diabetes_regression.yaml"
    loaded = load_spec(spec)
    # no comments, flow style, and one default written out explicitly
    data = yaml.safe_load(spec.read_text(encoding="utf-8"))
    data["training"]["shuffle"] = True
    reformatted = parse_spec(yaml.safe_dump(data, default_flow_style=True), spec)
    assert reformatted.spec_hash == loaded.spec_hash
    data["seed"] = data["seed"] + 1
    changed = parse_spec(yaml.safe_dump(data), spec)
    assert changed.spec_hash != loaded.spec_hash


def test_spec_is_frozen() -> None:
    loaded = load_spec(ROOT / "specs" / "digits_cnn.yaml")
    with pytest.raises(Exception, match="frozen"):
        loaded.spec.seed = 3  # type: ignore[misc]


# --------------------------------------------------------------------------- source positions

DOC = """\
specc: 1
name: demo
model:
  inputs:
    - {name: x, shape: [4]}
  layers:
    - type: dense
      units: 8
    - {type: dense, units: 3}
"""


def test_source_map_positions_of_values_and_keys() -> None:
    data, source = load_yaml("demo.yaml", DOC)
    assert data["model"]["layers"][0]["units"] == 8
    assert source.location(("name",)) == Location("demo.yaml", 2, 7)
    assert source.location(("model", "layers", 0)) == Location("demo.yaml", 7, 7)
    assert source.location(("model", "layers", 0, "units")) == Location("demo.yaml", 8, 14)
    assert source.key_position(("model", "layers", 0, "units")) == (8, 7)
    # flow style: the value of `units` in `{type: dense, units: 3}`
    assert source.location(("model", "layers", 1, "units")) == Location("demo.yaml", 9, 28)
    assert source.location(("model", "inputs", 0, "shape", 0)) == Location("demo.yaml", 5, 25)


def test_source_map_stops_at_the_deepest_existing_node() -> None:
    _, source = load_yaml("demo.yaml", DOC)
    matched, line, col, full = source.resolve(("model", "layers", 1, "dense", "activation"))
    assert matched == ("model", "layers", 1)
    assert (line, col) == (9, 7)
    assert full is False
    assert source.key_position(("model", "nothing")) is None


def test_duplicate_keys_are_errors_with_both_lines() -> None:
    text = "specc: 1\nname: a\nname: b\n"
    with pytest.raises(SpecErrors) as info:
        load_yaml("d.yaml", text)
    (error,) = info.value.errors
    assert error.location == Location("d.yaml", 3, 1)
    assert "first given at line 2" in error.message


def test_yaml_syntax_error_is_located() -> None:
    with pytest.raises(SpecErrors) as info:
        parse_spec("specc: 1\nname: [a, b\n", "s.yaml")
    (error,) = info.value.errors
    assert error.message.startswith("invalid YAML")
    assert error.location is not None and error.location.line >= 2


def test_parse_errors_use_the_given_path() -> None:
    with pytest.raises(SpecErrors) as info:
        parse_spec("specc: 1\nname: 3\n", "some/dir/x.yaml")
    assert {e.location.file for e in info.value.errors} == {"some/dir/x.yaml"}


def test_missing_file() -> None:
    with pytest.raises(SpecErrors) as info:
        load_spec(ROOT / "nowhere.yaml")
    assert info.value.errors[0].message == "file not found"


# --------------------------------------------------------------------------- errors


def test_errors_are_sorted_by_position_and_deduplicated() -> None:
    a = SpecError(("b",), "second", None, Location("f.yaml", 3, 1))
    b = SpecError(("a",), "first", None, Location("f.yaml", 1, 5))
    c = SpecError(("c",), "third", None, Location("f.yaml", 3, 9))
    no_location = SpecError(("z",), "unplaced")
    errors = SpecErrors([a, c, b, a, no_location])
    assert errors.errors == [no_location, b, a, c]
    assert str(errors).splitlines() == [e.format() for e in errors.errors]


def test_errors_on_one_position_are_ordered_by_path_then_message() -> None:
    here = Location("f.yaml", 2, 2)
    errors = SpecErrors(
        [SpecError(("x", "b"), "m", None, here), SpecError(("x", "a"), "z", None, here)]
    )
    assert [dotted(e.path) for e in errors.errors] == ["x.a", "x.b"]


def test_spec_errors_from_a_real_spec_are_in_file_order() -> None:
    text = (ROOT / "tests" / "invalid" / "many_errors.yaml").read_text(encoding="utf-8")
    with pytest.raises(SpecErrors) as info:
        parse_spec(text, "m.yaml")
    positions = [(e.location.line, e.location.col) for e in info.value.errors]
    assert positions == sorted(positions)
    assert len(positions) == 6


def test_format() -> None:
    here = Location("s.yaml", 4, 2)
    assert str(here) == "s.yaml:4:2"
    full = SpecError(("model", "layers", 2, "units"), "too small", "make it bigger", here)
    assert full.format() == "s.yaml:4:2: model.layers[2].units: too small (make it bigger)"
    assert SpecError((), "empty").format() == "empty"
    moved = SpecError(("a",), "m").with_location(here)
    assert moved.format() == "s.yaml:4:2: a: m"


def test_dotted() -> None:
    assert dotted(("model", "layers", 2, "units")) == "model.layers[2].units"
    assert dotted(("passes", 0)) == "passes[0]"
    assert dotted(()) == ""


def test_did_you_mean() -> None:
    assert did_you_mean("unit", ["units", "name"]) == "did you mean `units`?"
    assert did_you_mean("Relu", ["relu", "tanh"]) == "did you mean `relu`?"
    assert did_you_mean("RELU6", ["relu", "relu6"]) == "did you mean `relu6`?"
    assert did_you_mean("iris", ["sklearn:iris", "sklearn:wine"]) == "did you mean `sklearn:iris`?"
    assert did_you_mean("xyzzy", ["units", "name"]) is None
    assert did_you_mean(3, ["units"]) is None
    assert did_you_mean("units", []) is None


def test_describe() -> None:
    assert describe(None) == "null"
    assert describe(True) == "true (a boolean)"
    assert describe(3) == "3 (an integer)"
    assert describe(1.5) == "1.5 (a number)"
    assert describe("16") == "'16' (a string)"
    assert describe([1, 2]) == "a list of 2 items"
    assert describe([1]) == "a list of 1 item"
    assert describe({"a": 1, "b": 2}) == "a mapping ({a, b})"
    assert describe({str(i): i for i in range(6)}) == "a mapping ({0, 1, 2, 3, ...})"
    long = describe("x" * 100)
    assert long.endswith("...' (a string)") or long.endswith("... (a string)")
    assert len(long) < 60


# --------------------------------------------------------------------------- translation


def _errors(text: str) -> list[SpecError]:
    with pytest.raises(SpecErrors) as info:
        parse_spec(text, "t.yaml")
    return info.value.errors


BASE = """\
specc: 1
name: t
task: {type: multiclass, classes: 3}
data: {type: builtin, dataset: "sklearn:iris"}
model:
  inputs: [{name: x, shape: [4]}]
  layers:
    - {type: dense, units: 3}
"""


def test_base_document_is_valid() -> None:
    assert parse_spec(BASE, "t.yaml").spec.name == "t"


def test_union_members_are_merged_into_one_message() -> None:
    (error,) = _errors(BASE + "training: {batch_size: '64'}\n")
    assert error.path == ("training", "batch_size")
    assert error.message == "expected an integer or `full`, got '64' (a string)"


def test_union_tag_path_is_not_shown() -> None:
    # pydantic reports ('model', 'layers', 0, 'dense', 'units'); the tag is not in the file
    (error,) = _errors(BASE.replace("units: 3", "units: 0"))
    assert error.path == ("model", "layers", 0, "units")
    assert error.location == Location("t.yaml", 8, 28)


def test_misspelt_required_field_is_reported_once() -> None:
    (error,) = _errors(BASE.replace("units: 3", "unit: 3"))
    assert error.path == ("model", "layers", 0, "unit")
    assert error.hint == "did you mean `units`?"


def test_unknown_field_without_a_close_match_lists_the_fields() -> None:
    (error,) = _errors(BASE + "export: {zzz: 1}\n")
    assert error.message == "unknown field `zzz`"
    assert error.hint.startswith("allowed fields: opset, parity, keep")


def test_bounds_show_the_whole_range() -> None:
    (error,) = _errors(BASE + "seed: -1\n")
    assert error.message == "expected a value >= 0 and < 2147483648, got -1 (an integer)"


def test_missing_field_says_what_is_expected() -> None:
    (error,) = _errors(
        BASE.replace("task: {type: multiclass, classes: 3}", "task: {type: multiclass}")
    )
    assert error.path == ("task", "classes")
    assert error.message == "required field is missing: expected an integer >= 2"
