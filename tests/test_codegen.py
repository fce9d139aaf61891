"""The generated spec_model.py / train.py: golden files, lint, standalone imports, no TensorFlow at
generation time, and built models that match the IR (parameter counts, output shapes).

Golden files live in tests/golden/<spec name>/; after an intended change to the generated code,
regenerate them with `python -m tools.golden` and review the diff.
"""

from __future__ import annotations

import ast
import inspect
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from codegen_cases import (
    LAYER_CASES,
    TRAINING_CASES,
    generate_case,
    import_file,
    spec_text,
)

from specc.codegen import FILES, GeneratedCode, generate
from specc.codegen.loader import generated_modules
from specc.codegen.train_context import resolve_loss, resolve_metrics
from specc.ir.lower import lower
from specc.spec import load_spec, parse_spec
from specc.spec.layers import LAYER_TYPES
from tools.golden import GOLDEN_DIR, example_specs, golden_code

# a .keras file holding only a config.json with the layers pixels, features and digit
KERAS_LAYER_NAMES = Path(__file__).parent / "invalid" / "data" / "small_backbone.keras"

ROOT = Path(__file__).resolve().parents[1]
SPECS = example_specs()
RUFF = [sys.executable, "-m", "ruff"]
# The project's rules (pyproject.toml), given explicitly so the check does not depend on where
# the generated files are written.
RUFF_RULES = ["--isolated", "--line-length", "100", "--target-version", "py310"]
LINT = [*RUFF, "check", *RUFF_RULES, "--select", "E,F,W,I,B,UP", "--output-format", "concise"]
FORMAT_CHECK = [*RUFF, "format", *RUFF_RULES, "--check", "--diff"]


def spec_id(path: Path) -> str:
    return path.stem


def lint(*paths: Path) -> None:
    """ruff check and ruff format --check on `paths`, with the project's rules."""
    for command in (LINT, FORMAT_CHECK):
        done = subprocess.run([*command, *map(str, paths)], capture_output=True, text=True)
        assert done.returncode == 0, f"{' '.join(command[2:4])} failed:\n{done.stdout}{done.stderr}"


def imported_modules(source: str) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module.split(".")[0])
    return modules


# --------------------------------------------------------------------------- golden files


def test_every_example_spec_has_golden_files() -> None:
    assert SPECS, "no example specs found in specs/"
    folders = {p.name for p in GOLDEN_DIR.iterdir() if p.is_dir()}
    names = {load_spec(p).spec.name for p in SPECS}
    assert folders == names, "run `python -m tools.golden` to regenerate tests/golden/"


@pytest.mark.parametrize("path", SPECS, ids=spec_id)
def test_generated_code_matches_golden(path: Path) -> None:
    loaded, code = golden_code(path)
    assert sorted(code.files) == sorted(FILES)
    for name, text in code.files.items():
        golden = GOLDEN_DIR / loaded.spec.name / name
        assert golden.is_file(), f"missing {golden}: run `python -m tools.golden`"
        assert text == golden.read_text(encoding="utf-8"), (
            f"generated {name} of {path.name} differs from {golden}; if the change is intended, "
            "run `python -m tools.golden` and review the diff"
        )


def test_generation_is_deterministic() -> None:
    first = [golden_code(p)[1].hash for p in SPECS]
    second = [golden_code(p)[1].hash for p in SPECS]
    assert first == second


# --------------------------------------------------------------------------- lint and imports


def test_golden_files_pass_ruff() -> None:
    lint(GOLDEN_DIR)


