"""The model a runtime benchmark measures: the `--model` given, or a small digits CNN trained
and exported on the spot (the fixture of tests/runtime_fixtures.py)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def model_or_fixture(path: str | None, tmp: Path) -> Path:
    """`path` when given, else a freshly built digits CNN in `tmp`."""
    if path:
        return Path(path)
    sys.path.insert(0, str(ROOT / "tests"))
    from runtime_fixtures import build_digits_cnn

    print("no --model: training a small digits CNN ...", file=sys.stderr)
    return build_digits_cnn(tmp / "digits_cnn")
