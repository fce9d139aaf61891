"""Regenerate the golden files: `python -m tools.golden`.

For every spec in `specs/`, writes the generated `spec_model.py`, `spec_data.py` and `train.py` to
`tests/golden/<spec name>/`, the reference that `tests/test_codegen.py` compares against. Run it
after an intended change to the generated code and review the diff like any code change.
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
from collections.abc import Iterator
from pathlib import Path

from specc.codegen import GeneratedCode, generate
from specc.ir.lower import lower
from specc.spec import LoadedSpec, load_spec

__all__ = ["GOLDEN_DIR", "SPECS_DIR", "example_specs", "golden_code", "write_golden"]

REPO = Path(__file__).resolve().parents[1]
SPECS_DIR = REPO / "specs"
GOLDEN_DIR = REPO / "tests" / "golden"
GOLDEN_ROOT = Path("/specc")  # where the golden code places the repository (data file paths)


def example_specs(specs_dir: Path = SPECS_DIR) -> list[Path]:
    """The example spec files, in name order."""
    return sorted(specs_dir.glob("*.yaml"))


def golden_code(path: Path) -> tuple[LoadedSpec, GeneratedCode]:
    """Load, lower and generate one spec. The spec is generated as if the repository were at
    `/specc` (`GOLDEN_ROOT`): a data file's absolute path in the generated code is then the same
    on every machine."""
    loaded = load_spec(path)
    shown = dataclasses.replace(loaded, path=GOLDEN_ROOT / Path(path).resolve().relative_to(REPO))
    return loaded, generate(shown, lower(loaded.spec))


def write_golden(specs_dir: Path = SPECS_DIR, golden_dir: Path = GOLDEN_DIR) -> Iterator[Path]:
    """Write the golden files of every spec; remove folders of specs that no longer exist.
    Yields each folder written."""
    names = set()
    for path in example_specs(specs_dir):
        loaded, code = golden_code(path)
        names.add(loaded.spec.name)
        code.write(golden_dir / loaded.spec.name)
        yield golden_dir / loaded.spec.name
    if golden_dir.is_dir():
        for stale in sorted(golden_dir.iterdir()):
            if stale.is_dir() and stale.name not in names:
                shutil.rmtree(stale)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--specs", type=Path, default=SPECS_DIR, help="folder of spec files")
    parser.add_argument("--out", type=Path, default=GOLDEN_DIR, help="golden folder")
    args = parser.parse_args()
    for folder in write_golden(args.specs, args.out):
        print(folder)


if __name__ == "__main__":
    main()
