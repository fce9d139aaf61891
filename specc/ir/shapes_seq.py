"""Shape and parameter rules for sequence layers: lstm, gru, simple_rnn, bidirectional, attention,
multi_head_attention and the transformer blocks.

Parameter counts are those of the Keras 3 layers the code generator builds:

* LSTM: 4 * (features * units + units * units + units).
* GRU (`reset_after=True`, the Keras 3 default): 3 * (features * units + units * units + 2 * units).
* SimpleRNN: features * units + units * units + units.
* Bidirectional: twice the wrapped layer; `concat` doubles the output width.
* `attention`: `keras.layers.Attention(use_scale=False)` for `dot` (no weights),
  `keras.layers.AdditiveAttention(use_scale=True)` for `additive` (a scale vector, one per query
  feature).
* MultiHeadAttention(num_heads, key_dim) (value_dim = key_dim, output width = the query width):
  query, key and value projections with biases, then the output projection with bias.
* transformer_encoder: MultiHeadAttention(num_heads, key_dim=width // num_heads) + 2 LayerNorms +
  Dense(ff_dim) + Dense(width). transformer_decoder: a causal self-attention MultiHeadAttention,
  a cross-attention MultiHeadAttention over the encoder output (same heads and key_dim),
  3 LayerNorms and the same feed-forward net.
"""

from __future__ import annotations

from .graph import TensorSpec
from .rules import Ctx, f32, fmt_shape, rule

__all__ = ["gru_params", "lstm_params", "mha_params", "simple_rnn_params"]


def lstm_params(features: int, units: int) -> int:
    return 4 * (features * units + units * units + units)


def gru_params(features: int, units: int) -> int:
    return 3 * (features * units + units * units + 2 * units)


def simple_rnn_params(features: int, units: int) -> int:
    return features * units + units * units + units


PARAMS = {"lstm": lstm_params, "gru": gru_params, "simple_rnn": simple_rnn_params}


def mha_params(
    query: int, value: int, key: int, heads: int, key_dim: int, value_dim: int, out: int
) -> int:
    """Weights of keras.layers.MultiHeadAttention with biases."""
    inner_k, inner_v = heads * key_dim, heads * value_dim
    return (
        (query * inner_k + inner_k)
        + (key * inner_k + inner_k)
        + (value * inner_v + inner_v)
        + (inner_v * out + out)
    )


def _sequence(ctx: Ctx, k: int = 0, role: str = "") -> bool:
    """Input `k` must be (steps, features) with known features."""
    shape = ctx.shape(k)
    if len(shape) == 2 and shape[-1] is not None:
        return True
    if len(shape) == 1:
        hint = "add an `embedding` (token ids) or a `reshape` to (steps, 1) first"
    elif len(shape) == 2:
        hint = "give the features axis a size"
    else:
        hint = "add a `reshape` to (steps, features) first"
    what = f"{role} " if role else ""
    ctx.error(
        ctx.inputs_field if k else None,
        f"{ctx.op} expects {what}(steps, features), got {ctx.got(k)}",
        hint,
    )
    return False


# --------------------------------------------------------------------------- recurrent


@rule("lstm", "gru", "simple_rnn")
def _recurrent(ctx: Ctx) -> TensorSpec | None:
    layer = ctx.layer
    if not _sequence(ctx) or (ctx.op == "simple_rnn" and not ctx.expect_floats()):
        return None
    steps, features = ctx.shape()
    units = layer.units
    ctx.params = PARAMS[ctx.op](features, units)  # type: ignore[arg-type]
    n_states = 2 if ctx.op == "lstm" else 1
    if layer.return_state:
        ctx.states = [f32((units,))] * n_states
    if layer.initial_state is not None:
        ctx.attrs["initial_state"] = layer.initial_state
        source = ctx.nodes.get(layer.initial_state)
        if source is not None and source.states:
            names = "[h, c]" if len(source.states) == 2 else "[h]"
            if len(source.states) != n_states:
                need = "[h, c] states" if n_states == 2 else "one state [h]"
                article = "an" if ctx.op == "lstm" else "a"  # a gru, a simple_rnn
                ctx.error(
                    "initial_state",
                    f"{article} {ctx.op} starts from {need}, but {source.op} `{source.name}` "
                    f"provides {names}",
                    f"make `{source.name}` {article} {ctx.op} too",
                )
            widths = {s.shape[-1] for s in source.states}
            if widths != {units}:
                width = next(iter(widths))
                ctx.error(
                    "initial_state",
                    f"the initial state from `{source.name}` is {width} wide, but this "
                    f"{ctx.op} has {units} units",
                    f"set `units: {width}` here or `units: {units}` on `{source.name}`",
                )
    return f32((steps, units) if layer.return_sequences else (units,))


@rule("bidirectional")
def _bidirectional(ctx: Ctx) -> TensorSpec | None:
    inner = ctx.layer.layer
    if not _sequence(ctx):
        return None
    steps, features = ctx.shape()
    ctx.params = 2 * PARAMS[inner.type](features, inner.units)  # type: ignore[arg-type]
    width = 2 * inner.units if ctx.layer.merge_mode == "concat" else inner.units
    return f32((steps, width) if inner.return_sequences else (width,))


# --------------------------------------------------------------------------- attention


def _qvk(ctx: Ctx) -> tuple[int, int, int]:
    """Indices of query, value and key among the inputs (key defaults to value)."""
    n = len(ctx.specs)
    value = 1 if n > 1 else 0
    return 0, value, 2 if n > 2 else value


