"""Checks of a backbone's files that `checks_model.backbones_resolve` does not make: the layer
`output_layer` names exists in the `.keras` file (its `config.json` is read from the zip, no
TensorFlow), a local weights file of an `applications:` source exists, and the hint for a missing
`.keras` file that another spec's build writes (which spec to build first)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

from .checks_base import check
from .errors import SpecError, did_you_mean
from .schema import Spec

__all__ = ["build_first_hint", "keras_layer_names"]

_WEIGHTS_SUFFIXES = (".h5", ".hdf5", ".keras")
_MAX_CONFIG_BYTES = 64 * 2**20  # a model's config is kilobytes; a zip bomb is not read


def keras_layer_names(path: Path) -> list[str]:
    """Names of the top-level layers of a `.keras` file, from its `config.json`; ValueError when
    the file is no `.keras` archive of a functional or sequential model."""
    import json  # only for a spec with `output_layer`: validate starts faster without them
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            if archive.getinfo("config.json").file_size > _MAX_CONFIG_BYTES:
                raise ValueError("config.json is too large")
            config = json.loads(archive.read("config.json"))
        layers = config["config"]["layers"]
        return [str(entry.get("name") or entry["config"]["name"]) for entry in layers]
    except (OSError, zipfile.BadZipFile, KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"cannot read its layers ({type(exc).__name__}: {exc})") from None


def build_first_hint(source: str, base_dir: Path) -> str:
    """What to do about a missing `.keras` backbone: build the spec that writes it, named when a
    spec beside this one has the build folder's name (`build/NAME/model.keras`)."""
    parts = Path(source).parts
    if len(parts) >= 2 and parts[-1] == "model.keras":
        name = parts[-2]
        where = f"its build must write {os.path.normpath(base_dir / source)}"
        if len(parts) >= 3 and parts[-3] == "build":  # the default build folder, build/NAME
            folder = os.path.normpath(base_dir / Path(source).parents[2])
            where = f"`specc build` run in `{folder}` writes build/{name}/model.keras"
        for candidate in sorted(base_dir.glob("*.yaml")):
            try:
                text = candidate.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            if re.search(rf"^name:\s*['\"]?{re.escape(name)}['\"]?\s*(#.*)?$", text, re.M):
                return f"build {candidate} first; {where}"
        return f"build the spec named `{name}` first; {where}"
    return "a `.keras` backbone is a trained model file, e.g. the `model.keras` of a build"


@check
def backbone_files_fit(spec: Spec, base_dir: Path) -> Iterator[SpecError]:
    for i, layer in enumerate(spec.model.layers):
        if layer.type != "backbone":
            continue
        path = ("model", "layers", i)
        application = layer.source.startswith("applications:")
        if layer.output_layer is not None:
            file = base_dir / layer.source
            if application:
                yield SpecError(
                    path + ("output_layer",),
                    "`output_layer` applies to `.keras` sources, not `applications:` ones",
                    "remove it; `pooling` gives an application's pooled features",
                )
            elif layer.source.endswith(".keras") and file.is_file():
                try:
                    names = keras_layer_names(file)
                except ValueError as exc:
                    yield SpecError(path + ("source",), f"not a readable .keras file: {exc}")
                    continue
                if layer.output_layer not in names:
                    yield SpecError(
                        path + ("output_layer",),
                        f"the backbone has no layer `{layer.output_layer}`; its layers: "
                        + ", ".join(names),
                        did_you_mean(layer.output_layer, names),
                    )
        if application and layer.weights not in (None, "imagenet"):
            weights = base_dir / layer.weights
            if not layer.weights.endswith(_WEIGHTS_SUFFIXES):
                yield SpecError(
                    path + ("weights",),
                    f"expected `imagenet`, null or a weights file (.h5, .weights.h5), got "
                    f"{layer.weights!r}",
                )
            elif not weights.is_file():
                yield SpecError(
                    path + ("weights",),
                    f"weights file not found: {weights}",
                    "keras.applications downloads `imagenet` weights from the internet; on an "
                    "offline machine, copy the weights file here and name it in `weights`",
                )
