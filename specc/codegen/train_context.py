"""The values `templates/train.py.j2` renders: the training recipe of the spec with every `auto`
resolved, as module constants, the optimizer, the compile and fit calls and the helpers to
include (learning-rate schedule, class weights, augmentation, greedy decoding).

Learning-rate schedules are defined per epoch in the spec. Where Keras has a schedule class that
gives exactly those rates (`step`, `exponential`: `ExponentialDecay` with `staircase=True`, its
`decay_steps` counted in optimizer steps from the steps per epoch), the optimizer gets it; the
others (`cosine` with its warm-up, `one_cycle`, `cyclical`) have no Keras class with the same
per-epoch rates and stay a `learning_rate(epoch)` function behind a `LearningRateScheduler`.
"""

from __future__ import annotations

from typing import Any

from ..ir.graph import Graph
from ..spec import LoadedSpec
from ..spec.schema import Spec
from ..spec.tasks import decoder_input, resolved_loss, resolved_metrics, task_kind
from .distill_code import distill_context, distill_fit
from .distribute_code import distribute_context, fit_data, steps_per_execution_group
from .layout import MODULES
from .model_context import build_model_parameters
from .prune_code import prune_callback, prune_constants, prune_structured
from .pyfmt import INDENT, Call, Raw, literal, wrap
from .summary import spec_ref

__all__ = ["KERAS_SCHEDULES", "resolve_loss", "resolve_metrics", "train_context"]

_METRIC_CODE = {
    "accuracy": Raw('"accuracy"'),
    "auc": Call("keras.metrics.AUC", kwargs=(("name", Raw('"auc"')),)),
    "precision": Call("keras.metrics.Precision", kwargs=(("name", Raw('"precision"')),)),
    "recall": Call("keras.metrics.Recall", kwargs=(("name", Raw('"recall"')),)),
    "mae": Call("keras.metrics.MeanAbsoluteError", kwargs=(("name", Raw('"mae"')),)),
    "mse": Call("keras.metrics.MeanSquaredError", kwargs=(("name", Raw('"mse"')),)),
    "rmse": Call("keras.metrics.RootMeanSquaredError", kwargs=(("name", Raw('"rmse"')),)),
}
_OPTIMIZERS = {
    "sgd": ("SGD", {"momentum": 0.0, "nesterov": False}),
    "adam": ("Adam", {"beta_1": 0.9, "beta_2": 0.999}),
    "adamw": ("AdamW", {"weight_decay": 0.004, "beta_1": 0.9, "beta_2": 0.999}),
    "rmsprop": ("RMSprop", {"rho": 0.9, "momentum": 0.0}),
}
# schedule type -> (decay steps in epochs, decay rate): keras.optimizers.schedules.ExponentialDecay
KERAS_SCHEDULES = {"step": ("EVERY_EPOCHS", "FACTOR"), "exponential": ("1", "DECAY_RATE")}
# Keras' per-call overhead (binding inputs, dispatch) was most of the gap between the generated
# fit loop and a hand-written one on small models; see benchmarks/README.md.
STEPS_PER_EXECUTION = 32


def resolve_loss(spec: Spec) -> str:
    """The Keras loss name; `auto` follows the task."""
    return resolved_loss(spec)


def resolve_metrics(spec: Spec) -> list[str]:
    """Metrics compiled into the model (reported per epoch). Classification always tracks
    accuracy; `auto` is accuracy for classification and seq2seq, MAE for regression."""
    return list(dict.fromkeys([*task_kind(spec).tracked_metrics, *resolved_metrics(spec)]))


_SCHEDULE_DOCS = {
    "cosine": "a linear warm-up over WARMUP_EPOCHS epochs, then cosine decay from the base rate "
    "to MIN_FACTOR times the base rate at the last epoch.",
    "one_cycle": "rise linearly from MAX_LEARNING_RATE / DIV_FACTOR to MAX_LEARNING_RATE over the "
    "first PCT_START of the epochs, then anneal (cosine) to 1/10,000 of the start rate.",
    "cyclical": "a triangle wave between the base rate and MAX_LEARNING_RATE, HALF_CYCLE_EPOCHS "
    "epochs up, then as many down.",
}


def _doc(ref: str, text: str) -> list[str]:
    """Lines of a function docstring (without quotes) that starts with a spec reference."""
    return wrap(f"{ref}: {text}", INDENT + '"""')  # room for the quotes on first and last line


def _constant(comment: str, name: str, value: Any) -> list[str]:
    return [f"# {line}" for line in wrap(comment, "# ")] + [f"{name} = {literal(value)}"]