@rule("attention")
def _attention(ctx: Ctx) -> TensorSpec | None:
    q, v, k = _qvk(ctx)
    if not all(_sequence(ctx, i, role) for i, role in ((q, "query"), (v, "value"), (k, "key"))):
        return None
    additive = ctx.layer.score == "additive"
    ctx.attrs.update(
        self_attention=len(ctx.specs) == 1,
        keras_class="AdditiveAttention" if additive else "Attention",
        use_scale=additive,
    )
    (tq, dq), (tv, dv), (tk, dk) = ctx.shape(q), ctx.shape(v), ctx.shape(k)
    ok = True
    if dq != dk:
        ctx.error(
            ctx.inputs_field,
            f"attention compares query and key vectors, so their widths must match: query "
            f"{ctx.got(q)}, key {ctx.got(k)}",
            "project one of them with a `dense` layer",
        )
        ok = False
    if tv is not None and tk is not None and tv != tk:
        ctx.error(
            ctx.inputs_field,
            f"value and key need the same number of steps: value {ctx.got(v)}, key {ctx.got(k)}",
        )
        ok = False
    if not ok:
        return None
    ctx.params = dq if additive else 0  # type: ignore[assignment]
    return f32((tq, dv))


@rule("multi_head_attention")
def _multi_head_attention(ctx: Ctx) -> TensorSpec | None:
    layer = ctx.layer
    q, v, k = _qvk(ctx)
    rank = len(ctx.shape(q))
    if rank < 2:
        ctx.error(
            None,
            f"multi_head_attention expects a sequence (steps, features), got {ctx.got(q)}",
            "add an `embedding` or a `reshape` to (steps, features) first",
        )
        return None
    for i in sorted({v, k}):
        if len(ctx.shape(i)) != rank:
            ctx.error(
                ctx.inputs_field,
                f"query {ctx.got(q)} and {'value' if i == v else 'key'} {ctx.got(i)} need the "
                "same rank",
                "reshape one of them",
            )
            return None
    if any(ctx.known_last(i) is None for i in sorted({q, v, k})):
        return None
    if any(
        a is not None and b is not None and a != b
        for a, b in zip(ctx.shape(v)[:-1], ctx.shape(k)[:-1], strict=True)
    ):
        ctx.error(
            ctx.inputs_field,
            f"value and key must agree on every axis but the last: value {ctx.got(v)}, "
            f"key {ctx.got(k)}",
        )
        return None
    width = ctx.shape(q)[-1]
    ctx.attrs.update(
        self_attention=len(ctx.specs) == 1,
        value_dim=layer.key_dim,
        output_dim=width,
    )
    ctx.params = mha_params(
        width,  # type: ignore[arg-type]
        ctx.shape(v)[-1],  # type: ignore[arg-type]
        ctx.shape(k)[-1],  # type: ignore[arg-type]
        layer.num_heads,
        layer.key_dim,
        layer.key_dim,
        width,  # type: ignore[arg-type]
    )
    return f32(ctx.shape(q))


# --------------------------------------------------------------------------- transformer blocks


def _divisors(n: int) -> str:
    found = [d for d in range(1, min(n, 16) + 1) if n % d == 0]
    return ", ".join(str(d) for d in found)


def _heads_fit(ctx: Ctx, width: int) -> int | None:
    heads = ctx.layer.num_heads
    if width % heads:
        ctx.error(
            "num_heads",
            f"the model width {width} ({fmt_shape(ctx.shape())} from `{ctx.inputs[0]}`) is not "
            f"divisible by num_heads {heads}",
            f"use num_heads that divides {width} ({_divisors(width)}) or change the width",
        )
        return None
    key_dim = width // heads
    ctx.attrs.update(model_width=width, key_dim=key_dim)
    return key_dim


def _feed_forward(width: int, ff_dim: int) -> int:
    return (width * ff_dim + ff_dim) + (ff_dim * width + width)


@rule("transformer_encoder")
def _transformer_encoder(ctx: Ctx) -> TensorSpec | None:
    if not _sequence(ctx):
        return None
    width: int = ctx.shape()[-1]  # type: ignore[assignment]
    key_dim = _heads_fit(ctx, width)
    if key_dim is None:
        return None
    heads = ctx.layer.num_heads
    ctx.params = (
        mha_params(width, width, width, heads, key_dim, key_dim, width)
        + 2 * (2 * width)
        + _feed_forward(width, ctx.layer.ff_dim)
    )
    return f32(ctx.shape())


@rule("transformer_decoder")
def _transformer_decoder(ctx: Ctx) -> TensorSpec | None:
    if not (_sequence(ctx, 0, "a target") & _sequence(ctx, 1, "an encoder output")):
        return None
    width: int = ctx.shape(0)[-1]  # type: ignore[assignment]
    memory: int = ctx.shape(1)[-1]  # type: ignore[assignment]
    key_dim = _heads_fit(ctx, width)
    if key_dim is None:
        return None
    heads = ctx.layer.num_heads
    ctx.attrs["memory_width"] = memory
    ctx.params = (
        mha_params(width, width, width, heads, key_dim, key_dim, width)
        + mha_params(width, memory, memory, heads, key_dim, key_dim, width)
        + 3 * (2 * width)
        + _feed_forward(width, ctx.layer.ff_dim)
    )
    return f32(ctx.shape(0))
