"""The spec language: schema, YAML loading with positions, errors and cross-field checks."""

from .errors import Location, SpecError, SpecErrors
from .load import LoadedSpec, load_spec, parse_spec
from .lock import lock_data, lock_text
from .schema import Spec

__all__ = [
    "LoadedSpec",
    "Location",
    "Spec",
    "SpecError",
    "SpecErrors",
    "load_spec",
    "lock_data",
    "lock_text",
    "parse_spec",
]
