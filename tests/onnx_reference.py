"""`onnx.reference.ReferenceEvaluator` as a second, independent check of an exported model.

ONNX's reference evaluator is a plain numpy implementation of the operator specifications,
written apart from ONNX Runtime: the two agreeing on a model's outputs checks the exported
graph against the ONNX standard, not against one runtime's reading of it. Where the evaluator
does not implement an operator (or one of its attributes), the caller is told why, with the
op named, and skips; it never passes silently.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

# What onnx.reference raises for an operator or attribute it does not implement.
UNSUPPORTED = ("No implementation", "not implemented", "Unknown activation", "is not supported")


class ReferenceUnsupported(Exception):
    """The reference evaluator cannot run this model; the message says which op and why."""


def reference_outputs(path: Path, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
    """Outputs of the model at `path` on `feeds`, computed by onnx.reference."""
    import onnx
    from onnx.reference import ReferenceEvaluator

    model = onnx.load(str(path))
    try:
        evaluator = ReferenceEvaluator(model, new_ops=_fixed_ops())
        return list(evaluator.run(None, feeds))
    except Exception as exc:
        text = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        where = _failing_op(exc)
        if where or isinstance(exc, NotImplementedError) or any(u in text for u in UNSUPPORTED):
            raise ReferenceUnsupported(
                f"onnx.reference cannot run {path.name}{where}: {text}"
            ) from exc
        raise


def _fixed_ops() -> list[type]:
    """Reference ops with a bug fixed: `OneHot` with a rank-1 `depth`, which the ONNX spec
    allows ("scalar or rank 1 tensor containing exactly one element") and tf2onnx emits, fails
    in onnx 1.23's `np.arange(depth)` under numpy 2."""
    from onnx.reference.ops.op_one_hot import OneHot

    class OneHotRank1Depth(OneHot):
        op_domain = ""

        def _run(self, indices, depth, values, axis=None):
            return super()._run(indices, np.asarray(depth).reshape(()), values, axis=axis)

    OneHotRank1Depth.__name__ = "OneHot"
    return [OneHotRank1Depth]


def _failing_op(exc: BaseException) -> str:
    """` (in op_max_pool.py)` when the error came from inside one of onnx.reference's ops."""
    import traceback

    files = []
    while exc is not None:  # onnx.reference re-raises an op's error from op_run.py
        files += [f.filename for f in traceback.extract_tb(exc.__traceback__)]
        exc = exc.__cause__
    ops = [Path(f).name for f in files if f"reference{os.sep}ops{os.sep}" in f]
    named = [f for f in ops if f.startswith("op_")]  # op_max_pool.py, not _op_common_pool.py
    return f" (in {(named or ops)[-1]})" if ops else ""


def op_types(path: Path) -> set[str]:
    """Every op type in the model at `path`, subgraphs (Loop bodies) included."""
    import onnx

    found: set[str] = set()

    def visit(graph) -> None:
        for node in graph.node:
            found.add(node.op_type)
            for attr in node.attribute:
                if attr.type == onnx.AttributeProto.GRAPH:
                    visit(attr.g)

    visit(onnx.load(str(path)).graph)
    return found


def max_reference_diff(
    path: Path, feeds: dict[str, np.ndarray], runtime_outputs: list[np.ndarray]
) -> float:
    """Largest |reference - runtime| over every output; shapes must match exactly."""
    ref = reference_outputs(path, feeds)
    assert len(ref) == len(runtime_outputs)
    worst = 0.0
    for i, (want, have) in enumerate(zip(runtime_outputs, ref, strict=True)):
        have = np.asarray(have)
        if have.shape != want.shape and "Loop" in op_types(path):
            raise ReferenceUnsupported(
                f"{path.name} keeps a Loop (a masked recurrent layer), and onnx.reference "
                f"evaluates Loop scan outputs with wrong shapes: output {i} is {have.shape} "
                f"there, {want.shape} in ONNX Runtime"
            )
        assert have.shape == want.shape, f"output {i}: reference {have.shape} vs ORT {want.shape}"
        assert np.isfinite(have).all(), f"output {i}: reference evaluator gave non-finite values"
        if want.size:
            diff = np.abs(have.astype(np.float64) - want.astype(np.float64))
            worst = max(worst, float(diff.max()))
    return worst
