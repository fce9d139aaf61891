"""Static shape inference and parameter counts, with Keras 3 semantics and no TensorFlow import.

The rules of the layers without windows or recurrence; convolutions and pools are in
`shapes_conv`, padding, upsampling and repeat_vector in `shapes_resize`, recurrent and attention
layers in `shapes_seq`, the registry (`RULES`, `Ctx`, `rule`) in `rules`. Importing this module
registers all of them.
"""

from __future__ import annotations

import math

from . import shapes_conv, shapes_resize, shapes_seq  # noqa: F401  (register their rules)
from .graph import TensorSpec
from .rules import RULES, Ctx, Shape, f32, fmt_shape, rule, size_of

__all__ = ["RULES", "Ctx", "fmt_shape", "rule", "size_of"]


# --------------------------------------------------------------------------- dense and friends


@rule("dense")
def _dense(ctx: Ctx) -> TensorSpec | None:
    layer = ctx.layer
    features = ctx.known_last()
    if features is None:
        return None
    ctx.params = features * layer.units + (layer.units if layer.use_bias else 0)
    return f32(ctx.shape()[:-1] + (layer.units,))


@rule("dropout", "activation")
def _identity(ctx: Ctx) -> TensorSpec | None:
    spec = ctx.specs[0]
    keeps_dtype = ctx.op == "dropout"
    return spec if keeps_dtype else f32(spec.shape)


@rule("batch_norm")
def _batch_norm(ctx: Ctx) -> TensorSpec | None:
    channels = ctx.known_last()
    if channels is None:
        return None
    # gamma, beta (trainable), moving mean and variance (not trainable)
    ctx.params, ctx.trainable = 4 * channels, 2 * channels
    return f32(ctx.shape())


@rule("layer_norm")
def _layer_norm(ctx: Ctx) -> TensorSpec | None:
    channels = ctx.known_last()
    if channels is None:
        return None
    ctx.params = 2 * channels
    return f32(ctx.shape())


@rule("global_pool")
def _global_pool(ctx: Ctx) -> TensorSpec | None:
    if not ctx.expect_rank(
        (2, 3),
        "(steps, channels) or (height, width, channels)",
        "a rank-1 input has nothing to pool; leave the layer out",
    ):
        return None
    ctx.attrs["spatial_dims"] = len(ctx.shape()) - 1
    return f32(ctx.shape()[-1:])


@rule("flatten")
def _flatten(ctx: Ctx) -> TensorSpec | None:
    return TensorSpec((size_of(ctx.shape()),), ctx.specs[0].dtype)


@rule("reshape")
def _reshape(ctx: Ctx) -> TensorSpec | None:
    target = list(ctx.layer.target_shape)
    ok = True
    for j, dim in enumerate(target):
        if dim == 0 or dim < -1:
            ctx.error(("target_shape", j), f"expected a positive size or -1, got {dim}")
            ok = False
    if target.count(-1) > 1:
        ctx.error("target_shape", f"at most one entry may be -1, got {target}", "give the sizes")
        ok = False
    if not ok:
        return None
    given = math.prod(d for d in target if d != -1)
    size = size_of(ctx.shape())
    shown = "[" + ", ".join(str(d) for d in target) + "]"
    if -1 in target:
        if size is not None and size % given:
            ctx.error(
                "target_shape",
                f"cannot reshape {ctx.got()} ({size} values) to {shown}: "
                f"{size} is not a multiple of {given}",
                f"use sizes whose product divides {size}",
            )
            return None
        fill = None if size is None else size // given
        out = tuple(fill if d == -1 else d for d in target)
    else:
        if size is not None and size != given:
            ctx.error(
                "target_shape",
                f"cannot reshape {ctx.got()} ({size} values) to {shown} ({given} values)",
                f"use a target shape whose product is {size}, or -1 for one entry",
            )
            return None
        out = tuple(target)
    ctx.attrs["target_shape"] = out
    return TensorSpec(out, ctx.specs[0].dtype)


# --------------------------------------------------------------------------- embeddings


def _needs_ids(ctx: Ctx) -> bool:
    dtype = ctx.specs[0].dtype
    if dtype.startswith("int"):
        return True
    ctx.error(
        None,
        f"{ctx.op} expects int32 token ids, got {dtype} values {ctx.got()}",
        "set `dtype: int32` on the input, or use a `dense` layer for real-valued features",
    )
    return False


@rule("embedding")
def _embedding(ctx: Ctx) -> TensorSpec | None:
    if not _needs_ids(ctx):
        return None
    layer = ctx.layer
    ctx.params = layer.input_dim * layer.output_dim
    return f32(ctx.shape() + (layer.output_dim,))


@rule("one_hot")
def _one_hot(ctx: Ctx) -> TensorSpec | None:
    """Keras' CategoryEncoding(output_mode="one_hot"): (steps,) -> (steps, num_tokens); a single
    id, (1,), becomes one vector (num_tokens,)."""
    if not _needs_ids(ctx) or not ctx.expect_rank(
        1, "a sequence of token ids (steps,)", "reshape the ids to one axis"
    ):
        return None
    depth = ctx.layer.num_tokens
    return f32((depth,) if ctx.shape() == (1,) else ctx.shape() + (depth,))


