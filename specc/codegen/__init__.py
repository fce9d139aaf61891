"""Code generation: a lowered spec becomes three readable, standalone Python files.

* `spec_model.py`: `build_model()`, Keras functional API; it takes `preprocessing` when the model
  scales inputs and `target_scaling` for regression, only the parameters it uses;
* `spec_data.py`: `load_data()`, the splits and the statistics fitted on the training split;
* `train.py`: `train(output_dir=None, *, verbose=2, callbacks=())` and a command line.

The files import only Keras, TensorFlow, NumPy, scikit-learn, the standard library and each
other, never specc. Generating them imports neither TensorFlow nor Keras. `train.py` imports its
two siblings by module name; those names are prefixed so that a user's own `model` or `data`
package is not taken for them (`python train.py` finds the siblings first, wherever it is run
from; specc itself imports the files under unique names, see `loader`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..atomic import write_text
from ..ir.graph import Graph
from ..spec import LoadedSpec
from .layout import FILES, MODULES, files_hash

__all__ = ["FILES", "MODULES", "GeneratedCode", "files_hash", "generate"]


@dataclass(frozen=True)
class GeneratedCode:
    """The generated files, by file name, as `ruff format`-clean text."""

    files: dict[str, str] = field(default_factory=dict)

    @property
    def hash(self) -> str:
        """sha256 over the file names and contents (in name order); `metrics.json` records it
        as `code_hash`."""
        return files_hash(self.files)

    def write(self, directory: str | Path) -> list[Path]:
        """Write every file into `directory` (created if needed), each atomically."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        paths = []
        for name in sorted(self.files):
            write_text(directory / name, self.files[name])
            paths.append(directory / name)
        return paths


def generate(loaded: LoadedSpec, graph: Graph) -> GeneratedCode:
    """Render the three FILES for a validated spec and its lowered graph.

    Raises no `SpecErrors`: validation (`specc.spec.checks`) finds every problem of a spec.
    Every file is parsed and checked against the allowlist of `audit` before it is returned;
    code that fails raises `CodeAuditError` (a bug in specc, never something to run).
    """
    from .audit import audit_files
    from .data_context import data_context
    from .env import environment
    from .model_context import model_context
    from .train_context import train_context

    env = environment()
    contexts = {  # by role; the templates are named after the roles
        "model": model_context(loaded, graph),
        "data": data_context(loaded, loaded.base_dir),
        "train": train_context(loaded, graph),
    }
    files = {
        f"{MODULES[role]}.py": env.get_template(f"{role}.py.j2").render(**ctx)
        for role, ctx in contexts.items()
    }
    audit_files(files)
    return GeneratedCode(files)
