"""Sequence-to-sequence end to end: a model without a decoder input, the synthetic addition
options of the Keras example, greedy decoding in the runtime (`specc.load(...).predict` and
`specc predict`), and the build's check of decoded sequences."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from test_codegen_data import generate, spec_from_text

from specc.cli import cli
from specc.codegen import generate as generate_code
from specc.ir.lower import lower
from specc.runtime import load
from specc.runtime.errors import ModelLoadError, PredictorInputError
from specc.spec import SpecErrors
from specc.spec.tasks import decoder_input

ROOT = Path(__file__).resolve().parents[1]

ADDITION = """
    specc: 1
    name: {name}
    seed: 3
    task: {{type: seq2seq, vocab_size: 13}}
    data: {{type: builtin, dataset: "synthetic:{dataset}", samples: {samples}, {options}}}
    model:
      inputs:
        - {{name: encoder_input, shape: [{question}], dtype: int32}}
{decoder}
      layers:
        - {{type: one_hot, num_tokens: 13, inputs: [encoder_input]}}
        - {{name: enc, type: simple_rnn, units: 8}}
        - {{type: repeat_vector, n: {answer}}}
        - {{type: simple_rnn, units: 8, return_sequences: true}}
        - {{type: dense, units: 13}}
"""


def addition(samples: int, options: str, *, digits: int = 3, decoder: bool = False, name="a"):
    """A RepeatVector-style addition spec (with an unread decoder input when `decoder`)."""
    line = f"        - {{name: decoder_input, shape: [{digits + 1}], dtype: int32}}"
    return spec_from_text(
        ADDITION.format(
            name=name,
            dataset="addition",
            samples=samples,
            options=f"digits: {digits}, {options}".rstrip(", "),
            question=2 * digits + 1,
            answer=digits + 1,
            decoder=line if decoder else "",
        )
    )


def questions(module, x) -> list[tuple[int, int]]:
    """The operands of every question, read back from its text."""
    texts = [module.decode(q) for q in x["encoder_input"]]
    return [tuple(int(v) for v in t.strip().split("+")) for t in texts]


# --------------------------------------------------------------------------- spec and data


def test_a_model_without_decoder_input_validates_and_gets_the_source_alone(tmp_path):
    loaded = addition(200, "")
    assert decoder_input(loaded.spec) is None
    module = generate(loaded, tmp_path)
    x, y = module.load_examples()
    assert list(x) == ["encoder_input"] and y.shape == (200, 4)
    code = generate_code(loaded, lower(loaded.spec))
    train = code.files["train.py"]
    assert "DECODER_INPUT" not in train and "def greedy_decode(model, x):" in train
    assert "model.predict(x, verbose=0).argmax(axis=-1)" in train


def test_a_teacher_forced_model_names_its_decoder_input():
    assert decoder_input(addition(200, "", decoder=True).spec) == "decoder_input"


def test_a_declared_decoder_input_that_no_layer_reads_is_a_warning():
    assert addition(200, "").warnings == ()
    (warning,) = addition(200, "", decoder=True).warnings  # the layers read encoder_input only
    assert warning.path == ("model", "inputs", 1)
    assert "read by no layer" in warning.message and "source alone" in warning.hint


def test_random_length_draws_each_operand_length_alike(tmp_path):
    plain = generate(addition(3000, "", name="plain"), tmp_path)
    drawn = generate(addition(3000, "random_length: true", name="drawn"), tmp_path)
    for module in (plain, drawn):
        x, y = module.load_examples()
        pairs = questions(module, x)
        for (a, b), answer in zip(pairs, y, strict=True):
            assert a < 1000 and b < 1000 and int(module.decode(answer)) == a + b
    x, _ = drawn.load_examples()
    pairs = questions(drawn, x)
    lengths = np.array([len(str(v)) for pair in pairs for v in pair])
    # each length is drawn with probability 1/3 (a 3-digit draw can still be short, 10%)
    assert set(lengths) == {1, 2, 3} and np.mean(lengths < 3) > 0.4
    x_plain, _ = plain.load_examples()
    plain_lengths = np.array([len(str(v)) for pair in questions(plain, x_plain) for v in pair])
    assert np.mean(plain_lengths < 3) < 0.15  # uniform below 1000: 10% are short
    unordered = {tuple(sorted(pair)) for pair in pairs}
    assert len(unordered) == len(pairs)  # a+b and b+a never both: no mirror in two splits


def test_reverse_question_reads_the_padded_question_backwards(tmp_path):
    forward = generate(addition(500, "random_length: true", name="fwd"), tmp_path)
    backward = generate(
        addition(500, "random_length: true, reverse_question: true", name="bwd"), tmp_path
    )
    x_fwd, y_fwd = forward.load_examples()
    x_bwd, y_bwd = backward.load_examples()
    np.testing.assert_array_equal(x_bwd["encoder_input"], x_fwd["encoder_input"][:, ::-1])
    np.testing.assert_array_equal(y_bwd, y_fwd)
    text = forward.decode(x_fwd["encoder_input"][0])
    assert backward.decode(x_bwd["encoder_input"][0]) == text[::-1]  # "12+345 " -> " 543+21"
    source = (tmp_path / "data_bwd.py").read_text()
    assert "data.reverse_question" in source and "[::-1]" in source
    assert "def random_operand(rng: np.random.Generator) -> int:" in source


@pytest.mark.parametrize(
    ("options", "path", "phrase"),
    [
        ("length: 3, reverse_question: true", ("data", "reverse_question"), "does not apply"),
        ("length: 3, random_length: true", ("data", "random_length"), "does not apply"),
    ],
)
def test_addition_options_are_refused_for_reverse(options, path, phrase):
    text = ADDITION.format(
        name="r",
        dataset="reverse",
        samples=100,
        options=options,
        question=3,
        answer=3,
        decoder="",
    )
    with pytest.raises(SpecErrors) as caught:
        spec_from_text(text)
    (error,) = caught.value.errors
    assert error.path == path and phrase in error.message


def test_random_length_caps_samples_at_half_the_distinct_questions():
    distinct = 10 * 11 // 2  # one-digit operands, a+b and b+a once
    addition(distinct // 2, "random_length: true", digits=1)
    with pytest.raises(SpecErrors) as caught:
        addition(distinct // 2 + 1, "random_length: true", digits=1)
    (error,) = caught.value.errors
    assert error.path == ("data", "samples") and f"only {distinct // 2}" in error.message


# --------------------------------------------------------------------------- runtime decoding

VOCAB = "0123456789+ ="


def _stepper(path: Path, metadata: dict[str, str], vocab: int = 13, steps: int = 3) -> Path:
    """A hand-built teacher-forced model (no training): at step t the likeliest next token is
    (source[t] + decoder_input[t]) % vocab, so greedy decoding feeds each token into the next."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes = [
        helper.make_node("Add", ["source", "decoder_input"], ["sum"]),
        helper.make_node("Mod", ["sum", "vocab"], ["token"]),
        helper.make_node("Gather", ["table", "token"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["next_token"], axis=-1),
    ]
    inits = [
        numpy_helper.from_array(np.array(vocab, dtype=np.int32), "vocab"),
        numpy_helper.from_array((10 * np.eye(vocab)).astype(np.float32), "table"),
    ]
    inputs = [
        helper.make_tensor_value_info(name, TensorProto.INT32, ["n", steps])
        for name in ("source", "decoder_input")
    ]
    outputs = [helper.make_tensor_value_info("next_token", TensorProto.FLOAT, ["n", steps, vocab])]
    graph = helper.make_graph(nodes, "stepper", inputs, outputs, initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    meta = {"specc.task": "seq2seq", "specc.class_names": json.dumps(list(VOCAB)), **metadata}
    for key, value in meta.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def _expected(source: np.ndarray, start: np.ndarray | int, vocab: int = 13) -> np.ndarray:
    previous = np.broadcast_to(start, source.shape[:1]).astype(np.int64)
    tokens = np.zeros(source.shape, dtype=np.int64)
    for t in range(source.shape[1]):
        tokens[:, t] = (source[:, t] + previous) % vocab
        previous = tokens[:, t]
    return tokens


def test_predict_decodes_greedily_from_the_source_alone(tmp_path):
    model = load(
        _stepper(
            tmp_path / "m.onnx", {"specc.decoder_input": "decoder_input", "specc.start_token": "12"}
        ),
        "cpu",
    )
    assert model.feed_names == ("source",) and model.decoding.steps == 3
    source = np.array([[1, 2, 3], [0, 0, 0], [9, 9, 9]], dtype=np.int32)
    expected = _expected(source, 12)
    prediction = model.predict(source)
    np.testing.assert_array_equal(prediction.label_indices, expected)
    assert prediction.labels == ["".join(VOCAB[t] for t in row) for row in expected]
    # one run with the start token and zeros after it would not feed the tokens back
    start_only = np.zeros_like(source)
    start_only[:, 0] = 12
    single = model.run({"source": source, "decoder_input": start_only})
    assert not np.array_equal(single["next_token"].argmax(-1), expected)
    assert model.predict({"source": source}).labels == prediction.labels


def test_predict_without_a_start_token_reads_it_from_the_decoder_input(tmp_path):
    path = _stepper(tmp_path / "m.onnx", {"specc.decoder_input": "decoder_input"})
    model = load(path, "cpu")
    source = np.array([[1, 2, 3], [4, 5, 6]], dtype=np.int32)
    with pytest.raises(PredictorInputError, match="records no start token"):
        model.predict(source)
    starts = np.array([[7, 0, 0], [2, 0, 0]], dtype=np.int32)
    got = model.predict({"source": source, "decoder_input": starts}).label_indices
    np.testing.assert_array_equal(got, _expected(source, starts[:, 0]))


def test_specc_predict_prints_decoded_strings(tmp_path):
    path = _stepper(
        tmp_path / "m.onnx", {"specc.decoder_input": "decoder_input", "specc.start_token": "12"}
    )
    source = np.array([[1, 2, 3], [4, 5, 6]], dtype=np.int32)
    np.save(tmp_path / "in.npy", source)
    result = CliRunner().invoke(cli, ["predict", str(path), str(tmp_path / "in.npy")])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    expected = _expected(source, 12)
    assert [r["text"] for r in rows] == ["".join(VOCAB[t] for t in row) for row in expected]
    bad = tmp_path / "wide.npy"
    np.save(bad, np.zeros((2, 5), dtype=np.int32))
    result = CliRunner().invoke(cli, ["predict", str(path), str(bad)])
    assert result.exit_code == 2 and "expects shape (batch, 3)" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("start", "phrase"), [("abc", "is not a token id"), ("13", "not a token of the model's 13")]
)
def test_a_start_token_that_is_no_token_is_refused_at_load(tmp_path, start, phrase):
    meta = {"specc.decoder_input": "decoder_input", "specc.start_token": start}
    path = _stepper(tmp_path / "m.onnx", meta)
    with pytest.raises((ModelLoadError, ValueError), match=phrase):
        load(path, "cpu")
    np.save(tmp_path / "in.npy", np.zeros((1, 3), dtype=np.int32))
    result = CliRunner().invoke(cli, ["predict", str(path), str(tmp_path / "in.npy")])
    assert result.exit_code == 2 and phrase in result.output and "Traceback" not in result.output