def _constants(spec: Spec, image_inputs: list[str]) -> list[list[str]]:
    """Groups of `NAME = value` lines, each with the spec field it comes from."""
    training = spec.training
    optimizer = training.optimizer
    groups = [
        _constant(
            spec_ref("seed", "weights, shuffling, dropout and augmentation"), "SEED", spec.seed
        ),
        _constant(
            spec_ref("training.optimizer.learning_rate"),
            "LEARNING_RATE",
            optimizer.learning_rate,
        ),
    ]
    sizes = []
    if training.batch_size != "full":
        sizes += _constant(spec_ref("training.batch_size"), "BATCH_SIZE", training.batch_size)
    sizes += _constant(spec_ref("training.epochs"), "EPOCHS", training.epochs)
    groups.append(sizes)
    schedule = training.schedule
    fields = {k: getattr(schedule, k) for k in type(schedule).model_fields if k != "type"}
    if fields:
        lines = [f"# {spec_ref('training.schedule', schedule.type)}"]
        for name, value in fields.items():
            lines.append(f"{name.upper()} = {literal(value)}")
        groups.append(lines)
    if training.class_weight not in ("none", "balanced"):
        weights = {int(k): float(v) for k, v in training.class_weight.items()}
        groups.append(
            [f"# {spec_ref('training.class_weight')}: loss weight per class id"]
            + [f"CLASS_WEIGHT = {{{', '.join(f'{k}: {v!r}' for k, v in weights.items())}}}"]
        )
    aug = training.augmentation
    if image_inputs:
        lines = [
            f"# {spec_ref('training.augmentation')}: random, training split only, on inputs of "
            "shape (h, w, c)"
        ]
        lines.append(f"IMAGE_INPUTS = {literal(image_inputs)}")
        if aug.flip != "none":
            mode = {"both": "horizontal_and_vertical"}.get(aug.flip, aug.flip)
            lines.append(f"FLIP = {literal(mode)}")
        if aug.shift:
            lines.append(f"SHIFT = {literal(aug.shift)}  # fraction of height and width")
        if aug.noise:
            lines.append(f"NOISE = {literal(aug.noise)}  # std of Gaussian noise, scaled units")
        groups.append(lines)
    groups += prune_constants(spec)
    groups.append(steps_per_execution_group(spec, STEPS_PER_EXECUTION))
    return groups


def _schedule(spec: Spec) -> list[str]:
    """`learning_rate = ExponentialDecay(...)` for a schedule in KERAS_SCHEDULES, else []."""
    if spec.training.schedule.type not in KERAS_SCHEDULES:
        return []
    epochs, rate = KERAS_SCHEDULES[spec.training.schedule.type]
    steps = "steps_per_epoch" if epochs == "1" else f"{epochs} * steps_per_epoch"
    call = Call(
        "keras.optimizers.schedules.ExponentialDecay",
        (Raw("LEARNING_RATE"),),
        (("decay_steps", Raw(steps)), ("decay_rate", Raw(rate)), ("staircase", Raw("True"))),
    )
    return call.lines(INDENT, "learning_rate = ")


def _optimizer_doc(spec: Spec) -> list[str]:
    training = spec.training
    refs = [spec_ref("training.optimizer", training.optimizer.type)]
    if training.gradient_clipping:
        refs.append("training.gradient_clipping")
    text = ", ".join(refs) + "."
    schedule = training.schedule.type
    if schedule in KERAS_SCHEDULES:
        change = {
            "step": "times FACTOR every EVERY_EPOCHS epochs",
            "exponential": "times DECAY_RATE every epoch",
        }[schedule]
        text += (
            f" With training.schedule ({schedule}): the rate {change}; Keras schedules count "
            "optimizer steps, steps_per_epoch of them to an epoch, and the staircase keeps the "
            "rate constant within an epoch."
        )
    return wrap(text, INDENT + '"""')


def _optimizer(spec: Spec) -> list[str]:
    optimizer = spec.training.optimizer
    cls, defaults = _OPTIMIZERS[optimizer.type]
    keras_schedule = spec.training.schedule.type in KERAS_SCHEDULES
    rate = Raw("learning_rate" if keras_schedule else "LEARNING_RATE")
    kwargs: list[tuple[str, Raw]] = [("learning_rate", rate)]
    for name, default in defaults.items():
        value = getattr(optimizer, name)
        if value != default:
            kwargs.append((name, Raw(literal(value))))
    clipping = spec.training.gradient_clipping
    if clipping is not None and clipping.global_norm is not None:
        kwargs.append(("global_clipnorm", Raw(literal(clipping.global_norm))))
    elif clipping is not None and clipping.value is not None:
        kwargs.append(("clipvalue", Raw(literal(clipping.value))))
    call = Call(f"keras.optimizers.{cls}", kwargs=tuple(kwargs))
    return _schedule(spec) + call.lines(INDENT, "return ")


