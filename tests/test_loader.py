"""`specc.codegen.loader`: generated code is imported under its own names, never a user's.

A user's packages named `data` and `model` (importable and already imported) must neither be
taken for the generated modules nor be disturbed by a build; two builds' code loaded in one
process must not share modules; everything the loader imports is gone from `sys.modules` after.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from specc.codegen import FILES, MODULES
from specc.codegen.loader import generated_modules
from tools.golden import example_specs, golden_code

SPECS = {p.stem: p for p in example_specs()}


def _write_code(spec: str, folder: Path) -> Path:
    _, code = golden_code(SPECS[spec])
    code.write(folder)
    return folder


@pytest.fixture
def user_packages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Packages `data` and `model` on sys.path, imported, as a user's project might have them."""
    root = tmp_path / "user"
    for name in ("data", "model", "spec_data"):
        (root / name).mkdir(parents=True)
        (root / name / "__init__.py").write_text(f"WHO = 'user {name}'\n")
    monkeypatch.syspath_prepend(str(root))
    for name in ("data", "model", "spec_data"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    import data  # noqa: F401  (the user's package, imported before the build)
    import model  # noqa: F401

    yield {name: sys.modules[name] for name in ("data", "model")}
    for name in ("data", "model", "spec_data"):
        sys.modules.pop(name, None)


def test_module_names_cannot_be_a_users_data_or_model() -> None:
    assert set(MODULES) == {"model", "data", "train"}
    assert not {"data", "model"} & set(MODULES.values())
    assert FILES == tuple(f"{stem}.py" for stem in MODULES.values())


def test_user_packages_named_data_and_model_do_not_break_the_import(
    tmp_path: Path, user_packages
) -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    code = _write_code("breast_cancer_mlp", tmp_path / "code")
    before = set(sys.modules)
    path_before = list(sys.path)
    with generated_modules(code) as modules:
        train = modules["train"]
        assert train.load_data is modules["data"].load_data
        assert train.build_model is modules["model"].build_model
        assert Path(modules["model"].__file__) == code / f"{MODULES['model']}.py"
        # the user's packages are untouched while the build runs
        assert sys.modules["data"] is user_packages["data"]
        assert sys.modules["model"] is user_packages["model"]
    import data
    import model

    assert data.WHO == "user data" and model.WHO == "user model"
    assert sys.path == path_before
    assert "spec_data" not in sys.modules  # the alias train.py imported through is gone
    generated = [m for m in set(sys.modules) - before if m.startswith("_generated_")]
    assert not generated, generated


def test_two_builds_in_one_process_do_not_mix(tmp_path: Path) -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    cancer = _write_code("breast_cancer_mlp", tmp_path / "a" / "code")
    diabetes = _write_code("diabetes_regression", tmp_path / "b" / "code")
    with generated_modules(cancer) as a, generated_modules(diabetes) as b:
        for role in MODULES:
            assert a[role] is not b[role]
            assert a[role].__name__ != b[role].__name__
        assert a["train"].build_model is a["model"].build_model
        assert b["train"].build_model is b["model"].build_model
        assert a["train"].load_data is not b["train"].load_data
        assert a["train"].SEED != b["train"].SEED or a["train"].EPOCHS != b["train"].EPOCHS
    # the same folder twice gets fresh modules: a rebuild never sees the previous import
    with generated_modules(cancer, ("model",)) as first, generated_modules(cancer) as again:
        assert first["model"] is not again["model"]
        assert set(first) == {"model"}


def test_a_missing_file_is_an_import_error(tmp_path: Path) -> None:
    with pytest.raises(ImportError, match="spec_model.py"), generated_modules(tmp_path):
        pass


# --------------------------------------------------------------------------- code hashes


def test_loader_refuses_code_with_another_hash(tmp_path):
    from specc.codegen.loader import CodeMismatchError, code_hash, generated_modules

    code = tmp_path / "code"
    code.mkdir()
    (code / "spec_model.py").write_text("VALUE = 1\n")
    expected = code_hash(code)
    with generated_modules(code, ("model",), expect_hash=expected) as modules:
        assert modules["model"].VALUE == 1
    (code / "spec_model.py").write_text("import os\nVALUE = os.getpid()\n")
    with pytest.raises(CodeMismatchError, match="not the code specc generated"):
        with generated_modules(code, ("model",), expect_hash=expected):
            pass


def _cnn_copy(tmp_path_factory, tmp_path):
    from runtime_fixtures import copy_build, get_build

    return copy_build(get_build("digits_cnn", tmp_path_factory), tmp_path / "b")


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_bench_refuses_edited_build_code_unless_trusted(tmp_path_factory, tmp_path):
    from click.testing import CliRunner

    from specc.cli import cli
    from specc.runtime import UntrustedCodeError
    from specc.runtime.keras_side import load_keras_model

    build = _cnn_copy(tmp_path_factory, tmp_path)
    model_py = build / "code" / "spec_model.py"
    marker = tmp_path / "RAN"
    model_py.write_text(
        model_py.read_text() + f"\nopen({str(marker)!r}, 'w').write('x')  # planted\n"
    )
    with pytest.raises(UntrustedCodeError, match="not the code specc generated"):
        load_keras_model(build)
    assert not marker.exists()  # refused before anything ran
    result = CliRunner().invoke(cli, ["bench", str(build), "--batch", "1", "--repeat", "2"])
    assert result.exit_code == 2, result.output
    assert "--trust" in result.stderr and not marker.exists()
    result = CliRunner().invoke(
        cli, ["bench", str(build), "--batch", "1", "--repeat", "2", "--trust", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert marker.exists()  # with --trust the user vouched for the code, and it ran


def test_bench_refuses_code_without_a_recorded_hash(tmp_path_factory, tmp_path):
    import json

    from specc.runtime import UntrustedCodeError
    from specc.runtime.keras_side import load_keras_model

    build = _cnn_copy(tmp_path_factory, tmp_path)
    metrics = json.loads((build / "metrics.json").read_text())
    del metrics["code_hash"]
    (build / "metrics.json").write_text(json.dumps(metrics))
    with pytest.raises(UntrustedCodeError, match="records no code hash"):
        load_keras_model(build)