# --------------------------------------------------------------------------- tiny builds

TINY = """
specc: 1
name: {name}
seed: 5
task: {{type: seq2seq, vocab_size: 13}}
data:
  type: builtin
  dataset: synthetic:reverse
  samples: 300
  length: 3
  split: {{validation: 0.1, test: 0.1}}
  preprocessing: none
model:
  inputs:
    - {{name: encoder_input, shape: [3], dtype: int32}}
{decoder}
  layers:
    - {{name: digits, type: one_hot, num_tokens: 13, inputs: [encoder_input]}}
    - {{name: encoder, type: simple_rnn, units: 16}}
    - {{name: context, type: repeat_vector, n: 3}}
{reads}
    - {{name: decoder, type: simple_rnn, units: 16, return_sequences: true}}
    - {{name: next_token, type: dense, units: 13}}
training:
  optimizer: {{type: adam, learning_rate: 0.01}}
  batch_size: 64
  epochs: 2
"""


def _tiny_build(folder: Path, teacher_forced: bool) -> Path:
    from specc.builder import build

    decoder = "    - {name: decoder_input, shape: [3], dtype: int32}" if teacher_forced else ""
    reads = (
        "    - {name: previous, type: one_hot, num_tokens: 13, inputs: [decoder_input]}\n"
        "    - {name: reads, type: concatenate, inputs: [context, previous]}"
        if teacher_forced
        else ""
    )
    name = "forced" if teacher_forced else "repeated"
    path = folder / f"{name}.yaml"
    path.write_text(TINY.format(name=name, decoder=decoder, reads=reads), encoding="utf-8")
    return build(path, folder / name).output_dir