def _compile(spec: Spec) -> list[str]:
    steps = "steps_per_epoch" if spec.training.schedule.type in KERAS_SCHEDULES else ""
    metrics = tuple(_METRIC_CODE[m] for m in resolve_metrics(spec))
    call = Call(
        "model.compile",
        kwargs=(
            ("optimizer", Raw(f"make_optimizer({steps})")),
            ("loss", Raw(literal(resolve_loss(spec)))),
            ("metrics", Call.list(metrics)),
            ("steps_per_execution", Raw("STEPS_PER_EXECUTION")),
        ),
    )
    return call.lines(INDENT)


def _callbacks(spec: Spec) -> list[str]:
    training = spec.training
    items: list[Call | Raw] = []
    if training.schedule.type not in ("constant", *KERAS_SCHEDULES):
        items.append(Call("keras.callbacks.LearningRateScheduler", (Raw("learning_rate"),)))
    es = training.early_stopping
    if es is not None:
        kwargs = [("monitor", Raw(literal(es.monitor))), ("patience", Raw(literal(es.patience)))]
        if es.min_delta:
            kwargs.append(("min_delta", Raw(literal(es.min_delta))))
        if es.restore_best_weights:
            kwargs.append(("restore_best_weights", Raw("True")))
        items.append(Call("keras.callbacks.EarlyStopping", kwargs=tuple(kwargs)))
    pruning = prune_callback(spec)
    if pruning is not None:
        items.append(Raw("pruning"))
    if training.tensorboard:
        log_dir = Raw('os.path.join(output_dir if output_dir is not None else ".", "logs")')
        kwargs = (("log_dir", log_dir), ("histogram_freq", Raw("1")))
        items.append(Call("keras.callbacks.TensorBoard", kwargs=kwargs))
    items.append(Raw("*callbacks"))
    lines = [f"{INDENT}{pruning}"] if pruning else []
    lines += [f"{INDENT}fit_callbacks = ["]
    for item in items:
        lines += (
            item.lines(INDENT * 2, "", ",")
            if isinstance(item, Call)
            else [f"{INDENT * 2}{item.text},"]
        )
    return lines + [f"{INDENT}]"]


def _fit(
    spec: Spec, augment: bool, noise: bool, has_validation: bool, one_hot: bool, fitted: str
) -> list[str]:
    training = spec.training
    batch = "BATCH_SIZE" if training.batch_size != "full" else "len(y_train)"
    y_train = "one_hot(y_train)" if one_hot else "y_train"
    args: list[Raw] = []
    kwargs: list[tuple[str, Raw]] = []
    # the noise is in scaled units: the pipeline reads the statistics to convert it
    stats = "ds.preprocessing, " if noise else ""
    augmented = f"training_batches(x_train, {y_train}, {stats}{batch})" if augment else None
    distributed = fit_data(spec, augmented, y_train, batch)
    if augmented is not None or distributed is not None:
        args.append(Raw(distributed or augmented))
        kwargs.append(("shuffle", Raw("False")))  # the input pipeline shuffles
    else:
        args += [Raw("x_train"), Raw(y_train)]
        kwargs.append(("batch_size", Raw(batch)))
        if not training.shuffle:
            kwargs.append(("shuffle", Raw("False")))
    kwargs.append(("epochs", Raw("EPOCHS")))
    if has_validation and one_hot:
        kwargs.append(("validation_data", Raw("(ds.validation[0], one_hot(ds.validation[1]))")))
    elif has_validation:
        kwargs.append(("validation_data", Raw("ds.validation")))
    if training.class_weight != "none":
        kwargs.append(("class_weight", Raw("class_weight")))
    kwargs += [("callbacks", Raw("fit_callbacks")), ("verbose", Raw("verbose"))]
    return Call(f"{fitted}.fit", tuple(args), tuple(kwargs)).lines(INDENT, "history = ")


