"""The loader of generated code lives in `specc.codegen.loader`; this name stays for `stages`."""

from __future__ import annotations

from ..codegen.loader import generated_modules

__all__ = ["generated_modules"]