@rule("positional_embedding")
def _positional_embedding(ctx: Ctx) -> TensorSpec | None:
    layer = ctx.layer
    width = layer.output_dim
    ctx.attrs["model_width"] = width
    ctx.attrs["token_ids"] = layer.input_dim is not None
    if layer.input_dim is not None:
        if not _needs_ids(ctx) or not ctx.expect_rank(
            1, "a sequence of token ids (steps,)", "reshape the ids to one axis"
        ):
            return None
        steps = ctx.shape()[0]
        out: Shape = (steps, width)
        ctx.params = layer.input_dim * width + layer.max_length * width
    else:
        hint = "add `input_dim` to embed token ids, or a `dense` layer to set the width"
        if ctx.specs[0].dtype.startswith("int"):
            ctx.error(
                "input_dim",
                f"positional_embedding without `input_dim` adds positions to float vectors, "
                f"got {ctx.specs[0].dtype} token ids {ctx.got()}",
                "set `input_dim` to the vocabulary size",
            )
            return None
        if not ctx.expect_rank(2, f"(steps, {width})", hint):
            return None
        steps, last = ctx.shape()
        if last != width:
            ctx.error(
                "output_dim",
                f"positional_embedding adds {width}-wide position vectors, but the sequence "
                f"{ctx.got()} is {last} wide",
                f"set `output_dim: {last}`" if last else hint,
            )
            return None
        out = (steps, width)
        ctx.params = layer.max_length * width
    if out[0] is not None and out[0] > layer.max_length:
        ctx.error(
            "max_length",
            f"the sequence has {out[0]} steps but max_length is {layer.max_length}",
            f"set `max_length: {out[0]}` or more",
        )
    return f32(out)


# --------------------------------------------------------------------------- merges


def _same(a: Shape, b: Shape) -> bool:
    return len(a) == len(b) and all(
        x is None or y is None or x == y for x, y in zip(a, b, strict=True)
    )


@rule("add", "multiply")
def _elementwise(ctx: Ctx) -> TensorSpec | None:
    what = "mismatched residual add" if ctx.op == "add" else "mismatched multiply"
    first = ctx.shape(0)
    ok = True
    for k in range(1, len(ctx.specs)):
        if not _same(first, ctx.shape(k)):
            ctx.error(
                ctx.inputs_field,
                f"{what}: `{ctx.inputs[0]}` has shape {fmt_shape(first)} but "
                f"`{ctx.inputs[k]}` has shape {fmt_shape(ctx.shape(k))}",
                "every input needs the same shape; project one branch with a `dense` (or a "
                "1x1 `conv2d`) to the other's width",
            )
            ok = False
    if not ok:
        return None
    out = tuple(
        None if any(s.shape[a] is None for s in ctx.specs) else first[a] for a in range(len(first))
    )
    return f32(out)


@rule("concatenate")
def _concatenate(ctx: Ctx) -> TensorSpec | None:
    rank = len(ctx.shape(0))
    for k in range(1, len(ctx.specs)):
        if len(ctx.shape(k)) != rank:
            ctx.error(
                ctx.inputs_field,
                f"concatenate needs inputs of one rank: `{ctx.inputs[0]}` has shape "
                f"{fmt_shape(ctx.shape(0))} but `{ctx.inputs[k]}` has shape "
                f"{fmt_shape(ctx.shape(k))}",
                "add a `flatten` or `reshape` to one branch",
            )
            return None
    axis = ctx.layer.axis
    if axis == 0 or not -rank <= axis <= rank:
        valid = f"-{rank}..-1 or 1..{rank}" if rank > 1 else "-1 or 1"
        why = " (axis 0 is the batch axis)" if axis == 0 else ""
        ctx.error(
            "axis", f"axis {axis} is out of range for rank-{rank} inputs{why}", f"use {valid}"
        )
        return None
    index = axis + rank if axis < 0 else axis - 1
    ctx.attrs["axis_index"] = index
    out = list(ctx.shape(0))
    for k in range(1, len(ctx.specs)):
        other = ctx.shape(k)
        for a in range(rank):
            if a != index and not _same((out[a],), (other[a],)):
                ctx.error(
                    ctx.inputs_field,
                    f"concatenate along axis {axis} needs every other axis equal: "
                    f"`{ctx.inputs[0]}` has shape {fmt_shape(ctx.shape(0))} but "
                    f"`{ctx.inputs[k]}` has shape {fmt_shape(other)}",
                    "join along the axis that differs, or reshape one branch",
                )
                return None
    for a in range(rank):
        dims = [s.shape[a] for s in ctx.specs]
        if a == index:
            out[a] = None if None in dims else sum(dims)  # type: ignore[arg-type]
        else:
            out[a] = None if None in dims else dims[0]
    return f32(out)


# --------------------------------------------------------------------------- backbone


@rule("backbone")
def _backbone(ctx: Ctx) -> TensorSpec | None:
    layer = ctx.layer
    ctx.attrs["params_unknown"] = True
    if layer.source.startswith("applications:"):
        app = layer.source.split(":", 1)[1]
        shape = ctx.shape()
        if len(shape) != 3:
            ctx.error(
                None,
                f"backbone `{app}` expects images (height, width, channels), got {ctx.got()}",
                "add a `reshape` to (height, width, channels)",
            )
        elif layer.weights == "imagenet" and shape[2] != 3:
            ctx.error(
                None,
                f"imagenet weights need 3-channel images, got {ctx.got()}",
                "feed RGB images, or set `weights: null` to start from random weights",
            )
    return f32(layer.output_shape)
