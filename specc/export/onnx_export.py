"""Keras 3 -> ONNX export and ONNX checking (parity lives in `parity`).

The conversion traces the model's inference forward pass and hands it to tf2onnx the way
`model.export(path, format="onnx")` does, minus that route's loss of captured constants (see
`_convert`); `tf2onnx.convert.from_keras` does not work on Keras 3 models. The ONNX graph is
then edited: inputs and outputs get the caller's names, dim 0 of every input and output becomes
the symbolic `batch`, and producer/metadata are set. The file is written atomically.

TensorFlow, Keras, ONNX and ONNX Runtime are imported inside the functions so that importing
`specc.export` stays cheap for the command-line interface.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from specc.atomic import write_bytes
from specc.excinfo import first_line

from ._graph import rename_tensors, set_batch_dim, set_metadata, unknown_ops

if TYPE_CHECKING:  # pragma: no cover
    import keras

__all__ = ["ExportError", "check_onnx", "export_onnx"]

PRODUCER_NAME = "specc"
_PROTOBUF_LIMIT = 2**31 - 1

# What to tell the user when tf2onnx leaves one of these TensorFlow ops unconverted.
_OP_HINTS = {
    "Expm1": "it comes from keras.ops.expm1 or the celu activation; use elu or ops.exp(x) - 1",
    "Log1p": "it comes from keras.ops.log1p; use ops.log(1 + x)",
    "Erfinv": "it comes from keras.ops.erfinv, which has no ONNX counterpart",
}


class ExportError(Exception):
    """ONNX export, checking or parity verification failed; the message says what to change."""


# --------------------------------------------------------------------------------------------
# export


def export_onnx(
    model: keras.Model,
    path: str | Path,
    *,
    input_names: list[str],
    output_names: list[str],
    opset: int = 17,
    metadata: dict[str, str] | None = None,
    native_rnn: bool = True,
) -> None:
    """Convert `model` to ONNX at `path` with the given tensor names, a dynamic batch and metadata.

    `input_names` follow `model.inputs` order and `output_names` follow `model.outputs` order.
    Recurrent layers become the native ONNX GRU/LSTM/RNN ops where their configuration maps;
    `native_rnn=False` leaves them to tf2onnx (a `Loop` for GRU and SimpleRNN), for comparisons.
    Raises ExportError when the model cannot be converted or the result is not valid ONNX.
    """
    import onnx

    input_names = _check_names("input_names", input_names)
    output_names = _check_names("output_names", output_names)
    clash = sorted(set(input_names) & set(output_names))
    if clash:
        raise ExportError(f"names {clash} are used both as an input and an output name")
    meta = _check_metadata(metadata)
    _check_counts(model, input_names, output_names)
    _ensure_called(model)

    from ._convert import trace_to_onnx

    try:
        proto, errors = trace_to_onnx(model, opset, native_rnn=native_rnn)
    except Exception as exc:  # TF tracing and tf2onnx raise many kinds
        raise ExportError(
            f"ONNX conversion of model {model.name!r} failed: "
            f"{type(exc).__name__}: {first_line(exc)}. Check that every layer is a built-in "
            "Keras layer or a registered serializable layer built from keras.ops, and that "
            f"the opset ({opset}) is between 13 and 21"
        ) from None

    bad = unknown_ops(proto)
    if bad:
        raise ExportError(_unsupported_message(model, bad, errors))

    _rename_io(proto, input_names, output_names)
    for seq, kind in ((proto.graph.input, "input"), (proto.graph.output, "output")):
        for vi in seq:
            if not set_batch_dim(vi):
                raise ExportError(
                    f"ONNX {kind} {vi.name!r} is a scalar (no batch dimension); every model "
                    "input and output must have a leading batch axis"
                )

    proto.producer_name = PRODUCER_NAME
    proto.producer_version = _specc_version()
    set_metadata(proto, meta)

    try:
        onnx.checker.check_model(proto, full_check=True)
    except Exception as exc:
        raise ExportError(
            f"the converted ONNX model of {model.name!r} is invalid: {first_line(exc)}"
        ) from None
    if proto.ByteSize() > _PROTOBUF_LIMIT:
        raise ExportError(
            f"the ONNX model of {model.name!r} is over 2 GiB, the protobuf limit; "
            "reduce the model size"
        )
    write_bytes(path, proto.SerializeToString())


def _check_names(what: str, names: Sequence[str]) -> list[str]:
    if isinstance(names, str) or not isinstance(names, Sequence):
        raise ExportError(f"{what} must be a list of strings, got {names!r}")
    names = list(names)
    for n in names:
        if not isinstance(n, str) or not n:
            raise ExportError(f"{what} must be non-empty strings, got {n!r}")
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ExportError(f"{what} has duplicates: {dupes}; ONNX tensor names must be unique")
    return names


def _check_metadata(metadata: Mapping[str, str] | None) -> dict[str, str]:
    meta = dict(metadata or {})
    for k, v in meta.items():
        if not isinstance(k, str) or not isinstance(v, str):
            raise ExportError(
                f"metadata must map str to str; got {k!r}: {v!r} "
                "(serialise the value first, e.g. with json.dumps)"
            )
    return meta


def _check_counts(model, input_names: list[str], output_names: list[str]) -> None:
    inputs = getattr(model, "inputs", None)
    outputs = getattr(model, "outputs", None)
    if inputs is not None and len(inputs) != len(input_names):
        raise ExportError(
            f"model {model.name!r} has {len(inputs)} input(s) "
            f"{[t.name for t in inputs]} but {len(input_names)} input_names {input_names}"
        )
    if outputs is not None and len(outputs) != len(output_names):
        raise ExportError(
            f"model {model.name!r} has {len(outputs)} output(s) but "
            f"{len(output_names)} output_names {output_names}"
        )


def _ensure_called(model) -> None:
    """Build the model by calling it once on zeros of its input shapes, if never called."""
    inputs = getattr(model, "inputs", None)
    if not inputs:
        raise ExportError(
            f"model {model.name!r} has no symbolic inputs; export needs a Functional or "
            "Sequential model built on keras.Input(...) layers"
        )
    if getattr(model, "_called", False):
        return
    import numpy as np

    from ._convert import pack_inputs

    zeros = [
        np.zeros([1 if d is None else d for d in t.shape], dtype=_np_dtype(t.dtype)) for t in inputs
    ]
    try:
        model(pack_inputs(model, zeros), training=False)
    except Exception as exc:
        raise ExportError(
            f"calling model {model.name!r} on zeros of its input shapes failed before export: "
            f"{type(exc).__name__}: {first_line(exc)}"
        ) from None


def _np_dtype(dtype: Any):
    import numpy as np

    name = getattr(dtype, "name", dtype)
    return np.dtype(str(name))


def _rename_io(proto, input_names: list[str], output_names: list[str]) -> None:
    from onnx import helper

    graph = proto.graph
    onnx_in = [v.name for v in graph.input]
    onnx_out = [v.name for v in graph.output]
    if len(onnx_in) != len(input_names):
        raise ExportError(
            f"the ONNX graph has {len(onnx_in)} input(s) {onnx_in} but {len(input_names)} "
            f"input_names were given {input_names}"
        )
    if len(onnx_out) != len(output_names):
        raise ExportError(
            f"the ONNX graph has {len(onnx_out)} output(s) but {len(output_names)} "
            f"output_names were given {output_names}"
        )

    # Inputs come out in model.inputs order (see _convert.trace_to_onnx).
    mapping: dict[str, str] = dict(zip(onnx_in, input_names, strict=True))

    # Outputs follow the flattened output structure == model.outputs order. An output tensor
    # that is also an input or appears twice cannot be renamed in place: route it via Identity.
    seen: set[str] = set()
    for i, vi in enumerate(graph.output):
        old = vi.name
        if old in seen or old in mapping:
            fresh = f"{old}__out{i}"
            graph.node.append(helper.make_node("Identity", [old], [fresh], name=f"{fresh}_id"))
            vi.name = fresh
            old = fresh
        seen.add(old)
        mapping[old] = output_names[i]
    rename_tensors(graph, mapping)


def _format_errors(errors: list[str]) -> str:
    if not errors:
        return ""
    shown = "; ".join(e.splitlines()[0] for e in errors[:5])
    return f" (tf2onnx: {shown})"


def _unsupported_message(model, bad: list[tuple[str, str, str]], errors: list[str]) -> str:
    ops = sorted({op for _, op, _ in bad})
    where = sorted({name.rsplit("/", 1)[0] if "/" in name else name for name, _, _ in bad})
    hints = [f"{op}: {_OP_HINTS[op]}" for op in ops if op in _OP_HINTS]
    msg = (
        f"model {model.name!r} uses TensorFlow op(s) {ops} that tf2onnx cannot convert to ONNX "
        f"(in {where[:5]}). Replace the layer or activation that produces them with one built "
        "from ops that convert, or add a tf2onnx handler in specc/export/_tf2onnx_extras.py"
    )
    if hints:
        msg += ". " + "; ".join(hints)
    return msg + _format_errors(errors)


def _specc_version() -> str:
    from importlib import metadata

    try:
        return metadata.version("specc")
    except metadata.PackageNotFoundError:
        return "0+unknown"


# --------------------------------------------------------------------------------------------
# check


def check_onnx(path: str | Path) -> None:
    """Run the full ONNX checker (with strict shape inference) on the file at `path`."""
    import onnx

    path = Path(path)
    if not path.is_file():
        raise ExportError(f"ONNX file {str(path)!r} does not exist; export the model first")
    try:
        onnx.checker.check_model(str(path), full_check=True)
    except Exception as exc:
        raise ExportError(
            f"ONNX file {str(path)!r} is not a valid ONNX model ({type(exc).__name__}: "
            f"{first_line(exc)}); re-export it (the file may be truncated or corrupted)"
        ) from None
