"""The `distill` pass: the generated distillation loss against the textbook formula, real builds
of a tiny teacher/student pair (the ONNX model is the student alone, every exported model agrees
with Keras and passes the ONNX checker, the report and metrics sections), the teacher reused
between builds, `--compare`, and a `.keras` teacher.

The generated code comes from the spec (`specc.codegen`), so what is tested is what a build runs.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from specc.codegen import generate
from specc.codegen.loader import generated_modules
from specc.pipeline import compile_spec

ROOT = Path(__file__).resolve().parents[1]

TEACHER = """\
specc: 1
name: iris_teacher
seed: 3
task: {type: multiclass, classes: 3}
data: {type: builtin, dataset: "sklearn:iris"}
model:
  inputs:
    - {name: features, shape: [4]}
  layers:
    - {type: dense, units: 64}
    - {type: dense, units: 3}
training: {optimizer: {type: adam, learning_rate: 0.01}, batch_size: 16, epochs: 15}
"""

STUDENT = """\
specc: 1
name: iris_student
seed: 3
task: {type: multiclass, classes: 3}
data: {type: builtin, dataset: "sklearn:iris"}
model:
  inputs:
    - {name: features, shape: [4]}
  layers:
    - {type: dense, units: 4}
    - {type: dense, units: 3}
training: {optimizer: {type: adam, learning_rate: 0.01}, batch_size: 16, epochs: 8}
passes:
  - distill: {teacher: TEACHER, temperature: 3.0, alpha: 0.25}