@pytest.fixture(scope="module")
def case_code(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The code of every layer and training case, in one folder per case."""
    root = tmp_path_factory.mktemp("cases")
    for case, (inputs, layers) in LAYER_CASES.items():
        folder = root / f"layer_{case}"
        folder.mkdir()
        # the spec checks read only the layer names of a .keras file (`output_layer`)
        shutil.copy(KERAS_LAYER_NAMES, folder / "backbone.keras")
        _, _, code = generate_case(spec_text(f"case_{case}", inputs, layers), folder)
        code.write(folder / "code")
    for case in TRAINING_CASES:
        _, _, code = _training_case(case, root / f"training_{case}")
        code.write(root / f"training_{case}" / "code")
    return root


def test_every_layer_type_has_a_case() -> None:
    covered = set()
    for _, layers in LAYER_CASES.values():
        covered.update(re.findall(r"type: (\w+)", " ".join(layers)))
    assert set(LAYER_TYPES) <= covered, sorted(set(LAYER_TYPES) - covered)


def test_case_code_passes_ruff(case_code: Path) -> None:
    codes = sorted(case_code.glob("*/code"))
    assert len(codes) == len(LAYER_CASES) + len(TRAINING_CASES)
    lint(*(p / name for p in codes for name in ("spec_model.py", "train.py")))


def test_long_names_stay_within_the_line_length(tmp_path: Path) -> None:
    name = "a_model_with_a_really_quite_long_name_that_goes_on_and_on_and_on"[:64]
    layers = [
        "{name: a_rather_long_layer_name_for_the_first_dense_layer, type: dense, units: 6, "
        "activation: gelu_tanh, regularizer: {l1: 0.001, l2: 0.002}, initializer: he_uniform, "
        "dropout: 0.25}",
        "{name: another_rather_long_layer_name_for_an_addition, type: add, "
        "inputs: [a_rather_long_layer_name_for_the_first_dense_layer, "
        "an_input_with_a_long_name_too]}",
    ]
    inputs = ["{name: an_input_with_a_long_name_too, shape: [6]}"]
    _, _, code = generate_case(spec_text(name, inputs, layers), tmp_path)
    code.write(tmp_path / "code")
    lint(tmp_path / "code" / "spec_model.py", tmp_path / "code" / "train.py")


@pytest.mark.parametrize("path", SPECS, ids=spec_id)
def test_generated_code_never_imports_specc(path: Path) -> None:
    _, code = golden_code(path)
    allowed = {
        "argparse", "csv", "math", "os", "sys", "time", "pathlib", "dataclasses", "collections",
        "keras", "numpy", "tensorflow", "sklearn", "spec_data", "spec_model",
    }  # fmt: skip
    for name, text in code.files.items():
        modules = imported_modules(text)
        assert "specc" not in modules, f"{name} imports specc"
        assert modules <= allowed, f"{name} imports {sorted(modules - allowed)}"


def test_generate_does_not_import_tensorflow() -> None:
    script = textwrap.dedent(
        """
        import sys
        from specc.codegen import generate
        from specc.ir.lower import lower
        from specc.spec import load_spec, parse_spec
        for path in sys.argv[1:]:
            loaded = load_spec(path)
            generate(loaded, lower(loaded.spec))
        heavy = ("tensorflow", "keras", "onnx", "onnxruntime")
        print(",".join(m for m in heavy if m in sys.modules))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script, *map(str, SPECS)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    assert done.stdout.strip() == "", f"generate imported {done.stdout.strip()}"


def test_write_is_complete_and_hash_covers_every_file(tmp_path: Path) -> None:
    _, code = golden_code(SPECS[0])
    written = code.write(tmp_path / "code")
    assert sorted(p.name for p in written) == sorted(FILES)
    for path in written:
        assert path.read_text(encoding="utf-8") == code.files[path.name]
    assert not [p for p in (tmp_path / "code").iterdir() if p.name not in FILES]
    changed = GeneratedCode({**code.files, "train.py": code.files["train.py"] + "\n"})
    assert changed.hash != code.hash and len(code.hash) == 64


# --------------------------------------------------------------------------- recipe resolution


def test_auto_loss_and_metrics_follow_the_task(tmp_path: Path) -> None:
    binary, _, _ = _training_case("rmsprop_exponential_binary_balanced", tmp_path / "b")
    assert resolve_loss(binary.spec) == "binary_crossentropy"
    assert resolve_metrics(binary.spec) == ["accuracy", "auc", "precision", "recall"]
    regression, _, _ = _training_case("adamw_one_cycle_regression_two_outputs", tmp_path / "r")
    assert resolve_loss(regression.spec) == "huber"
    assert resolve_metrics(regression.spec) == ["mae", "mse", "rmse"]
    seq2seq = load_spec(ROOT / "specs" / "addition_seq2seq.yaml")
    assert resolve_loss(seq2seq.spec) == "sparse_categorical_crossentropy"
    assert resolve_metrics(seq2seq.spec) == ["accuracy"]


def test_recipe_reaches_the_code(tmp_path: Path) -> None:
    _, _, code = _training_case("sgd_step_classweights", tmp_path)
    train = code.files["train.py"]
    assert "keras.optimizers.SGD(" in train and "nesterov=True" in train
    assert "momentum=0.5" in train and "clipvalue=0.5" in train
    assert "CLASS_WEIGHT = {0: 1.0, 1: 2.0, 2: 0.5}" in train
    assert "len(y_train)" in train  # batch_size: full
    assert "shuffle=False" in train
    assert 'loss="categorical_crossentropy"' in train and "one_hot(" in train


OLD_SCHEDULES = {  # the per-epoch callbacks these schedules were before (rate at 0-based epoch)
    "{type: step, every_epochs: 3, factor: 0.5}": lambda rate, epoch: rate * 0.5 ** (epoch // 3),
    "{type: exponential, decay_rate: 0.8}": lambda rate, epoch: rate * 0.8**epoch,
}


@pytest.mark.parametrize("schedule", sorted(OLD_SCHEDULES))
def test_keras_schedules_keep_the_per_epoch_rates(schedule: str, tmp_path: Path, keras_module):
    """step and exponential are Keras `ExponentialDecay` schedules now, counted in optimizer
    steps: every step of every epoch gets the rate the per-epoch callback gave that epoch."""
    training = f"{{optimizer: {{type: sgd, learning_rate: 0.1}}, schedule: {schedule}, epochs: 12}}"
    text = spec_text(
        "schedule", ["{name: x, shape: [4]}"], ["{type: dense, units: 1}"], training=training
    )
    _, _, code = generate_case(text, tmp_path)
    code.write(tmp_path / "code")
    assert "LearningRateScheduler" not in code.files["train.py"]
    steps_per_epoch = 7
    with generated_modules(tmp_path / "code") as modules:
        optimizer = modules["train"].make_optimizer(steps_per_epoch)
    for epoch in range(12):
        for step in (0, 1, steps_per_epoch - 1):
            optimizer.iterations.assign(epoch * steps_per_epoch + step)
            want = OLD_SCHEDULES[schedule](0.1, epoch)
            assert float(optimizer.learning_rate) == pytest.approx(want, rel=1e-6), (epoch, step)


# --------------------------------------------------------------------------- built models


def _training_case(case: str, folder: Path):
    c = TRAINING_CASES[case]
    options = {k: c[k] for k in ("task", "training", "split", "preprocessing") if k in c}
    text = spec_text(f"train_{case}", c["inputs"], c["layers"], **options)
    return generate_case(text, folder)


@pytest.fixture(scope="module")
def keras_module():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return pytest.importorskip("keras")


@pytest.mark.parametrize("path", SPECS, ids=spec_id)
def test_built_model_matches_the_ir(path: Path, tmp_path: Path, keras_module) -> None:
    loaded = load_spec(path)
    graph = lower(loaded.spec)
    generate(loaded, graph).write(tmp_path)
    module = import_file(tmp_path / "spec_model.py", f"golden_model_{loaded.spec.name}")
    float_inputs = [n for n in graph.inputs if n.output.dtype == "float32"]
    stats = {
        n.name: (np.zeros(n.output.shape[-1]), np.full(n.output.shape[-1], 4.0))
        for n in float_inputs
    }
    regression = loaded.spec.task.type == "regression"
    scaling = (np.array([1.0]), np.array([2.0])) if regression else None
    given = {"preprocessing": stats, "target_scaling": scaling}
    parameters = inspect.signature(module.build_model).parameters
    assert set(parameters) == {"preprocessing", "target_scaling"} & {
        *(["preprocessing"] if loaded.spec.data.preprocessing != "none" and float_inputs else []),
        *(["target_scaling"] if regression else []),
    }, "build_model takes exactly the parameters it uses"
    model = module.build_model(**{name: given[name] for name in parameters})

    assert model.name == loaded.spec.name
    assert model.count_params() == graph.params
    assert sum(int(np.prod(w.shape)) for w in model.trainable_weights) == graph.trainable_params
    assert [t.name for t in model.inputs] == [n.name for n in graph.inputs]
    outputs = model.outputs if isinstance(model.outputs, list) else [model.outputs]
    assert [tuple(o.shape[1:]) for o in outputs] == [
        graph.node(n).output.shape for n in graph.outputs
    ]
    names = {layer.name for layer in model.layers}
    for node in graph.nodes:  # a transformer block is several layers named after it
        block = node.op.startswith("transformer_")
        assert any(n.startswith(f"{node.name}_") for n in names) if block else node.name in names
    if float_inputs and loaded.spec.data.preprocessing != "none":
        assert {f"{n.name}_normalization" for n in float_inputs} <= names
    if regression:
        assert {f"{n}_rescaling" for n in graph.outputs} <= names


# --------------------------------------------------------------------------- training runs

RUN_TRAIN = """
import json, sys
sys.path.insert(0, sys.argv[1])
import train
result = train.train(sys.argv[2], verbose=0)
x_train, _ = result["data"].train
print(json.dumps({
    "keys": sorted(result),
    "metrics": result["metrics"],
    "history": result["history"],
    "epochs_run": result["epochs_run"],
    "train_seconds": result["train_seconds"],
    "model_inputs": [t.name for t in result["model"].inputs],
    "layers": [layer.name for layer in result["model"].layers],
    "learning_rate": float(result["model"].optimizer.learning_rate),
}))
"""


def _write_case_data(case: str, folder: Path) -> None:
    rng = np.random.default_rng(0)
    arrays = TRAINING_CASES[case]["arrays"]
    x = rng.normal(size=arrays["x"]).astype(np.float32)
    n = len(x)
    score = x.reshape(n, -1)[:, :3]
    if arrays["y"] == "binary":
        y = (score[:, :1] > 0).astype(np.float32)
    elif str(arrays["y"]).startswith("classes:"):
        y = np.argmax(score[:, : int(arrays["y"].split(":")[1])], axis=1).astype(np.int32)
    else:
        y = (score[:, : arrays["y"][1]] * 10 + 5).astype(np.float32)
    np.savez(folder / "data.npz", x=x, y=y)


def _run_training(case: str, folder: Path) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    _write_case_data(case, folder)
    _, graph, code = _training_case(case, folder)
    code.write(folder / "code")
    done = subprocess.run(
        [sys.executable, "-c", RUN_TRAIN, str(folder / "code"), str(folder / "out")],
        capture_output=True,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(TRAINING_CASES))
def test_generated_training_runs(case: str, tmp_path: Path) -> None:
    result = _run_training(case, tmp_path)
    assert result["keys"] == sorted(
        ["model", "data", "history", "metrics", "epochs_run", "train_seconds"]
    )
    epochs = result["epochs_run"]
    assert 1 <= epochs <= 3 and result["train_seconds"] > 0
    assert all(len(values) == epochs for values in result["history"].values())
    task = TRAINING_CASES[case]["task"]
    expected = (
        {"loss", "mae", "mse", "rmse", "r2"} if "regression" in task else {"loss", "accuracy"}
    )
    for split, values in result["metrics"].items():
        if split == "validation" and "validation: 0.0" in TRAINING_CASES[case].get("split", ""):
            assert values == {}
            continue
        assert expected <= set(values), (split, values)
        assert all(np.isfinite(v) for v in values.values())
    assert not [n for n in result["layers"] if "augment" in n or n.startswith("random_")]
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == ["history.csv", "model.keras"]
    rows = (out / "history.csv").read_text().splitlines()
    assert rows[0].split(",")[0] == "epoch" and len(rows) == epochs + 1


@pytest.mark.slow
def test_schedule_and_class_weights_take_effect(tmp_path: Path) -> None:
    # step: 0.01 halved every epoch of one full batch; two epochs = two optimizer steps done
    result = _run_training("sgd_step_classweights", tmp_path)
    assert result["learning_rate"] == pytest.approx(0.01 * 0.5**2)
    # exponential: 1e-3 halved every epoch of 3 batches (20 examples of 8); after two epochs
    result = _run_training("rmsprop_exponential_binary_balanced", tmp_path / "binary")
    assert result["learning_rate"] == pytest.approx(1e-3 * 0.5**2)
    assert {"auc", "precision", "recall"} <= set(result["metrics"]["test"])


@pytest.mark.slow
@pytest.mark.parametrize(
    "case", ["rmsprop_exponential_binary_balanced", "adam_cyclical_augmented_images_no_validation"]
)
def test_two_runs_give_the_same_metrics(case: str, tmp_path: Path) -> None:
    first = _run_training(case, tmp_path / "first")
    second = _run_training(case, tmp_path / "second")
    assert first["metrics"] == second["metrics"]
    assert first["history"] == second["history"]


def test_the_longest_spec_name_still_passes_ruff(tmp_path: Path) -> None:
    """Names of up to 64 characters (the schema's bound) keep every generated line within 100."""
    name = "n" * 64
    for spec in ("digits_cnn", "breast_cancer_mlp", "addition_seq2seq"):
        text = (ROOT / "specs" / f"{spec}.yaml").read_text()
        text = re.sub(r"^name: .*$", f"name: {name}", text, count=1, flags=re.M)
        loaded = parse_spec(text, ROOT / "specs" / f"{spec}.yaml")
        code = generate(loaded, lower(loaded.spec))
        code.write(tmp_path / spec)
        lint(tmp_path / spec)
