"""Code generation: a lowered spec becomes three readable, standalone Python files.

* `model.py`: `build_model(preprocessing=None, target_scaling=None)`, Keras functional API;
* `data.py`: `load_data()`, the splits and the statistics fitted on the training split;
* `train.py`: `train(output_dir=None, *, verbose=2, callbacks=())` and a command line.

The files import only Keras, TensorFlow, NumPy, scikit-learn, the standard library and each
other, never specc. Generating them imports neither TensorFlow nor Keras.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from ..atomic import write_text
from ..ir.graph import Graph
from ..spec import LoadedSpec

__all__ = ["FILES", "GeneratedCode", "generate"]

FILES = ("model.py", "data.py", "train.py")


@dataclass(frozen=True)
class GeneratedCode:
    """The generated files, by file name, as `ruff format`-clean text."""

    files: dict[str, str] = field(default_factory=dict)

    @property
    def hash(self) -> str:
        """sha256 over the file names and contents (in name order)."""
        digest = hashlib.sha256()
        for name in sorted(self.files):
            digest.update(name.encode() + b"\0" + self.files[name].encode() + b"\0")
        return digest.hexdigest()

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
    """Render model.py, data.py and train.py for a validated spec and its lowered graph.

    Raises no `SpecErrors`: validation (`specc.spec.checks`) finds every problem of a spec.
    """
    from .data_context import data_context
    from .env import environment
    from .model_context import model_context
    from .train_context import train_context

    env = environment()
    contexts = {
        "model.py": model_context(loaded, graph),
        "data.py": data_context(loaded, loaded.base_dir),
        "train.py": train_context(loaded, graph),
    }
    files = {name: env.get_template(f"{name}.j2").render(**ctx) for name, ctx in contexts.items()}
    return GeneratedCode(files)
