"""Shape and parameter rules for windowed layers: conv1d, conv2d, conv2d_transpose,
separable_conv2d, depthwise_conv2d and the 1-D/2-D pools.

Output lengths follow Keras 3: `valid` gives floor((n - span) / stride) + 1 with
span = (kernel - 1) * dilation + 1, `same` and `causal` give ceil(n / stride). A window wider than a
`valid` input is an error, as is `strides > 1` with `dilation_rate > 1` (Keras rejects it).

A transposed convolution gives n * stride (`same`) or n * stride + max(kernel - stride, 0)
(`valid`), with kernel * in * filters + filters weights. A depthwise convolution has
kernel * in * depth_multiplier weights (+ one bias per output channel); a separable one adds the
1x1 pointwise kernel, in * depth_multiplier * filters (+ filters biases).
"""

from __future__ import annotations

import math

from .graph import TensorSpec
from .rules import Ctx, f32, rule

__all__ = ["conv_length", "pair", "pool_length", "transpose_length"]


def pair(value: int | list[int] | tuple[int, ...]) -> tuple[int, int]:
    """An int or [h, w] as (h, w)."""
    if isinstance(value, int):
        return (value, value)
    return (int(value[0]), int(value[1]))


def conv_length(n: int | None, kernel: int, stride: int, dilation: int, padding: str) -> int | None:
    """Keras output length of a convolution along one axis (0 when the window does not fit)."""
    if n is None:
        return None
    if padding in ("same", "causal"):
        return -(-n // stride)
    span = (kernel - 1) * dilation + 1
    return (n - span) // stride + 1 if n >= span else 0


def pool_length(n: int | None, pool: int, stride: int, padding: str) -> int | None:
    """Keras output length of a pooling window along one axis."""
    return conv_length(n, pool, stride, 1, padding)


def _dims(values: tuple[int | None, ...]) -> str:
    return "x".join("None" if v is None else str(v) for v in values)


def _at_most(values: tuple[int | None, ...]) -> str:
    known = tuple(v for v in values if v is not None)
    if len(set(known)) == 1 and len(known) == len(values):
        return str(known[0])
    return _dims(values)


def _rank_hint(op: str, shape: tuple[int | None, ...], rank: int) -> str | None:
    if rank == 2 and len(shape) == 1:
        n = shape[0]
        side = int(round(n**0.5)) if n else 0
        if n and side * side == n:
            return f"add a `reshape` first, e.g. target_shape: [{side}, {side}, 1]"
        return "add a `reshape` to (height, width, channels) first"
    if rank == 2 and len(shape) == 2:
        h, w = ("h" if d is None else d for d in shape)
        return f"add a `reshape` with a channels axis first, e.g. target_shape: [{h}, {w}, 1]"
    if rank == 1 and len(shape) == 1:
        n = "n" if shape[0] is None else shape[0]
        return f"add a `reshape` first, e.g. target_shape: [{n}, 1]"
    if rank == 1 and len(shape) == 3:
        return "use the 2-D layer for (height, width, channels) inputs"
    return None


def _window(
    ctx: Ctx,
    kind: str,
    field: str,
    spatial: tuple[int | None, ...],
    window: tuple[int, ...],
    strides: tuple[int, ...],
    dilation: tuple[int, ...],
    padding: str,
) -> tuple[int | None, ...] | None:
    """Output lengths along the spatial axes, or None after reporting a window that misfits."""
    out = tuple(
        conv_length(n, k, s, d, padding)
        for n, k, s, d in zip(spatial, window, strides, dilation, strict=True)
    )
    if all(o is None or o > 0 for o in out):
        return out
    plain = all(n is None or k <= n for n, k in zip(spatial, window, strict=True))  # fits undilated
    input_desc = f"{spatial[0]}-step" if len(spatial) == 1 else _dims(spatial)
    if plain:
        spans = tuple((k - 1) * d + 1 for k, d in zip(window, dilation, strict=True))
        ctx.error(
            "dilation_rate",
            f"{kind} {_dims(window)} with dilation_rate {_dims(dilation)} spans {_dims(spans)}, "
            f"more than the {input_desc} input with padding `{padding}`",
            "lower `dilation_rate` or use `padding: same`",
        )
    else:
        ctx.error(
            field,
            f"{kind} {_dims(window)} does not fit the {input_desc} input with padding `{padding}`",
            f"use `padding: same` or a {kind} of at most {_at_most(spatial)}",
        )
    return None


NEW_CONVOLUTIONS = frozenset({"conv2d_transpose", "separable_conv2d", "depthwise_conv2d"})


def _conv(ctx: Ctx, rank: int) -> TensorSpec | None:
    layer = ctx.layer
    what = "(steps, channels)" if rank == 1 else "(height, width, channels)"
    if not ctx.expect_rank(rank + 1, what, _rank_hint(ctx.op, ctx.shape(), rank)):
        return None
    channels = ctx.known_last()
    if channels is None:
        return None
    dilation_rate = getattr(layer, "dilation_rate", 1)
    if rank == 1:
        kernel, strides, dilation = (layer.kernel_size,), (layer.strides,), (dilation_rate,)
    else:
        kernel, strides, dilation = (
            pair(layer.kernel_size),
            pair(layer.strides),
            pair(dilation_rate),
        )
        ctx.attrs.update(kernel_size=kernel, strides=strides, dilation_rate=dilation)
    if ctx.op in NEW_CONVOLUTIONS and not ctx.expect_floats():
        return None
    if ctx.op == "conv2d_transpose":
        return _transpose(ctx, kernel, strides, channels)
    if max(strides) > 1 and max(dilation) > 1:
        ctx.error(
            "dilation_rate",
            f"Keras cannot combine strides {_dims(strides)} with dilation_rate {_dims(dilation)}",
            "use `strides: 1` with dilation, or `dilation_rate: 1` with strides",
        )
        return None
    spatial = ctx.shape()[:-1]
    out = _window(ctx, "kernel", "kernel_size", spatial, kernel, strides, dilation, layer.padding)
    if out is None:
        return None
    window = math.prod(kernel)
    bias = 1 if layer.use_bias else 0
    if ctx.op == "depthwise_conv2d":
        width = channels * layer.depth_multiplier
        ctx.params = window * width + bias * width
        return f32(out + (width,))
    if ctx.op == "separable_conv2d":
        depthwise = channels * layer.depth_multiplier
        ctx.params = window * depthwise + depthwise * layer.filters + bias * layer.filters
        return f32(out + (layer.filters,))
    ctx.params = window * channels * layer.filters + bias * layer.filters
    return f32(out + (layer.filters,))


def transpose_length(n: int | None, kernel: int, stride: int, padding: str) -> int | None:
    """Keras output length of a transposed convolution along one axis (no output padding)."""
    if n is None:
        return None
    return n * stride if padding == "same" else n * stride + max(kernel - stride, 0)


def _transpose(
    ctx: Ctx, kernel: tuple[int, ...], strides: tuple[int, ...], channels: int
) -> TensorSpec | None:
    layer = ctx.layer
    if layer.padding == "valid" and any(k < s for k, s in zip(kernel, strides, strict=True)):
        ctx.error(
            "kernel_size",
            f"conv2d_transpose with padding `valid` and kernel {_dims(kernel)} smaller than "
            f"strides {_dims(strides)} does not export to ONNX (the converter needs negative "
            "padding)",
            "use a kernel_size of at least the strides, or `padding: same`",
        )
        return None
    spatial = ctx.shape()[:-1]
    out = tuple(
        transpose_length(n, k, s, layer.padding)
        for n, k, s in zip(spatial, kernel, strides, strict=True)
    )
    bias = layer.filters if layer.use_bias else 0
    ctx.params = math.prod(kernel) * channels * layer.filters + bias
    return f32(out + (layer.filters,))


@rule("conv1d")
def _conv1d(ctx: Ctx) -> TensorSpec | None:
    return _conv(ctx, 1)


@rule("conv2d", "conv2d_transpose", "separable_conv2d", "depthwise_conv2d")
def _conv2d(ctx: Ctx) -> TensorSpec | None:
    return _conv(ctx, 2)


def _pool(ctx: Ctx, rank: int) -> TensorSpec | None:
    layer = ctx.layer
    what = "(steps, channels)" if rank == 1 else "(height, width, channels)"
    if not ctx.expect_rank(rank + 1, what, _rank_hint(ctx.op, ctx.shape(), rank)):
        return None
    if rank == 1:
        size = (layer.pool_size,)
        strides = (layer.strides,) if layer.strides is not None else size
    else:
        size = pair(layer.pool_size)
        strides = pair(layer.strides) if layer.strides is not None else size
    ctx.attrs.update(pool_size=size, strides=strides)
    spatial = ctx.shape()[:-1]
    out = _window(ctx, "pool", "pool_size", spatial, size, strides, (1,) * rank, layer.padding)
    if out is None:
        return None
    return TensorSpec(out + ctx.shape()[-1:], "float32")


@rule("max_pool1d", "avg_pool1d")
def _pool1d(ctx: Ctx) -> TensorSpec | None:
    return _pool(ctx, 1)


@rule("max_pool2d", "avg_pool2d")
def _pool2d(ctx: Ctx) -> TensorSpec | None:
    return _pool(ctx, 2)
