"""The jinja2 environment that renders the generated code from the templates in `templates/`.

The templates live at the top of the repository and are found one way: as the package
`specc.templates`, which `pyproject.toml` maps to that folder, so a wheel ships them inside the
package and an editable install (`pip install -e .`) reads them in place.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

import jinja2

if TYPE_CHECKING:  # importlib.resources.abc is new in Python 3.11
    from importlib.resources.abc import Traversable

__all__ = ["environment", "templates_root"]


def templates_root() -> Traversable:
    """Folder of the `*.j2` templates: the package `specc.templates`."""
    try:
        return files("specc.templates")
    except ModuleNotFoundError:
        raise RuntimeError(
            "the package specc.templates is missing: install specc (`pip install -e .` in a "
            "checkout) rather than running it from the source folder"
        ) from None


class _ResourceLoader(jinja2.BaseLoader):
    """Loads templates from a `Traversable` (a folder, or a package inside a wheel or zip)."""

    def __init__(self, root: Traversable) -> None:
        self.root = root

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str | None, Callable[[], bool] | None]:
        resource = self.root.joinpath(*template.split("/"))
        if not resource.is_file():
            raise jinja2.TemplateNotFound(template)
        source = resource.read_text(encoding="utf-8")
        filename = str(resource) if isinstance(resource, Path) else None
        return source, filename, lambda: True


def environment() -> jinja2.Environment:
    """A fresh environment: undefined names fail loudly; block tags leave no blank lines."""
    return jinja2.Environment(
        loader=_ResourceLoader(templates_root()),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