"""


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _write_pair(folder: Path, teacher: str = "iris_teacher.yaml") -> Path:
    (folder / "iris_teacher.yaml").write_text(TEACHER)
    student = folder / "iris_student.yaml"
    student.write_text(STUDENT.replace("TEACHER", teacher))
    return student


def test_distillation_loss_is_the_textbook_kd_loss(tmp_path: Path) -> None:
    """The generated Distiller's loss on a fixed batch equals
    alpha * CE(y, p_s) + (1 - alpha) * T^2 * KL(softmax(z_t / T) || softmax(z_s / T))."""
    import keras

    compiled = compile_spec(_write_pair(tmp_path))
    code = generate(compiled.loaded, compiled.graph)
    code.write(tmp_path / "code")
    rng = np.random.default_rng(0)

    def softmax_model(seed: int, width: int) -> keras.Model:
        keras.utils.set_random_seed(seed)
        x = keras.Input((4,), name="features")
        hidden = keras.layers.Dense(width, activation="tanh")(x)
        return keras.Model(x, keras.layers.Dense(3, activation="softmax")(hidden))

    teacher, student = softmax_model(1, 16), softmax_model(2, 4)
    teacher.save(tmp_path / "teacher.keras")
    x = {"features": rng.normal(size=(8, 4)).astype("float32") * 3}
    y = rng.integers(0, 3, size=8)
    with generated_modules(tmp_path / "code", expect_hash=code.hash) as modules:
        train = modules["train"]
        distiller = train.make_distiller(student, tmp_path)
        loss = float(distiller.compute_loss(x=x, y=y, y_pred=distiller(x), training=False))
        temperature, alpha = train.TEMPERATURE, train.ALPHA
    assert (temperature, alpha) == (3.0, 0.25)
    p_t = teacher.predict(x, verbose=0).astype(np.float64)
    p_s = student.predict(x, verbose=0).astype(np.float64)
    ce = -np.mean(np.log(p_s[np.arange(8), y]))
    # the textbook form on logits: any z with softmax(z) = p, here log p plus a shift
    z_t, z_s = np.log(p_t) + 1.7, np.log(p_s) - 0.3
    q_t, q_s = _softmax(z_t / temperature), _softmax(z_s / temperature)
    kl = np.mean(np.sum(q_t * np.log(q_t / q_s), axis=-1))
    expected = alpha * ce + (1 - alpha) * temperature**2 * kl
    assert kl > 1e-3  # the two models disagree: the distillation term is not trivially zero
    assert loss == pytest.approx(expected, rel=1e-4)


def test_generated_train_shows_the_distillation_step(tmp_path: Path) -> None:
    compiled = compile_spec(_write_pair(tmp_path))
    train = generate(compiled.loaded, compiled.graph).files["train.py"]
    assert 'TEACHER_FILE = "teacher.keras"' in train
    assert "keras.saving.load_model(folder / TEACHER_FILE, compile=False, safe_mode=True)" in train
    assert "keras.distillation.Distiller(" in train
    assert "student_loss_weight=ALPHA" in train
    assert "history = distiller.fit(" in train
    assert "import specc" not in train and "from specc" not in train


# --------------------------------------------------------------------------- real builds


@pytest.fixture(scope="module")
def pair(tmp_path_factory) -> dict:
    """A tiny teacher/student pair built twice (the second time with --compare)."""
    from specc.builder import build

    root = tmp_path_factory.mktemp("distill")
    student = _write_pair(root)
    first = build(student, root / "out" / "iris_student")
    first_report = (first.output_dir / "report.md").read_text()
    teacher_dir = root / "out" / "iris_teacher"
    built_at = json.loads((teacher_dir / "metrics.json").read_text())["built_at"]
    again = build(student, root / "out" / "iris_student")
    compared = build(student, root / "out" / "iris_student", compare=True)
    return {
        "root": root,
        "first": first,
        "first_report": first_report,
        "again": again,
        "compared": compared,
        "teacher_dir": teacher_dir,
        "teacher_built_at": built_at,
    }


def _parity(keras_file: Path, onnx_file: Path, x: dict) -> None:
    import keras
    import onnx

    from specc.export import verify_parity

    onnx.checker.check_model(onnx.load(str(onnx_file)), full_check=True)
    model = keras.saving.load_model(keras_file, compile=False)
    assert verify_parity(model, onnx_file, x, atol=1e-4).passed


@pytest.mark.slow
def test_the_onnx_model_is_the_student_alone(pair) -> None:
    from specc.passes.measure import weight_counts

    out = pair["compared"].output_dir
    weights, _ = weight_counts(out / "model.onnx")
    # the student's parameters, and the standardisation's mean and variance of its 4 features
    student = compile_spec(pair["root"] / "iris_student.yaml").graph.params
    assert weights == student + 2 * 4
    assert weights == weight_counts(out / "baseline" / "model.onnx")[0]
    assert weights * 10 < weight_counts(out / "teacher.onnx")[0]
    with np.load(out / "test_data.npz") as data:
        x = {"features": data["features"]}
    _parity(out / "model.keras", out / "model.onnx", x)
    _parity(out / "teacher.keras", out / "teacher.onnx", x)
    _parity(out / "baseline" / "model.keras", out / "baseline" / "model.onnx", x)


@pytest.mark.slow
def test_report_and_metrics_have_the_distillation_section(pair) -> None:
    first, compared = pair["first"], pair["compared"]
    report = pair["first_report"]  # the folder now holds the build with --compare
    assert "## Distillation" in report and "`specc build --compare`" in report
    section = first.metrics["passes"]["distill"]
    assert section["scratch"] is None and section["helped"] is None
    assert section["teacher"]["same_split"] is True and "another data split" not in report
    assert section["temperature"] == 3.0 and section["alpha"] == 0.25
    section = compared.metrics["passes"]["distill"]
    gain = section["student"]["test"]["accuracy"] - section["scratch"]["test"]["accuracy"]
    assert section["gain"] == pytest.approx(gain)
    report = (compared.output_dir / "report.md").read_text()
    verdict = "Distillation helped" if gain > 0 else "Distillation did not help"
    assert verdict in report
    rows = [s["name"] for s in compared.metrics["stages"]]
    assert rows == ["teacher", "trained without passes", "float model (distill)"]


@pytest.mark.slow
def test_teacher_is_reused_and_compare_enters_the_up_to_date_decision(pair) -> None:
    teacher_dir = pair["teacher_dir"]
    assert (
        json.loads((teacher_dir / "metrics.json").read_text())["built_at"]
        == pair["teacher_built_at"]
    )
    assert pair["again"].up_to_date  # same spec, code and teacher
    assert not pair["compared"].up_to_date  # no baseline yet
    assert (pair["compared"].output_dir / "baseline" / "metrics.json").is_file()


@pytest.mark.slow
def test_a_keras_file_teacher(pair) -> None:
    from specc.builder import build

    root = pair["root"]
    student = root / "from_file.yaml"
    student.write_text(STUDENT.replace("TEACHER", "out/iris_teacher/model.keras"))
    result = build(student, root / "out" / "from_file")
    out = result.output_dir
    section = result.metrics["passes"]["distill"]
    assert section["teacher"]["kind"] == "keras"
    assert section["teacher"]["params"] > section["student"]["weights"]
    with np.load(out / "test_data.npz") as data:
        x = {"features": data["features"]}
    _parity(out / "teacher.keras", out / "teacher.onnx", x)
    _parity(out / "model.keras", out / "model.onnx", x)


def test_cli_build_refuses_a_bad_teacher_with_a_located_error(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from specc.cli import cli

    spec = tmp_path / "s.yaml"
    spec.write_text(STUDENT.replace("TEACHER", "missing.keras"))
    result = CliRunner().invoke(cli, ["build", str(spec), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "passes[0].distill.teacher: file not found" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_teacher_named_like_the_student_is_refused(tmp_path: Path) -> None:
    from specc.spec import SpecErrors, load_spec

    (tmp_path / "t.yaml").write_text(TEACHER.replace("iris_teacher", "iris_student"))
    spec = tmp_path / "s.yaml"
    spec.write_text(STUDENT.replace("TEACHER", "t.yaml"))
    with pytest.raises(SpecErrors) as caught:
        load_spec(spec)
    assert "same name" in str(caught.value)
