"""Spec text reaches generated code only through the one escaping path: for an adversarial
corpus and for arbitrary text (hypothesis), in every field that reaches code, the generated
files parse, pass the audit, run nothing they should not, and give the text back unchanged."""

from __future__ import annotations

import ast
import csv
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from specc.codegen import generate
from specc.codegen.audit import audit_files
from specc.codegen.pyfmt import comment_text, doc_text, string_literal
from specc.pipeline import compile_spec

CORPUS = [
    'x""";__import__("os").system("touch PWNED");"""',
    "x''';__import__('os').system('touch PWNED');'''",
    "C:\\Users\\me",
    "C:\\new\\table \\N{BULLET} \\x41 \\u0041",
    "end with a backslash \\",
    'end with a quote "',
    "nul\x00byte",
    "new\nline and\r\ncarriage\rreturn",
    "unicode\u2028line\u2029separators\x85next",
    "form\x0cfeed\x0bvertical tab\x1b[31m escape",
    "{{ jinja }} {% raw %}{# comment #}{%- endraw %}",
    "{0} {x!r} %s %(name)s f'{open(0)}'",
    "# not a comment\n    import os; os.system('id')",
    "'single' \"double\" `back`",
    '"""',
    "'''",
    "\\",
    "émoji 🧪 and 中文",
]
BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
# a YAML comment ends at a line break and may not hold control characters at all
NO_BREAKS = [
    s
    for s in CORPUS
    if not any(c in BREAKS or (ord(c) < 32 and c != "\t") or 0x7F <= ord(c) < 0xA0 for c in s)
]
SAFE_NAMES = [s for s in CORPUS if "/" not in s and "\x00" not in s and s not in ("\\",)]


def _write_spec(folder: Path, spec: dict, comment: str | None = None) -> Path:
    text = yaml.safe_dump(spec, sort_keys=False, allow_unicode=False, width=10_000)
    if comment is not None:  # a trailing YAML comment on the first layer's line
        lines = text.splitlines()
        index = next(i for i, line in enumerate(lines) if "type: dense" in line)
        lines[index] += f"  # {comment}"
        text = "\n".join(lines) + "\n"
    path = folder / "spec.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _generated(path: Path) -> dict[str, str]:
    compiled = compile_spec(path)
    code = generate(compiled.loaded, compiled.graph)
    audit_files(code.files)  # parses every file, checks the allowlist
    for name, source in code.files.items():
        compile(source, name, "exec")
    return code.files


def _constants(files: dict[str, str]) -> dict[str, object]:
    """Module-level NAME = literal assignments of every generated file."""
    found = {}
    for source in files.values():
        for node in ast.parse(source).body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target = node.targets[0]
                if isinstance(target, ast.Name):
                    try:
                        found[target.id] = ast.literal_eval(node.value)
                    except ValueError:
                        continue
    return found


def _path_constants(files: dict[str, str]) -> dict[str, str]:
    """Module-level NAME = Path("...") assignments (the literal may be split over lines)."""
    found = {}
    for source in files.values():
        for node in ast.parse(source).body:
            value = node.value if isinstance(node, ast.Assign) else None
            if isinstance(value, ast.Call) and getattr(value.func, "id", None) == "Path":
                found[node.targets[0].id] = ast.literal_eval(value.args[0])
    return found


def _docstrings(files: dict[str, str]) -> str:
    return " ".join(ast.get_docstring(ast.parse(s), clean=False) or "" for s in files.values())


def _builtin_spec(description: str, class_names: list[str] | None = None) -> dict:
    task = {"type": "binary"}
    if class_names is not None:
        task["class_names"] = class_names
    return {
        "specc": 1,
        "name": "escaping",
        "description": description,
        "task": task,
        "data": {"type": "builtin", "dataset": "sklearn:breast_cancer"},
        "model": {
            "inputs": [{"name": "features", "shape": [30]}],
            "layers": [{"type": "dense", "units": 4}, {"type": "dense", "units": 1}],
        },
        "training": {"epochs": 1},
    }


