"""int8 quantization of an ONNX model with onnxruntime.quantization (ONNX in, ONNX out).

`quantize_onnx(src, dst, mode, calibration)`:

1. pre-processes the float model (onnxruntime's `quant_pre_process`: shape inference and graph
   clean-up; skipped when it fails),
2. quantizes it: `dynamic` (weights int8, activations quantized at run time; Conv becomes
   ConvInteger, MatMul MatMulInteger) or `static` (QDQ format, activation ranges calibrated on
   the given arrays through a `CalibrationDataReader`),
3. shortens the internal names (`compact_names`) and keeps the `specc.*` metadata, adding
   `specc.quantization`.
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from specc.excinfo import first_line
from specc.runtime.errors import QuantizationError

__all__ = ["MODES", "compact_names", "quantize_onnx", "weight_bytes"]

MODES = ("dynamic", "static")


@contextmanager
def _quiet_quantizer() -> Iterator[None]:
    """onnxruntime.quantization logs advice through the root logger; keep it off the console."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        yield
    finally:
        root.setLevel(level)


def _reader(arrays: dict[str, np.ndarray], batch: int = 32) -> Any:
    """A CalibrationDataReader over a dict of arrays, in batches of `batch` rows."""
    from onnxruntime.quantization import CalibrationDataReader

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            n = next(iter(arrays.values())).shape[0]
            self._batches = [
                {k: v[i : i + batch] for k, v in arrays.items()} for i in range(0, n, batch)
            ]
            self._it = iter(self._batches)

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self._it, None)

        def rewind(self) -> None:
            self._it = iter(self._batches)

    return Reader()


def quantize_onnx(
    src: Path, dst: Path, mode: str = "dynamic", calibration: dict[str, np.ndarray] | None = None
) -> str:
    """Quantize `src` into `dst`; keep the `specc.*` metadata. Returns the format used."""
    import onnx
    from onnxruntime.quantization import (
        QuantFormat,
        QuantType,
        quantize_dynamic,
        quantize_static,
    )

    if mode not in MODES:
        raise QuantizationError(f"unknown quantization mode {mode!r}; use dynamic or static")
    with tempfile.TemporaryDirectory(prefix="specc-quant-") as tmp, _quiet_quantizer():
        source = src
        try:
            from onnxruntime.quantization.shape_inference import quant_pre_process

            pre = Path(tmp) / "pre.onnx"
            quant_pre_process(str(src), str(pre), skip_symbolic_shape=True)
            source = pre
        except Exception:  # noqa: BLE001 - pre-processing is an optimisation only
            source = src
        try:
            if mode == "dynamic":
                quantize_dynamic(str(source), str(dst), weight_type=QuantType.QInt8)
                fmt = "dynamic (int8 weights, activations quantized at run time; names compacted)"
            else:
                if not calibration:
                    raise QuantizationError("static quantization needs calibration data")
                quantize_static(
                    str(source),
                    str(dst),
                    _reader(calibration),
                    quant_format=QuantFormat.QDQ,
                    activation_type=QuantType.QUInt8,
                    weight_type=QuantType.QInt8,
                    op_types_to_quantize=["Conv", "MatMul", "Gemm", "Gather"],
                )
                fmt = (
                    "static QDQ (uint8 activations, int8 weights, MinMax calibration; "
                    "names compacted)"
                )
        except QuantizationError:
            raise
        except Exception as exc:  # noqa: BLE001 - onnxruntime.quantization raises many types
            raise QuantizationError(
                f"{mode} quantization of {src.name} failed: {first_line(exc)}"
            ) from exc
    model = onnx.load(str(dst))
    compacted = compact_names(model)
    props = {p.key: p.value for p in onnx.load(str(src), load_external_data=False).metadata_props}
    props["specc.quantization"] = json.dumps(
        {"mode": mode, "source": src.name, "names_compacted": compacted}
    )
    del model.metadata_props[:]
    for key, value in props.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(model, str(dst))
    return fmt


def weight_bytes(path: Path) -> int:
    """Bytes of the model's initializers (weights, biases, quantization parameters)."""
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    return sum(t.ByteSize() for t in model.graph.initializer)


def compact_names(model: Any) -> bool:
    """Shorten the int8 graph's internal names in place: quantization adds dozens of nodes and
    tensors named after long Keras scopes (`model_1/conv2d_1/convolution/ReadVariableOp:0_...`),
    which on small models weigh as much as a quarter of the file. Graph inputs and outputs keep
    their names; shape annotations (`value_info`) are dropped, onnxruntime infers them again.
    Graphs with subgraphs (Loop, Scan, If) are left alone. Returns whether names were changed."""
    graph = model.graph
    for node in graph.node:
        if any(attr.g.ByteSize() or len(attr.graphs) for attr in node.attribute):
            return False
    keep = {v.name for v in graph.input} | {v.name for v in graph.output} | {""}
    mapping: dict[str, str] = {}

    def short(name: str) -> str:
        if name in keep:
            return name
        if name not in mapping:
            mapping[name] = f"t{len(mapping)}"
        return mapping[name]

    for init in graph.initializer:
        init.name = short(init.name)
    for i, node in enumerate(graph.node):
        node.name = f"{node.op_type}_{i}"
        node.doc_string = ""
        for j, name in enumerate(node.input):
            node.input[j] = short(name)
        for j, name in enumerate(node.output):
            node.output[j] = short(name)
    del graph.value_info[:]
    return True
