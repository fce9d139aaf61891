"""The check every generated file passes before it is written or run (`specc.codegen.audit`):
the golden code passes it, and code that could run commands or load code is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from specc.codegen.audit import CodeAuditError, audit_files, audit_source

GOLDEN = Path(__file__).resolve().parent / "golden"


@pytest.mark.parametrize("folder", sorted(p.name for p in GOLDEN.iterdir() if p.is_dir()))
def test_golden_code_passes(folder):
    files = {p.name: p.read_text() for p in (GOLDEN / folder).glob("*.py")}
    audit_files(files)  # raises on any problem


@pytest.mark.parametrize(
    ("source", "rule"),
    [
        ("import subprocess\n", "import of `subprocess`"),
        ("import os.path as p\nimport shutil\n", "import of `shutil`"),
        ("from importlib import import_module\n", "import of `importlib`"),
        ("from . import data\n", "relative imports"),
        ("from numpy import *\n", "import *"),
        ('exec("print(1)")\n', "call of `exec`"),
        ('eval("1")\n', "call of `eval`"),
        ('__import__("os").system("touch PWNED")\n', "call of `__import__`"),
        ('compile("1", "x", "eval")\n', "call of `compile`"),
        ('import os\nos.system("touch PWNED")\n', "`os.system`"),
        ('import os\nos.popen("id")\n', "`os.popen`"),
        ('import os\ngetattr(os, "system")("id")\n', "`getattr` on the module `os`"),
        ('import os as o\ngetattr(o, "system")("id")\n', "`getattr` on the module `o`"),
        ("x = ().__class__.__bases__[0].__subclasses__()\n", "attribute `__class__`"),
        ("f = lambda: 0\ng = f.__globals__\n", "attribute `__globals__`"),
        ('open("/etc/passwd").read()\n', "`open` is allowed only on the data path"),
        ('def load():\n    return open("x")\n', "`open` is allowed only"),
        ('open(CSV_PATH, "w")\n', "`open` is allowed only"),
        ("open(CSV_PATH, mode='a')\n", "`open` is allowed only"),
        ("x = __builtins__\n", "use of `__builtins__`"),
        ('x = """a"""; """\n', "does not parse"),
        ("x = 1\x00\n", "does not parse"),
    ],
)
def test_dangerous_code_is_refused(source, rule):
    problems = audit_source(source, "train.py")
    assert problems and any(rule in p for p in problems), problems
    assert all(p.startswith("train.py:") for p in problems)


def test_allowed_code_passes():
    source = (
        "import os\nimport sys\nimport numpy as np\nfrom pathlib import Path\n"
        "sys.path.insert(0, str(Path(__file__).resolve().parent))\n"
        "from spec_data import load_data\n"
        "def save_history(path):\n"
        "    with open(path, 'w') as fh:\n        fh.write('x')\n"
        "    os.replace(path, path)\n"
        "value = getattr(load_data(), 'test')\n"
    )
    assert audit_source(source, "train.py", siblings=["spec_data"]) == []


def test_audit_files_names_every_problem():
    files = {"train.py": "import subprocess\n", "spec_data.py": 'eval("1")\n'}
    with pytest.raises(CodeAuditError) as caught:
        audit_files(files)
    assert caught.value.problems == [
        "spec_data.py:1: call of `eval` is not allowed",
        "train.py:1: import of `subprocess` is not allowed",
    ]
    assert str(caught.value).startswith("generated code refused: spec_data.py:1")


def _break_the_escaping(monkeypatch):
    """Simulate a regression in the escaping path: a docstring line that closes the string."""
    import specc.codegen.model_context as model_context

    monkeypatch.setattr(
        model_context,
        "docstring",
        lambda loaded, graph: ['x""";import subprocess;subprocess.run(["id"]);"""'],
    )


def test_codegen_refuses_code_that_fails_the_audit(monkeypatch, tmp_path):
    from click.testing import CliRunner

    from specc.cli import cli

    _break_the_escaping(monkeypatch)
    spec = Path(__file__).resolve().parents[1] / "specs" / "breast_cancer_mlp.yaml"
    result = CliRunner().invoke(cli, ["codegen", str(spec), "-o", str(tmp_path / "code")])
    assert result.exit_code == 1, result.output
    assert "generated code refused" in result.output and "import of `subprocess`" in result.output
    assert not (tmp_path / "code").exists()


def test_build_refuses_code_that_fails_the_audit(monkeypatch, tmp_path):
    from specc.builder import BuildError, build

    _break_the_escaping(monkeypatch)
    spec = Path(__file__).resolve().parents[1] / "specs" / "breast_cancer_mlp.yaml"
    with pytest.raises(BuildError, match=r"\[codegen\] generated code refused"):
        build(spec, tmp_path / "out")
    assert not (tmp_path / "out").exists()
