"""Emitters of the layers in `spec/layers_more.py`: zero padding, upsampling, repeat_vector,
one_hot and the transposed, separable and depthwise 2-D convolutions. Each is one built-in Keras
layer (one_hot is `CategoryEncoding(output_mode="one_hot")`), so `model.keras` reloads in safe
mode and the ONNX export needs no custom op. Importing this module registers them in
`layers_code.EMITTERS`.
"""

from __future__ import annotations

from typing import Any

from ..ir.graph import Node
from .layers_code import Scope, apply, emitter, kw, lit, regularizer, unless, with_dropout
from .pyfmt import Call

__all__: list[str] = []


def _pair(value: int | list[int]) -> int | tuple[int, ...]:
    return value if isinstance(value, int) else tuple(value)


@emitter("zero_padding1d", "zero_padding2d")
def _zero_padding(node: Node, scope: Scope) -> list[str]:
    value = node.layer.padding
    if isinstance(value, list):
        value = tuple(tuple(v) if isinstance(v, list) else v for v in value)
    rank = 1 if node.op == "zero_padding1d" else 2
    cls = "layers.ZeroPadding1D" if rank == 1 else "layers.ZeroPadding2D"
    default = node.attrs["padding"] == ((1, 1),) * rank  # one zero on every side
    args = () if default else (lit(value),)
    return apply(node, scope, Call(cls, args, kw(name=node.name)))


@emitter("upsampling1d")
def _upsampling1d(node: Node, scope: Scope) -> list[str]:
    args = kw(size=unless(node.layer.size, 2), name=node.name)
    return apply(node, scope, Call("layers.UpSampling1D", kwargs=args))


@emitter("upsampling2d")
def _upsampling2d(node: Node, scope: Scope) -> list[str]:
    spec = node.layer
    args = kw(
        size=unless(_pair(spec.size), (2, 2)),
        interpolation=unless(spec.interpolation, "nearest"),
        name=node.name,
    )
    return apply(node, scope, Call("layers.UpSampling2D", kwargs=args))


@emitter("repeat_vector")
def _repeat_vector(node: Node, scope: Scope) -> list[str]:
    layer = Call("layers.RepeatVector", (lit(node.layer.n),), kw(name=node.name))
    return apply(node, scope, layer)


@emitter("one_hot")
def _one_hot(node: Node, scope: Scope) -> list[str]:
    args = kw(output_mode="one_hot", name=node.name)
    layer = Call("layers.CategoryEncoding", (lit(node.layer.num_tokens),), args)
    return apply(node, scope, layer)


def _kernels(node: Node, scope: Scope, *prefixes: str) -> dict[str, Any]:
    """Activation and bias arguments, and the initializer and penalties of each named kernel
    (`depthwise`, `pointwise`): the spec's `initializer` and `regularizer` apply to all."""
    spec = node.layer
    activation = node.attrs.get("activation", "linear")
    initializer = unless(node.attrs.get("initializer", "glorot_uniform"), "glorot_uniform")
    args: dict[str, Any] = {
        "activation": None if activation == "linear" else scope.activation(activation),
        "use_bias": None if spec.use_bias else False,
    }
    for prefix in prefixes:
        args[f"{prefix}_initializer"] = initializer
    for prefix in prefixes:
        args[f"{prefix}_regularizer"] = regularizer(spec.regularizer)
    return args


_CLASSES = {
    "conv2d_transpose": "layers.Conv2DTranspose",
    "separable_conv2d": "layers.SeparableConv2D",
    "depthwise_conv2d": "layers.DepthwiseConv2D",
}


@emitter(*_CLASSES)
def _conv2d_variant(node: Node, scope: Scope) -> list[str]:
    spec = node.layer
    kernel = _pair(spec.kernel_size)
    common: dict[str, Any] = {
        "strides": unless(spec.strides, (1, 1)),
        "padding": unless(spec.padding, "valid"),
    }
    if node.op != "conv2d_transpose":
        common["depth_multiplier"] = unless(spec.depth_multiplier, 1)
        common["dilation_rate"] = unless(spec.dilation_rate, (1, 1))
    if node.op == "conv2d_transpose":
        positional = (lit(spec.filters), lit(kernel))
        args = kw(**common, **_kernels(node, scope, "kernel"), name=node.name)
    elif node.op == "separable_conv2d":
        positional = (lit(spec.filters), lit(kernel))
        args = kw(**common, **_kernels(node, scope, "depthwise", "pointwise"), name=node.name)
    else:
        positional = (lit(kernel),)
        args = kw(**common, **_kernels(node, scope, "depthwise"), name=node.name)
    layer = Call(_CLASSES[node.op], positional, args)
    return with_dropout(node, scope, apply(node, scope, layer))
