"""Trace a Keras 3 (TensorFlow backend) model and convert the trace to ONNX with tf2onnx.

This is the route `model.export(path, format="onnx")` takes (a `tf.function` over the model's
forward pass in inference mode, frozen and handed to tf2onnx), with one difference that matters:
Keras passes the traced function to `tf2onnx.convert.from_function`, which lists *every*
non-resource input of the concrete function as a graph input. Eager tensors that a layer holds
as plain attributes are captured as such inputs -- `Normalization(mean=..., variance=...)` keeps
its statistics that way -- so the exported ONNX model demands the normalization mean as an extra
input and loses its value. Here only the real arguments are declared as inputs; the captures are
frozen into constants (initializers) by `tf2onnx.tf_loader.from_function`.

`tf2onnx.convert.from_keras` is not used: it does not understand Keras 3 models.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator
from typing import Any

__all__ = ["pack_inputs", "trace_to_onnx"]


def pack_inputs(model: Any, arrays: list[Any]) -> Any:
    """Arrange flat inputs (in `model.inputs` order) the way the model's call expects them."""
    import keras

    struct = getattr(model, "_inputs_struct", None)  # Functional models: list, dict or tensor
    if struct is not None and keras.tree.is_nested(struct):
        return keras.tree.pack_sequence_as(struct, list(arrays))
    return arrays[0] if len(arrays) == 1 else list(arrays)


def trace_to_onnx(model: Any, opset: int, *, native_rnn: bool = True) -> tuple[Any, list[str]]:
    """Return (onnx.ModelProto, tf2onnx error log lines) for `model` in inference mode.

    Graph inputs come out in `model.inputs` order named `input_<i>:0` with a dynamic batch
    dimension; graph outputs in `model.outputs` order named `Identity[_<k>]:0`. tf2onnx does
    not raise on an op it cannot convert: it logs an error and leaves the TF op in the graph,
    so callers must inspect the returned log lines and the graph. tf2onnx 1.17 emits opsets up
    to 18; a higher `opset` is reached with `onnx.version_converter` from 18. With `native_rnn`
    recurrent layers become native ONNX GRU/LSTM/RNN ops where they can (`_rnn_native`).
    """
    import keras
    import tensorflow as tf
    import tf2onnx

    from ._rnn_native import native_recurrent, rewriter
    from ._tf2onnx_extras import register_tf2onnx_extras

    _patch_tf2onnx_for_numpy2()
    register_tf2onnx_extras()

    specs = [
        tf.TensorSpec((None, *t.shape[1:]), dtype=t.dtype, name=f"input_{i}")
        for i, t in enumerate(model.inputs)
    ]

    @tf.function
    def serve(*xs):
        return keras.tree.flatten(model(pack_inputs(model, list(xs)), training=False))

    max_opset = max(tf2onnx.constants.OPSET_TO_IR_VERSION)
    with _quiet(), _collect_errors() as errors:
        with native_recurrent(model, enabled=native_rnn) as calls:  # -> native ONNX ops
            concrete = serve.get_concrete_function(*specs)
        in_names = [t.name for t in concrete.inputs[: len(specs)]]
        out_names = [t.name for t in concrete.outputs]
        graph_def = tf2onnx.tf_loader.from_function(concrete, in_names, out_names)
        proto, _ = tf2onnx.convert.from_graph_def(
            graph_def,
            name=model.name,
            input_names=in_names,
            output_names=out_names,
            opset=min(opset, max_opset),
            custom_rewriter=[rewriter(calls)],
        )
    _order_graph_inputs(proto, in_names)
    if opset > max_opset:
        proto = _upgrade_opset(proto, opset)
    return proto, errors


def _upgrade_opset(proto: Any, opset: int) -> Any:
    """Lift a tf2onnx model to a newer ONNX opset than tf2onnx can emit (it stops at 18)."""
    from onnx import helper, version_converter

    proto = version_converter.convert_version(proto, opset)
    proto.ir_version = max(proto.ir_version, helper.find_min_ir_version_for(proto.opset_import))
    return proto


def _order_graph_inputs(proto: Any, names: list[str]) -> None:
    """Put the graph inputs in `names` order (they are the model's inputs, in its order)."""
    graph = proto.graph
    by_name = {v.name: v for v in graph.input}
    if sorted(by_name) != sorted(names):
        raise RuntimeError(
            f"tf2onnx produced graph inputs {sorted(by_name)}, expected {sorted(names)}"
        )
    ordered = []
    for n in names:
        copy = type(by_name[n])()
        copy.CopyFrom(by_name[n])
        ordered.append(copy)
    del graph.input[:]
    graph.input.extend(ordered)


def _patch_tf2onnx_for_numpy2() -> None:
    """Apply Keras' numpy-2 compatibility patch for tf2onnx (what `model.export` does)."""
    try:
        from keras.src.export.tf2onnx_lib import patch_tf2onnx
    except ImportError:  # a Keras without the patch: tf2onnx is assumed compatible
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        patch_tf2onnx()


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence TF deprecation chatter and Python warnings during conversion."""
    import tensorflow as tf

    tf_logger = tf.get_logger()
    old = tf_logger.level
    tf_logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        tf_logger.setLevel(old)


@contextlib.contextmanager
def _collect_errors() -> Iterator[list[str]]:
    """Collect tf2onnx's ERROR log lines (it logs unsupported ops instead of raising)."""
    records: list[str] = []

    class _Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            with contextlib.suppress(Exception):
                records.append(record.getMessage())

    handler = _Collect(level=logging.ERROR)
    logger = logging.getLogger("tf2onnx")
    logger.addHandler(handler)
    try:
        yield records
    finally:
        logger.removeHandler(handler)
