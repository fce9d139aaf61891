"""`-o` of `build`, `codegen` and `schema`: an existing file, a path under a file, an unwritable
place, and spec file names that would escape the output folder are clean errors (exit 2,
`error: ...`), and nothing is written. These checks run before any training (no TensorFlow)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from specc.cli import cli

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "specs" / "breast_cancer_mlp.yaml"
UNWRITABLE = Path("/proc/specc-no-such-place/out")  # not creatable, even by root


def _run(*args: object):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def _assert_clean_error(r, *needles: str) -> None:
    assert r.exit_code == 2, r.output
    # `build` may print its progress lines first; the error is the last line
    assert r.stderr.strip().splitlines()[-1].startswith("error: "), r.stderr
    assert "Traceback" not in r.output
    for needle in needles:
        assert needle in r.stderr, r.stderr


def _tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.fixture
def place(tmp_path: Path) -> Path:
    (tmp_path / "a_file").write_text("keep me\n")
    (tmp_path / "a_folder").mkdir()
    return tmp_path


def test_codegen_output_errors(place: Path) -> None:
    before = _tree(place)
    _assert_clean_error(_run("codegen", SPEC, "-o", place / "a_file"), "is not a folder")
    _assert_clean_error(
        _run("codegen", SPEC, "-o", place / "a_file" / "code"), "a_file is a file, not a folder"
    )
    _assert_clean_error(_run("codegen", SPEC, "-o", UNWRITABLE), "cannot ")
    assert _tree(place) == before and (place / "a_file").read_text() == "keep me\n"
    r = _run("codegen", SPEC, "-o", place / "a_folder" / "code")
    assert r.exit_code == 0, r.output
    assert (place / "a_folder" / "code" / "spec_model.py").is_file()


def test_schema_output_errors(place: Path) -> None:
    before = _tree(place)
    _assert_clean_error(_run("schema", "-o", place / "a_folder"), "is a folder")
    _assert_clean_error(
        _run("schema", "-o", place / "a_file" / "s.json"), "a_file is a file, not a folder"
    )
    _assert_clean_error(_run("schema", "-o", UNWRITABLE / "s.json"), "cannot ")
    assert _tree(place) == before
    r = _run("schema", "-o", place / "a_file")  # an existing file is replaced
    assert r.exit_code == 0, r.output
    assert (place / "a_file").read_text().startswith("{")


def test_build_output_errors(place: Path) -> None:
    before = _tree(place)
    _assert_clean_error(_run("build", SPEC, "-o", place / "a_file"), "is not a folder")
    _assert_clean_error(
        _run("build", SPEC, "-o", place / "a_file" / "out"), "a_file is a file, not a folder"
    )
    _assert_clean_error(_run("build", SPEC, "-o", UNWRITABLE), "cannot ")
    assert _tree(place) == before


def test_build_several_specs_stay_inside_the_output_folder(place: Path) -> None:
    specs = place / "specs"
    specs.mkdir()
    dots = specs / "...yaml"  # stem `..`: out/sub/.. would be out itself
    shutil.copy(SPEC, dots)
    shutil.copy(SPEC, specs / "mlp.yaml")
    before = _tree(place)
    r = _run("build", specs / "mlp.yaml", dots, "-o", place / "out" / "sub")
    _assert_clean_error(r, "...yaml", "is not a folder name")
    assert _tree(place) == before

    other = place / "other"
    other.mkdir()
    shutil.copy(SPEC, other / "mlp.yaml")
    before = _tree(place)
    r = _run("build", specs / "mlp.yaml", other / "mlp.yaml", "-o", place / "out")
    _assert_clean_error(r, "would both build into")
    (place / "out").mkdir()
    (place / "out" / "mlp").write_text("a file where the build folder would go\n")
    r = _run("build", specs / "mlp.yaml", place / "a_folder", "-o", place / "out")
    _assert_clean_error(r, "build folder", "is not a folder")
    assert _tree(place) == sorted([*before, "out", "out/mlp"])