def _squash(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("text", CORPUS)
def test_description_and_class_names(tmp_path, text):
    spec = _builtin_spec(text, [text, text + " (other)"])
    files = _generated(_write_spec(tmp_path, spec))
    docs = _squash(_docstrings(files))
    assert _squash(text) in docs  # the docstring reads back as the text, whitespace folded
    assert _squash(f"{text} vs {text} (other)") in docs
    assert not (tmp_path / "PWNED").exists()


@pytest.mark.parametrize("text", NO_BREAKS)
def test_trailing_yaml_comment(tmp_path, text):
    files = _generated(_write_spec(tmp_path, _builtin_spec("ok"), comment=text))
    assert any(comment_text(text).strip() in source for source in files.values())


@pytest.mark.parametrize("text", SAFE_NAMES)
def test_csv_columns_file_name_and_class_names(tmp_path, text):
    name = f"data {text[:40]}.csv"
    with open(tmp_path / name, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow([f"{text} a", f"{text} b", text])
        for i in range(40):
            writer.writerow([i, i * 2, ["yes", "no"][i % 2]])
    header = ["".join(c for c in f"{text} a").strip(), f"{text} b".strip(), text.strip()]
    if len(set(header)) < 3 or not all(header):
        pytest.skip("the header's cells collapse once stripped")
    spec = {
        "specc": 1,
        "name": "escaping",
        "description": text,
        "task": {"type": "multiclass", "classes": 2, "class_names": ["yes", text or "x"]},
        "data": {"type": "csv", "path": name, "target": header[2]},
        "model": {
            "inputs": [{"name": "features", "shape": [2]}],
            "layers": [{"type": "dense", "units": 4}, {"type": "dense", "units": 2}],
        },
        "training": {"epochs": 1},
    }
    files = _generated(_write_spec(tmp_path, spec))
    constants = _constants(files)
    assert constants["FEATURE_COLUMNS"] == header[:2]
    assert constants["TARGET_COLUMNS"] == [header[2]]
    assert constants["CLASS_NAMES"] == ["yes", text or "x"]
    assert _path_constants(files)["CSV_PATH"] == str((tmp_path / name).resolve())


@pytest.mark.parametrize("text", SAFE_NAMES)
def test_npz_key_source_and_file_name(tmp_path, text):
    name = f"arrays {text[:40]}.npz"
    target = f"{text} y"
    arrays = {text: np.zeros((4, 3), np.float32), target: np.zeros(4, np.float32)}
    np.savez(tmp_path / name, **arrays)  # validate reads the archive: the arrays must exist
    spec = {
        "specc": 1,
        "name": "escaping",
        "task": {"type": "regression"},
        "data": {"type": "npz", "path": name, "target": target},
        "model": {
            "inputs": [{"name": "signal", "shape": [3], "source": text}],
            "layers": [{"type": "dense", "units": 1}],
        },
        "training": {"epochs": 1},
    }
    files = _generated(_write_spec(tmp_path, spec))
    constants = _constants(files)
    assert constants["TARGET_ARRAY"] == target
    assert constants["INPUT_ARRAYS"] == {"signal": text}
    assert _path_constants(files)["NPZ_PATH"] == str((tmp_path / name).resolve())


@pytest.mark.parametrize("text", SAFE_NAMES)
def test_given_test_archive_and_array_names(tmp_path, text):
    """The test archive's path and the derived test array names reach the code as literals."""
    name = f"test {text[:40]}.npz"
    arrays = {text: np.zeros((4, 3), np.float32), "y": np.zeros(4, np.float32)}
    spec = {
        "specc": 1,
        "name": "escaping",
        "task": {"type": "regression"},
        "data": {"type": "npz", "path": "train.npz", "test": {}},
        "model": {
            "inputs": [{"name": "signal", "shape": [3], "source": text}],
            "layers": [{"type": "dense", "units": 1}],
        },
        "training": {"epochs": 1},
    }
    np.savez(
        tmp_path / "train.npz", **arrays, **{f"{text}_test": arrays[text], "y_test": arrays["y"]}
    )
    files = _generated(_write_spec(tmp_path, spec))
    assert _constants(files)["TEST_INPUT_ARRAYS"] == {"signal": f"{text}_test"}
    spec["data"] = {"type": "npz", "path": "train.npz", "test": {"path": name}}
    np.savez(tmp_path / name, **arrays)
    files = _generated(_write_spec(tmp_path, spec))
    assert _path_constants(files)["TEST_NPZ_PATH"] == str((tmp_path / name).resolve())


TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=60)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(description=TEXT, first=TEXT, second=TEXT)
def test_any_text_round_trips(tmp_path, description, first, second):
    if first == second:
        second = first + "!"
    folder = tmp_path / "h"
    folder.mkdir(exist_ok=True)
    files = _generated(_write_spec(folder, _builtin_spec(description, [first, second])))
    docs = _squash(_docstrings(files))
    assert _squash(description) in docs
    assert _squash(f"{first} vs {second}") in docs


@given(st.text(max_size=200))
def test_string_literal_and_doc_text_read_back(text):
    assert ast.literal_eval(string_literal(text)) == text
    assert ast.literal_eval('"""' + doc_text(text) + '"""') == text
    assert "\n" not in comment_text(text) and "\r" not in comment_text(text)
    ast.parse("# " + comment_text(text) + "\nx = 1\n")
