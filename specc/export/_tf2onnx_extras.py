"""Extra tf2onnx op handlers that the stock converter lacks.

tf2onnx 1.17 has no handler for the TensorFlow op `Erfc`, which `tf.nn.gelu(x, approximate=False)`
(Keras' exact `gelu`) emits as `0.5 * x * erfc(-x / sqrt(2))`. We register one that rewrites
`erfc(x)` as `1 - erf(x)` using the ONNX `Erf` operator (opset >= 9): the same function, no
approximation of the maths. The rewrite loses relative precision only where erfc(x) is tiny
(x > ~4), where the absolute error stays below float32 epsilon, which is what parity measures.

Registration is global to the tf2onnx process state and idempotent; it is skipped when a future
tf2onnx ships its own `Erfc` handler.
"""

from __future__ import annotations

import functools

__all__ = ["register_tf2onnx_extras"]


@functools.cache
def register_tf2onnx_extras() -> tuple[str, ...]:
    """Register the missing handlers once; return the TF op types that were added."""
    import numpy as np
    from tf2onnx import utils
    from tf2onnx.handler import tf_op

    added: list[str] = []
    known = set()
    for opset_dicts in tf_op.get_opsets().values():
        for op_map in opset_dicts:
            known.update(op_map)

    if "Erfc" not in known:

        class Erfc:
            """erfc(x) = 1 - erf(x)."""

            @classmethod
            def version_9(cls, ctx, node, **kwargs):
                x = node.input[0]
                np_dtype = utils.map_onnx_to_numpy_type(ctx.get_dtype(x))
                one = ctx.make_const(utils.make_name(f"{node.name}_one"), np.array(1, np_dtype))
                erf = ctx.make_node("Erf", [x], op_name_scope=node.name, name="erf")
                out = node.output[0]
                shapes, dtypes = node.output_shapes, node.output_dtypes
                ctx.remove_node(node.name)
                ctx.make_node(
                    "Sub",
                    [one.output[0], erf.output[0]],
                    outputs=[out],
                    name=node.name,
                    shapes=shapes,
                    dtypes=dtypes,
                )

        tf_op("Erfc")(Erfc)
        added.append("Erfc")
    return tuple(added)