@pytest.mark.slow
@pytest.mark.parametrize("teacher_forced", [False, True], ids=["repeat_vector", "teacher_forced"])
def test_tiny_build_decodes_the_test_split_like_keras(tmp_path, teacher_forced):
    """The build checks decoded sequences (all identical, counted); the ONNX model of a model
    without decoder input takes the source alone; `specc predict` on the build folder prints
    the strings the generated greedy_decode gives with the saved Keras model."""
    import keras
    import onnx

    from specc.codegen.loader import generated_modules

    out = _tiny_build(tmp_path, teacher_forced)
    metrics = json.loads((out / "metrics.json").read_text())
    test = np.load(out / "test_data.npz")
    n = len(test["y"])
    assert metrics["parity"]["decoded"]["sequences"] == n == metrics["data"]["test"]
    assert metrics["parity"]["decoded"]["identical"] == n
    assert f"{n} of {n} sequences identical" in (out / "report.md").read_text()
    graph_inputs = [i.name for i in onnx.load(out / "model.onnx").graph.input]
    assert graph_inputs == (
        ["encoder_input", "decoder_input"] if teacher_forced else ["encoder_input"]
    )

    np.save(tmp_path / "source.npy", test["encoder_input"])
    result = CliRunner().invoke(cli, ["predict", str(out), str(tmp_path / "source.npy")])
    assert result.exit_code == 0, result.output
    printed = [row["text"] for row in csv.DictReader(io.StringIO(result.stdout))]
    with generated_modules(out / "code") as modules:
        model = keras.saving.load_model(out / "model.keras")
        x = {k: test[k] for k in test.files if k != "y"}
        tokens = modules["train"].greedy_decode(model, x)
        expected = [modules["data"].decode(row) for row in tokens]
    assert printed == expected
