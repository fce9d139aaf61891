"""Property tests: whatever is done to a valid spec, the front end answers with located
`SpecErrors` (or accepts it), never with another exception; and a spec it accepts generates
code without any error (every spec error is found by validation).

Besides the example specs, two specs read data files (a CSV file and an npz archive from
tests/data), so that mutations reach the checks of those sources too."""

from __future__ import annotations

import copy
import shutil
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from specc.codegen import generate
from specc.pipeline import compile_spec
from specc.spec import SpecErrors, parse_spec
from specc.spec.layers import LAYER_TYPES

ROOT = Path(__file__).resolve().parent.parent
SPEC_FILES = sorted((ROOT / "specs").glob("*.yaml"))
DATA_DIR = ROOT / "tests" / "data"
DATA_FILES = sorted(DATA_DIR.glob("*.csv")) + sorted(DATA_DIR.glob("*.npz"))
FILE_SPECS = {
    "flowers_csv.yaml": """\
specc: 1
name: flowers
task: {type: multiclass, classes: 3, class_names: [setosa, versicolor, virginica]}
data: {type: csv, path: flowers.csv, target: species, split: {validation: 0.2, test: 0.2}}
model:
  inputs: [{name: flower, shape: [4]}]
  layers: [{type: dense, units: 8}, {type: dense, units: 3}]
""",
    "shapes_npz.yaml": """\
specc: 1
name: shapes
task: {type: multiclass, classes: 3}
data: {type: npz, path: shapes.npz, target: label, preprocessing: minmax}
model:
  inputs:
    - {name: image, shape: [4, 4, 1], source: pixels}
    - {name: meta, shape: [3]}
  layers:
    - {name: flat, type: flatten, inputs: [image]}
    - {type: concatenate, inputs: [flat, meta]}
    - {type: dense, units: 3}
""",
}
TEXTS = {p.name: p.read_text(encoding="utf-8") for p in SPEC_FILES} | FILE_SPECS
DATA = {name: yaml.safe_load(text) for name, text in TEXTS.items()}

SETTINGS = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["relu", "dense", "auto", "full", "sklearn:iris", "-1", "1e3", ""]),
)
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=6,
)
keys = st.one_of(
    st.text(min_size=1, max_size=12),
    st.sampled_from(["type", "units", "unit", "inputs", "name", "layers", "specc", "epochs"]),
)


def _paths(node: Any, path: tuple = ()) -> list[tuple]:
    """Every path in the document, the root included."""
    out = [path]
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out += _paths(value, (*path, index))
    return out


def _get(node: Any, path: tuple) -> Any:
    for part in path:
        node = node[part]
    return node


def _check(text: str, name: str) -> None:
    """The property: acceptance, or SpecErrors whose every error is located and worded."""
    path = f"specs/{name}"
    try:
        parse_spec(text, ROOT / path)
    except SpecErrors as errors:
        _assert_located(errors, str(ROOT / path))
    with tempfile.TemporaryDirectory() as tmp:
        for data_file in DATA_FILES:
            shutil.copy(data_file, tmp)
        target = Path(tmp) / name
        target.write_text(text, encoding="utf-8")
        try:
            compiled = compile_spec(target)
        except SpecErrors as errors:
            _assert_located(errors, str(target))
            return
        generate(compiled.loaded, compiled.graph)  # an accepted spec generates code, no error


def _assert_located(errors: SpecErrors, file: str) -> None:
    assert errors.errors
    for error in errors.errors:
        assert error.location is not None, error
        assert error.location.file == file
        assert error.location.line >= 1 and error.location.col >= 1, error
        assert error.message.strip(), error
        assert error.format()


def _dump(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


specs = st.sampled_from(sorted(DATA))


@SETTINGS
@given(name=specs, data=st.data())
def test_delete_a_key(name: str, data: st.DataObject) -> None:
    doc = copy.deepcopy(DATA[name])
    mappings = [p for p in _paths(doc) if isinstance(_get(doc, p), dict) and _get(doc, p)]
    where = data.draw(st.sampled_from(mappings))
    mapping = _get(doc, where)
    del mapping[data.draw(st.sampled_from(sorted(mapping, key=str)))]
    _check(_dump(doc), name)


@SETTINGS
@given(name=specs, data=st.data())
def test_rename_a_key(name: str, data: st.DataObject) -> None:
    doc = copy.deepcopy(DATA[name])
    mappings = [p for p in _paths(doc) if isinstance(_get(doc, p), dict) and _get(doc, p)]
    mapping = _get(doc, data.draw(st.sampled_from(mappings)))
    old = data.draw(st.sampled_from(sorted(mapping, key=str)))
    new = data.draw(st.one_of(keys, st.just(str(old)[:-1] or "x"), st.just(str(old) + "s")))
    mapping[new] = mapping.pop(old)
    _check(_dump(doc), name)


@SETTINGS
@given(name=specs, data=st.data(), value=values)
def test_replace_a_value(name: str, data: st.DataObject, value: Any) -> None:
    doc = copy.deepcopy(DATA[name])
    where = data.draw(st.sampled_from(_paths(doc)))
    if not where:
        doc = value
    else:
        _get(doc, where[:-1])[where[-1]] = value
    _check(_dump(doc), name)


@SETTINGS
@given(name=specs, data=st.data(), key=keys, value=values)
def test_insert_an_unknown_key(name: str, data: st.DataObject, key: str, value: Any) -> None:
    doc = copy.deepcopy(DATA[name])
    mappings = [p for p in _paths(doc) if isinstance(_get(doc, p), dict)]
    _get(doc, data.draw(st.sampled_from(mappings)))[key] = value
    _check(_dump(doc), name)


@SETTINGS
@given(name=specs, data=st.data(), new_type=st.sampled_from(LAYER_TYPES))
def test_swap_layer_types(name: str, data: st.DataObject, new_type: str) -> None:
    doc = copy.deepcopy(DATA[name])
    layers = doc["model"]["layers"]
    index = data.draw(st.integers(0, len(layers) - 1))
    if data.draw(st.booleans()):
        layers[index]["type"] = new_type
    else:  # exchange two layers' types, keeping their fields
        other = data.draw(st.integers(0, len(layers) - 1))
        layers[index]["type"], layers[other]["type"] = layers[other]["type"], layers[index]["type"]
    _check(_dump(doc), name)


@SETTINGS
@given(name=specs, data=st.data())
def test_truncate_the_text(name: str, data: st.DataObject) -> None:
    text = TEXTS[name]
    cut = data.draw(st.integers(0, len(text)))
    _check(text[:cut], name)


@SETTINGS
@given(name=specs, data=st.data())
def test_shuffle_list_items(name: str, data: st.DataObject) -> None:
    doc = copy.deepcopy(DATA[name])
    lists = [p for p in _paths(doc) if isinstance(_get(doc, p), list) and len(_get(doc, p)) > 1]
    where = data.draw(st.sampled_from(lists))
    items = _get(doc, where)
    items[:] = data.draw(st.permutations(items))
    _check(_dump(doc), name)


def test_unmodified_specs_are_accepted() -> None:
    for name, text in TEXTS.items():
        folder = DATA_DIR if name in FILE_SPECS else ROOT / "specs"
        assert parse_spec(text, folder / name).spec.name == DATA[name]["name"]
        if name not in FILE_SPECS:
            assert compile_spec(ROOT / "specs" / name).graph is not None
        _check(text, name)  # compiles and generates code in a folder with the data files
