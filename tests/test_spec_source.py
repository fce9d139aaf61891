"""The fast YAML path (libyaml) gives exactly what the pure-Python loader gives: the same data,
the same positions for every node and key, and the pure-Python wording of syntax errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from specc.spec import SpecErrors
from specc.spec import source as source_module
from specc.spec.source import SourceMap, load_yaml

ROOT = Path(__file__).resolve().parent.parent
FILES = sorted([*(ROOT / "specs").glob("*.yaml"), *(ROOT / "tests" / "invalid").glob("*.yaml")])
IDS = [f"{p.parent.name}/{p.stem}" for p in FILES]

TRICKY = [
    "a: 1\n---\nb: 2\n",  # two documents
    "a: [1, 2\n",  # unclosed flow sequence
    "a: 'open\n",  # unclosed quote
    "a:\n\t- 1\n",  # a tab in the indentation
    "name: caf\u00e9\nunits: \u00e9\u00e9: 3\n",  # non-ASCII before the error column
    "a: &x {b: 1}\nc: *x\nd: *nope\n",  # an undefined alias
    "\ufeffspecc: 1\r\nname: crlf\r\n",  # byte-order mark, CRLF line ends
    "name: 'caf\u00e9'\nl: [\u00e9\u00e9, \U0001f600, {a: 1}, x]\n",  # columns after non-ASCII
    "a: !!python/object:os.system x\n",  # a tag the safe loader refuses
]


def _outcome(path: str, text: str) -> tuple:
    """What `load_yaml` makes of `text`: the data and every node's positions, or the errors."""
    try:
        data, source = load_yaml(path, text)
    except SpecErrors as errors:
        return ("errors", [e.format() for e in errors.errors])
    return ("ok", data, _positions(source))


def _positions(source: SourceMap) -> list[tuple]:
    out = []
    stack = [((), source.root)]
    while stack:
        path, node = stack.pop()
        out.append((path, node.line, node.col, node.key_line, node.key_col))
        stack.extend((path + (part,), child) for part, child in node.children.items())
    return sorted(out, key=repr)


def _pure_python(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(source_module, "_FAST_LOADER", yaml.SafeLoader)


def test_libyaml_is_used_where_pyyaml_has_it() -> None:
    """The fast path is libyaml's parser; a PyYAML built without it uses the pure-Python one."""
    expected = yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader
    assert source_module._FAST_LOADER is expected


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_fast_loader_matches_pure_python_on_every_spec(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = path.read_text(encoding="utf-8")
    fast = _outcome(path.name, text)
    _pure_python(monkeypatch)
    assert fast == _outcome(path.name, text)


@pytest.mark.parametrize("text", TRICKY, ids=range(len(TRICKY)))
def test_fast_loader_matches_pure_python_on_tricky_text(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast = _outcome("t.yaml", text)
    _pure_python(monkeypatch)
    assert fast == _outcome("t.yaml", text)


def test_syntax_errors_keep_the_pure_python_wording() -> None:
    """libyaml says "did not find expected key"; the reported message is PyYAML's."""
    with pytest.raises(SpecErrors) as info:
        load_yaml("s.yaml", "a:\n  b: 1\n c: 2\n")
    (error,) = info.value.errors
    assert error.format() == (
        "s.yaml:3:2: invalid YAML: expected the end of a block, but found "
        "a mapping indented differently (while parsing a block mapping at line 1, column 1)"
    )
