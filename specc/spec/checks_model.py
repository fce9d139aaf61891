"""Cross-field checks of the task, model and training sections (registered with `check`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from .checks_backbone import build_first_hint
from .checks_base import check
from .errors import SpecError, did_you_mean
from .schema import Spec
from .tasks import task_kind

__all__ = ["output_layers"]


def output_layers(spec: Spec) -> list[tuple[int, object]]:
    """(index, layer) of each model output, by name or the last layer."""
    layers = spec.model.layers
    if not spec.model.outputs:
        return [(len(layers) - 1, layers[-1])]
    by_name = {layer.name: (i, layer) for i, layer in enumerate(layers) if layer.name}
    return [by_name[name] for name in spec.model.outputs if name in by_name]


@check
def output_matches_task(spec: Spec, _: Path) -> Iterator[SpecError]:
    kind = task_kind(spec)
    width, what, task = kind.width(spec.task), kind.width_what, kind.name
    for index, layer in output_layers(spec):
        path = ("model", "layers", index)
        activation = getattr(layer, "activation", None)
        if layer.type == "simple_rnn":  # its activation is the state's, as in lstm and gru
            activation = None
        if isinstance(activation, str) and activation not in kind.activations:
            allowed = sorted(kind.activations - {"auto"})
            yield SpecError(
                path + ("activation",),
                f"output activation `{activation}` does not fit a {task} task: expected "
                + " or ".join(f"`{a}`" for a in allowed),
                "leave `activation` out to get the task's activation",
            )
        units = getattr(layer, "units", None)
        if layer.type == "dense" and units != width:
            yield SpecError(
                path + ("units",),
                f"the output layer has {units} units but the task needs {width} ({what})",
                f"set `units: {width}`",
            )


@check
def loss_matches_task(spec: Spec, _: Path) -> Iterator[SpecError]:
    loss = spec.training.loss
    task = spec.task.type
    losses = task_kind(task).losses
    if loss == "auto" or loss in losses:
        return
    detail = ""
    if task == "multiclass":
        detail = f" ({spec.task.classes} classes declared)"
    yield SpecError(
        ("training", "loss"),
        f"loss `{loss}` does not fit a {task} task{detail}: expected "
        + " or ".join(f"`{x}`" for x in sorted(losses)),
        "use `auto` to let the task choose",
    )


@check
def names_match_counts(spec: Spec, _: Path) -> Iterator[SpecError]:
    task = spec.task
    kind = task_kind(task)
    if kind.names_field and kind.count_field:
        names_field, count_field = kind.names_field, kind.count_field
        names, count = getattr(task, names_field), getattr(task, count_field)
        if names is not None and len(names) != count:
            yield SpecError(
                ("task", names_field),
                f"{len(names)} names given for {count} {count_field}",
                f"give exactly {count} names or change `{count_field}`",
            )


@check
def references_resolve(spec: Spec, _: Path) -> Iterator[SpecError]:
    """Layer and input names are unique; `inputs`, `outputs` and `initial_state` refer to
    model inputs or earlier layers."""
    known: dict[str, str] = {}
    first_at: dict[str, str] = {}
    for i, inp in enumerate(spec.model.inputs):
        if inp.name in known:
            yield SpecError(
                ("model", "inputs", i, "name"),
                f"duplicate input name `{inp.name}` (already used by {first_at[inp.name]})",
                "give every input a different name",
            )
        known[inp.name] = "input"
        first_at.setdefault(inp.name, f"model.inputs[{i}]")
    recurrent_with_state: set[str] = set()
    recurrent: set[str] = set()
    for i, layer in enumerate(spec.model.layers):
        path = ("model", "layers", i)
        for j, ref in enumerate(layer.inputs or []):
            if ref not in known:
                later = [other.name for other in spec.model.layers[i + 1 :] if other.name]
                if ref in later:
                    yield SpecError(
                        path + ("inputs", j),
                        f"`{ref}` is defined after this layer; a layer may only read model "
                        "inputs and earlier layers",
                        f"move `{ref}` above this layer",
                    )
                    continue
                yield SpecError(
                    path + ("inputs", j),
                    f"`{ref}` is not a model input or an earlier layer",
                    did_you_mean(ref, known) or f"known names: {', '.join(known) or 'none'}",
                )
        state_from = getattr(layer, "initial_state", None)
        if state_from is not None and state_from not in recurrent_with_state:
            yield SpecError(
                path + ("initial_state",),
                f"`{state_from}` is not an earlier lstm/gru/simple_rnn layer with "
                "`return_state: true`",
                f"set `return_state: true` on `{state_from}`"
                if state_from in recurrent
                else did_you_mean(state_from, recurrent_with_state),
            )
        if layer.name:
            if layer.name in known:
                yield SpecError(
                    path + ("name",),
                    f"duplicate name `{layer.name}` (already used by {first_at[layer.name]})",
                    "layer and input names must be unique",
                )
            known[layer.name] = layer.type
            first_at.setdefault(layer.name, f"model.layers[{i}]")
            if getattr(layer, "return_state", False):
                recurrent_with_state.add(layer.name)
            if layer.type in ("lstm", "gru", "simple_rnn"):
                recurrent.add(layer.name)
    layer_names = [layer.name for layer in spec.model.layers if layer.name]
    for k, ref in enumerate(spec.model.outputs or []):
        if ref not in layer_names:
            yield SpecError(
                ("model", "outputs", k),
                f"`{ref}` is not a layer name",
                did_you_mean(ref, layer_names) or "name the output layer with `name:`",
            )


@check
def training_fits(spec: Spec, _: Path) -> Iterator[SpecError]:
    training = spec.training
    task = spec.task.type
    es = training.early_stopping
    if es is not None and es.monitor.startswith("val_") and spec.data.split.validation == 0:
        yield SpecError(
            ("training", "early_stopping", "monitor"),
            f"`{es.monitor}` needs a validation split, but data.split.validation is 0",
            "set `data.split.validation`, e.g. to 0.15, or monitor `loss`",
        )
    if training.class_weight != "none" and not task_kind(task).class_targets:
        yield SpecError(
            ("training", "class_weight"),
            f"class weights apply to binary and multiclass tasks, not {task}",
            "remove `class_weight`",
        )
    allowed = task_kind(task).allowed_metrics
    for i, metric in enumerate(training.metrics):
        if metric != "auto" and metric not in allowed:
            yield SpecError(
                ("training", "metrics", i),
                f"metric `{metric}` does not apply to a {task} task",
                "use " + ", ".join(f"`{m}`" for m in allowed),
            )
    schedule = training.schedule
    max_lr = getattr(schedule, "max_learning_rate", None)
    base_lr = training.optimizer.learning_rate
    if max_lr is not None and max_lr <= base_lr:
        yield SpecError(
            ("training", "schedule", "max_learning_rate"),
            f"max_learning_rate must exceed the optimizer's learning_rate {base_lr}, got {max_lr}",
            "raise `max_learning_rate` or lower `training.optimizer.learning_rate`",
        )
    if training.gradient_clipping is not None:
        gc = training.gradient_clipping
        if (gc.global_norm is None) == (gc.value is None):
            both = gc.global_norm is not None
            yield SpecError(
                ("training", "gradient_clipping"),
                "expected exactly one of `global_norm` and `value`, got "
                + ("both" if both else "neither"),
                "remove one of them" if both else "set `global_norm: 1.0`, a common choice",
            )


APPLICATIONS = (
    "MobileNetV2",
    "MobileNetV3Small",
    "MobileNetV3Large",
    "ResNet50",
    "ResNet50V2",
    "EfficientNetB0",
    "EfficientNetV2B0",
    "DenseNet121",
    "VGG16",
    "Xception",
    "ConvNeXtTiny",
)


@check
def backbones_resolve(spec: Spec, base_dir: Path) -> Iterator[SpecError]:
    for i, layer in enumerate(spec.model.layers):
        if layer.type != "backbone":
            continue
        path = ("model", "layers", i)
        if layer.source.startswith("applications:"):
            name = layer.source.split(":", 1)[1]
            if name not in APPLICATIONS:
                yield SpecError(
                    path + ("source",),
                    f"unknown keras.applications model `{name}`",
                    did_you_mean(name, APPLICATIONS) or f"known: {', '.join(APPLICATIONS)}",
                )
        elif not layer.source.endswith(".keras"):
            yield SpecError(
                path + ("source",),
                f"expected a `.keras` file or `applications:NAME`, got {layer.source!r}",
            )
        elif not (base_dir / layer.source).is_file():
            yield SpecError(
                path + ("source",),
                f"file not found: {base_dir / layer.source}",
                build_first_hint(layer.source, base_dir),
            )
        if layer.freeze == "hybrid" and layer.frozen_layers is None:
            yield SpecError(
                path + ("frozen_layers",),
                "`hybrid` freezing needs the number of leading layers to freeze",
                "set `frozen_layers`",
            )
        if layer.freeze != "hybrid" and layer.frozen_layers is not None:
            yield SpecError(
                path + ("frozen_layers",),
                f"`frozen_layers` applies to `freeze: hybrid`, got `freeze: {layer.freeze}`",
            )


@check
def passes_fit(spec: Spec, base_dir: Path) -> Iterator[SpecError]:
    kinds = [entry.kind for entry in spec.passes]
    for i, kind in enumerate(kinds):
        if kinds.count(kind) > 1 and kinds.index(kind) != i:
            yield SpecError(("passes", i), f"`{kind}` is given more than once")
        if kind == "quantize" and i != len(kinds) - 1:
            yield SpecError(
                ("passes", i),
                "`quantize` works on the exported model, so it must be the last pass",
                "move it to the end of `passes`",
            )
        if kind == "distill":
            teacher = spec.passes[i].distill.teacher
            if not teacher.endswith((".yaml", ".yml", ".keras")):
                yield SpecError(
                    ("passes", i, "distill", "teacher"),
                    f"expected a spec (`.yaml`) or a `.keras` file, got {teacher!r}",
                )
            elif not (base_dir / teacher).is_file():
                yield SpecError(
                    ("passes", i, "distill", "teacher"), f"file not found: {base_dir / teacher}"
                )
            if spec.task.type == "regression":
                yield SpecError(
                    ("passes", i, "distill"),
                    "distillation matches softened class probabilities; the task is regression",
                )


@check
def tensorboard_installed(spec: Spec, _: Path) -> Iterator[SpecError]:
    """`training.tensorboard` needs the TensorBoard package, which TensorFlow no longer brings;
    asked without importing it."""
    import importlib.util

    if spec.training.tensorboard and importlib.util.find_spec("tensorboard") is None:
        yield SpecError(
            ("training", "tensorboard"),
            "TensorBoard logs need the `tensorboard` package, which is not installed",
            "pip install 'specc[tensorboard]', or set `tensorboard: false`",
        )