def train_context(loaded: LoadedSpec, graph: Graph) -> dict[str, Any]:
    """Everything `train.py.j2` needs, as plain strings, lists and flags."""
    spec = loaded.spec
    training = spec.training
    task = spec.task.type
    aug = training.augmentation
    active = aug is not None and (aug.flip != "none" or aug.shift > 0 or aug.noise > 0)
    image_inputs = [
        n.name
        for n in graph.inputs
        if active and len(n.output.shape) == 3 and n.output.dtype.startswith("float")
    ]
    noise = bool(image_inputs) and aug.noise > 0
    has_validation = spec.data.split.validation > 0
    loss = resolve_loss(spec)
    one_hot = loss == "categorical_crossentropy"
    keras_schedule = training.schedule.type in KERAS_SCHEDULES
    full_batch = training.batch_size == "full"
    synthetic = spec.data.type == "builtin" and spec.data.dataset.startswith("synthetic:")
    prune = prune_callback(spec) is not None
    metrics = {
        "regression": "loss, MAE, MSE, RMSE and R^2",
        "seq2seq": "loss, token accuracy (teacher forced) and sequence accuracy (greedy decoding)"
        if decoder_input(spec)
        else "loss, token accuracy and sequence accuracy (every token right)",
    }.get(task, "loss, " + ", ".join(resolve_metrics(spec)))
    usage = "`python train.py [--output-dir DIR] [--quiet]`"
    title = f"Train the {spec.name} model: {usage}."
    description = f"Train the {spec.name} model."
    if len(f'{INDENT * 2}description="{description}",') > 100:
        description = "Train the model."
    parser = Call("argparse.ArgumentParser", kwargs=(("description", Raw(literal(description))),))
    return {
        "title": title if len(title) <= 97 else f"Train the model: {usage}.",
        "parser_lines": parser.lines(INDENT, "parser = "),
        "data_module": MODULES["data"],
        "model_module": MODULES["model"],
        "doc": wrap(
            f"Loads the data ({MODULES['data']}.py), builds the network ({MODULES['model']}.py) "
            "and trains it with the "
            f"recipe of {loaded.path.name} (spec hash {loaded.spec_hash}). Reports {metrics} on "
            "the train, validation and test splits; with an output folder it saves model.keras "
            "and history.csv there (default: the folder that holds this code/ folder)."
        ),
        "numpy": task in ("regression", "seq2seq")
        or training.class_weight == "balanced"
        or noise
        or prune,
        "task": task,
        "constants": _constants(spec, image_inputs),
        "optimizer_doc": _optimizer_doc(spec),
        "optimizer_lines": _optimizer(spec),
        "compile_lines": _compile(spec),
        "callback_lines": _callbacks(spec),
        "fit_lines": _fit(
            spec, bool(image_inputs), noise, has_validation, one_hot, distill_fit(spec)
        ),
        "schedule": training.schedule.type,
        "schedule_doc": _doc(
            spec_ref("training.schedule", training.schedule.type),
            _SCHEDULE_DOCS.get(training.schedule.type, ""),
        ),
        "keras_schedule": keras_schedule,
        "prune": prune,
        "structured": prune_structured(spec),
        "steps_per_epoch": "1  # one full batch"
        if full_batch
        else "math.ceil(len(y_train) / BATCH_SIZE)",
        "needs_math": training.schedule.type in ("cosine", "one_cycle")
        or task == "regression"
        or ((keras_schedule or prune) and not full_batch),
        "build_args": ", ".join(
            f"{name}=ds.{name}" for name in build_model_parameters(loaded, graph)
        ),
        "one_hot_doc": _doc(
            spec_ref("training.loss", loss), "compares one-hot targets with the softmax."
        ),
        "class_weight_doc": _doc(
            spec_ref("training.class_weight", "balanced"),
            "n / (classes * count) per class, so every class weighs as much in the loss as if "
            "the training labels were balanced.",
        ),
        "class_weight": training.class_weight
        if training.class_weight in ("none", "balanced")
        else "given",
        "classes": getattr(spec.task, "classes", 2),
        "binary": task == "binary",
        "augment": bool(image_inputs),
        "flip": bool(image_inputs) and aug.flip != "none",
        "shift": bool(image_inputs) and aug.shift > 0,
        "noise": noise,
        "shuffle": training.shuffle,
        "one_hot": one_hot,
        "import_start_token": synthetic and decoder_input(spec) is not None,
        "decoder_input": literal(decoder_input(spec)) if decoder_input(spec) else None,
        **distill_context(
            spec, loss, tuple(_METRIC_CODE[m] for m in resolve_metrics(spec)), keras_schedule
        ),
        **distribute_context(spec),
    }
