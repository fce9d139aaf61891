"""The spec (version 1): task, data, model, training, passes, export, as frozen pydantic models."""

from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from .base import Name, PositiveInt, SpecModel
from .datasets import BUILTIN_DATASETS
from .layers import Layer
from .passes import Export, PassEntry
from .training import Training

# --------------------------------------------------------------------------- task


class RegressionTask(SpecModel):
    """Predict one or more real numbers. Default loss: mean squared error; output: linear."""

    type: Literal["regression"]
    outputs: PositiveInt = 1
    """Number of predicted values."""
    target_names: list[str] | None = None
    """Optional names of the predicted values."""


class BinaryTask(SpecModel):
    """Two classes, one sigmoid output. Default loss: binary cross-entropy."""

    type: Literal["binary"]
    class_names: list[str] | None = Field(default=None, min_length=2, max_length=2)
    """Names of class 0 and class 1."""
    threshold: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.5
    """Probability above which the positive class is predicted."""


class MulticlassTask(SpecModel):
    """One of N classes, softmax output. Default loss: sparse categorical cross-entropy
    (integer labels)."""

    type: Literal["multiclass"]
    classes: Annotated[int, Field(ge=2)]
    """Number of classes."""
    class_names: list[str] | None = None
    """Names of the classes, in label order."""


class MultilabelTask(SpecModel):
    """Any subset of N labels, one sigmoid per label. Default loss: binary cross-entropy."""

    type: Literal["multilabel"]
    labels: Annotated[int, Field(ge=1)]
    """Number of labels."""
    label_names: list[str] | None = None
    """Names of the labels."""
    threshold: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.5
    """Probability above which a label is predicted."""


class Seq2SeqTask(SpecModel):
    """Map a token sequence to a token sequence; softmax over the target vocabulary at every
    step. Default loss: sparse categorical cross-entropy."""

    type: Literal["seq2seq"]
    vocab_size: Annotated[int, Field(ge=2)]
    """Size of the target vocabulary (softmax width)."""


Task = Annotated[
    RegressionTask | BinaryTask | MulticlassTask | MultilabelTask | Seq2SeqTask,
    Field(discriminator="type"),
]

# --------------------------------------------------------------------------- data


class Split(SpecModel):
    """How examples are divided; the test split is held out until the end."""

    validation: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.15
    """Fraction used for validation (early stopping, learning curves); with a given test split
    (`data.test`), a fraction of the training file's examples."""
    test: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.15
    """Fraction held out for the final, honest metrics; 0 (or absent) when `data.test` gives the
    test split, and only then."""
    stratify: bool = True
    """Keep class proportions equal across splits (classification tasks)."""
    shuffle: bool = True
    """Shuffle before splitting (seeded)."""

    @model_validator(mode="after")
    def _fractions_leave_training_data(self) -> "Split":
        if self.validation + self.test >= 0.9:
            raise ValueError(
                f"validation + test must leave at least 10% for training, got "
                f"{self.validation} + {self.test}"
            )
        return self


class _DataBase(SpecModel):
    split: Split = Split.model_construct()
    """Train/validation/test split."""
    preprocessing: Literal["standardize", "minmax", "none"] = "standardize"
    """Input scaling, fitted on the training split only and built into the model."""


class BuiltinData(_DataBase):
    """A dataset that ships with a package or is generated (works offline)."""

    type: Literal["builtin"]
    dataset: Literal[BUILTIN_DATASETS]  # the names in `specc.spec.datasets`
    """Which dataset."""
    samples: PositiveInt = 10000
    """Number of generated examples (synthetic datasets only), at most the number of distinct
    examples: `10**(2 * digits)` additions (with `random_length`, where `a+b` and `b+a` count
    once, half of the `10**digits * (10**digits + 1) / 2` distinct questions), `10**length`
    reverse strings."""
    digits: Annotated[int, Field(ge=1, le=6)] = 3
    """Largest operand width (digits) for `synthetic:addition`."""
    length: Annotated[int, Field(ge=2, le=64)] = 8
    """Sequence length for `synthetic:reverse`."""
    random_length: bool = False
    """`synthetic:addition`: draw each operand's number of digits uniformly from 1..`digits`, then
    its digits (as the Keras addition example does), rather than the operands uniformly below
    `10**digits` (where most have `digits` digits)."""
    reverse_question: bool = False
    """`synthetic:addition`: the padded question read backwards (`"12+345 "` becomes
    `" 543+21"`), as the Keras addition example does: the last digits come first, closer to
    where the answer starts."""
    classes: list[Annotated[int, Field(ge=0)]] | None = Field(default=None, min_length=2)
    """A subset of a multiclass dataset's classes, by label (`[5, 6, 7, 8, 9]`): only their
    examples are kept, relabelled 0..k-1 in this order (`task.classes` is k; the class names
    follow the dataset's, e.g. `5`..`9`, unless `task.class_names` gives others)."""
    limit_per_class: PositiveInt | None = None
    """Keep only the first N training examples of each class (few-shot and transfer learning);
    the validation and test splits keep every example, so their metrics stay honest."""


