"""Load a spec: YAML with positions, the frozen `Spec`, cross-field checks; all errors at once."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .errors import Location, SpecError, SpecErrors, describe
from .schema import Spec
from .source import SourceMap, load_yaml
from .translate import translate

__all__ = ["LoadedSpec", "load_spec", "parse_spec"]


@dataclass(frozen=True)
class LoadedSpec:
    """A validated spec with what is needed to point back into its file."""

    spec: Spec
    path: Path
    source: SourceMap
    text: str
    warnings: tuple[SpecError, ...] = field(default=(), compare=False)
    """Located warnings (`specc.spec.checks.run_warnings`): the spec is valid, but probably not
    what was meant."""

    @property
    def base_dir(self) -> Path:
        """Folder relative paths in the spec (data files, teachers) are resolved against."""
        return self.path.parent

    @property
    def spec_hash(self) -> str:
        """Hash of the resolved spec (every default written out), not of the file's formatting."""
        import hashlib

        from .lock import lock_text

        return hashlib.sha256(lock_text(self.spec).encode()).hexdigest()[:16]

    def locate(self, error: SpecError) -> SpecError:
        if error.location is not None:
            return error
        return error.with_location(self.source.location(error.path))


def parse_spec(text: str, path: str | Path = "<spec>") -> LoadedSpec:
    """Validate spec `text` as if read from `path`; raise `SpecErrors` with every problem."""
    data, source = load_yaml(path, text)
    return _validate(data, source, Path(path), text)


def load_spec(path: str | Path) -> LoadedSpec:
    """Read and validate the spec file at `path`; raise `SpecErrors` with every problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecErrors(
            [SpecError((), "file not found", None, Location(str(path), 1, 1))]
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecErrors(
            [SpecError((), f"cannot read the file: {exc}", None, Location(str(path), 1, 1))]
        ) from None
    return parse_spec(text, path)


def _validate(data: Any, source: SourceMap, path: Path, text: str) -> LoadedSpec:
    here = Location(source.file, 1, 1)
    if not isinstance(data, dict):
        raise SpecErrors(
            [
                SpecError(
                    (),
                    f"expected a mapping at the top of the file, got {describe(data)}",
                    "start with `specc: 1`",
                    here,
                )
            ]
        )
    if "specc" in data and data["specc"] != 1:
        raise SpecErrors(
            [
                SpecError(
                    ("specc",),
                    f"unsupported spec version {data['specc']!r}: this specc reads version 1",
                    "write `specc: 1`",
                    source.location(("specc",)),
                )
            ]
        )
    try:
        spec = Spec.model_validate(data)
    except ValidationError as exc:
        raise SpecErrors(translate(exc, source, Spec)) from None
    loaded = LoadedSpec(spec, path, source, text)

    from .checks import run_checks, run_warnings
    from .checks_distill import teacher_errors

    problems = [loaded.locate(e) for e in run_checks(spec, loaded.base_dir)]
    problems += [loaded.locate(e) for e in teacher_errors(spec, loaded.base_dir, load_spec)]
    if problems:
        raise SpecErrors(problems, spec=loaded)
    warnings = tuple(loaded.locate(w) for w in run_warnings(spec, loaded.base_dir))
    return LoadedSpec(spec, path, source, text, warnings)
