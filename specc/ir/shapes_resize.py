"""Shape rules of the layers that resize without weights: zero_padding1d/2d, upsampling1d/2d and
repeat_vector (Keras 3 semantics; unknown lengths stay unknown).

* zero_padding: each spatial axis grows by the zeros added at both of its ends;
* upsampling: each spatial axis is multiplied by its factor;
* repeat_vector: (features,) becomes (n, features).

They keep the dtype of what they read (Keras passes int32 ids through them unchanged), except
bilinear upsampling, which interpolates and so needs floats.
"""

from __future__ import annotations

from .graph import TensorSpec
from .rules import Ctx, rule
from .shapes_conv import pair

__all__ = ["padding_amounts"]


def padding_amounts(value: int | list, rank: int) -> tuple[tuple[int, int], ...]:
    """A zero_padding `padding` field as ((before, after), ...) per spatial axis."""
    if isinstance(value, int):
        return ((value, value),) * rank
    if rank == 1:
        return ((int(value[0]), int(value[1])),)
    if all(isinstance(v, int) for v in value):
        return tuple((int(v), int(v)) for v in value)
    return tuple((int(v[0]), int(v[1])) for v in value)


def _spatial(ctx: Ctx, rank: int) -> bool:
    if rank == 1:
        what, hint = "(steps, channels)", "add a `reshape` to (steps, 1) first"
        if len(ctx.shape()) == 3:
            hint = "use the 2-D layer for (height, width, channels) inputs"
    else:
        what, hint = "(height, width, channels)", "add a `reshape` to (height, width, 1) first"
        if len(ctx.shape()) == 2:
            hint = "use the 1-D layer for (steps, channels), or `reshape` to add a channels axis"
    return ctx.expect_rank(rank + 1, what, hint)


@rule("zero_padding1d", "zero_padding2d")
def _zero_padding(ctx: Ctx) -> TensorSpec | None:
    rank = 1 if ctx.op.endswith("1d") else 2
    if not _spatial(ctx, rank):
        return None
    amounts = padding_amounts(ctx.layer.padding, rank)
    ctx.attrs["padding"] = amounts
    spatial = ctx.shape()[:-1]
    out = tuple(
        None if n is None else n + before + after
        for n, (before, after) in zip(spatial, amounts, strict=True)
    )
    return TensorSpec(out + ctx.shape()[-1:], ctx.specs[0].dtype)


@rule("upsampling1d", "upsampling2d")
def _upsampling(ctx: Ctx) -> TensorSpec | None:
    rank = 1 if ctx.op.endswith("1d") else 2
    if not _spatial(ctx, rank):
        return None
    bilinear = getattr(ctx.layer, "interpolation", "nearest") == "bilinear"
    if bilinear and not ctx.expect_floats():
        return None
    size = (ctx.layer.size,) if rank == 1 else pair(ctx.layer.size)
    ctx.attrs["size"] = size
    spatial = ctx.shape()[:-1]
    out = tuple(None if n is None else n * k for n, k in zip(spatial, size, strict=True))
    return TensorSpec(out + ctx.shape()[-1:], ctx.specs[0].dtype)


@rule("repeat_vector")
def _repeat_vector(ctx: Ctx) -> TensorSpec | None:
    if not ctx.expect_rank(
        1,
        "a vector (features,)",
        "use a recurrent layer without `return_sequences`, a `flatten` or a `global_pool` first",
    ):
        return None
    return TensorSpec((ctx.layer.n,) + ctx.shape(), ctx.specs[0].dtype)