def _given_test_holds_out_nothing(data: Any) -> Any:
    """With a given test split (`test:`) and no `split.test`, the test fraction is 0."""
    if isinstance(data, dict) and data.get("test") is not None:
        split = data.get("split", {})
        if isinstance(split, dict) and "test" not in split:
            data = {**data, "split": {**split, "test": 0.0}}
    return data


class CsvTest(SpecModel):
    """A given test split: a second CSV file with the same columns."""

    path: str = Field(min_length=1)
    """Path of the test file, relative to the spec file; its header names the same feature and
    target columns as `data.path` (same delimiter and missing-value policy)."""


class NpzTest(SpecModel):
    """A given test split of an npz source: arrays of the training archive or another one."""

    path: str | None = Field(default=None, min_length=1)
    """Archive of the test split, relative to the spec file; default: the training archive
    (`data.path`). From another archive the test split reads the arrays of the same names as
    training; from the training archive it reads, for each array `NAME`, `NAME` with a trailing
    `_train` replaced by `_test`, else `NAME_test` (`x_train`, `y_train` -> `x_test`, `y_test`, as
    in `keras.datasets` archives; `x`, `y` -> `x_test`, `y_test`)."""


class CsvData(_DataBase):
    """A CSV file with a header row."""

    type: Literal["csv"]
    path: str = Field(min_length=1)
    """Path of the file, relative to the spec file."""
    features: list[str] | None = None
    """Feature columns; default: every column but the targets."""
    target: str | list[str]
    """Target column(s)."""
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    """Field separator."""
    missing: Literal["error", "drop", "impute_mean"] = "error"
    """Missing values (empty cells, `nan`, `inf`): `error` stops at load, naming each column, its
    count and first rows; `drop` drops the rows holding one and prints how many; `impute_mean`
    fills in a feature with its mean over the training split (a missing target stays an error)."""
    test: CsvTest | None = None
    """A given test split (`{path: test.csv}`): the test metrics come from that file, every row
    of `data.path` is for training and validation (`split.validation` of them), and
    `split.test` must be 0 or absent."""

    _no_test_fraction = model_validator(mode="before")(_given_test_holds_out_nothing)


class NpzData(_DataBase):
    """A NumPy `.npz` archive of named arrays."""

    type: Literal["npz"]
    path: str = Field(min_length=1)
    """Path of the archive, relative to the spec file."""
    target: str = "y"
    """Name of the target array."""
    missing: Literal["error", "drop", "impute_mean"] = "error"
    """Missing values (NaN or inf in a float array): `error` stops at load, naming each array, its
    count and first rows; `drop` drops the rows holding one and prints how many; `impute_mean`
    fills in a feature with its mean over the training split (a missing target stays an error)."""
    test: NpzTest | None = None
    """A given test split (`{}` for `x_test`/`y_test` beside `x`/`y` or `x_train`/`y_train` in
    `data.path`, `{path: test.npz}` for another archive): the test metrics come from those
    arrays, every example of the training arrays is for training and validation
    (`split.validation` of them), and `split.test` must be 0 or absent. `validate` reads the
    archives' headers: every array read must exist with a shape, dtype and length that fit;
    arrays nobody reads are named in a warning."""

    _no_test_fraction = model_validator(mode="before")(_given_test_holds_out_nothing)


Data = Annotated[BuiltinData | CsvData | NpzData, Field(discriminator="type")]

# --------------------------------------------------------------------------- model


class Input(SpecModel):
    """A model input."""

    name: Name
    """Input name; it is also the ONNX input name."""
    shape: list[Annotated[int, Field(gt=0)] | None] = Field(min_length=1)
    """Shape without the batch axis; `null` marks a variable-length axis."""
    dtype: Literal["float32", "int32", "int64"] = "float32"
    """Element type; token ids use `int32`."""
    source: str | None = None
    """Dataset array feeding this input (default: `x` for a single input, else the input name);
    for a CSV file the one array is `x`, the feature columns."""


class Model(SpecModel):
    """The network: inputs, then layers; a plain list is sequential, `inputs:` makes a DAG."""

    inputs: list[Input] = Field(min_length=1)
    """Model inputs."""
    layers: list[Layer] = Field(min_length=1)
    """Layers in order; each reads the previous one unless it names `inputs`."""
    outputs: list[Name] | None = None
    """Names of the layers whose outputs are the model outputs; default: the last layer."""


# --------------------------------------------------------------------------- the spec


class Spec(SpecModel):
    """A specc spec: one network and its training recipe."""

    specc: Literal[1]
    """Spec language version."""
    name: Name
    """Name of the model and its build folder."""
    description: str = ""
    """Free text."""
    seed: Annotated[int, Field(ge=0, lt=2**31)] = 0
    """Seeds Python, NumPy and TensorFlow, the split and the initialisers."""
    task: Task
    """What is predicted; it drives the default loss and output activation."""
    data: Data
    """Where examples come from, how they are split and scaled."""
    model: Model
    """The network."""
    training: Training = Training.model_construct()
    """The training recipe."""
    passes: list[PassEntry] = []
    """Compression passes, applied in order."""
    export: Export = Export.model_construct()
    """ONNX export and verification."""


__all__ = [
    "BUILTIN_DATASETS",
    "CsvTest",
    "Data",
    "Export",
    "Input",
    "Model",
    "NpzTest",
    "PassEntry",
    "Spec",
    "Task",
    "Training",
]
