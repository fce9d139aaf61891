"""Shared building blocks of the spec schema: the strict frozen base model and common types."""

from typing import Annotated, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ACTIVATIONS",
    "Activation",
    "Initializer",
    "Regularizer",
    "SpecModel",
    "PositiveInt",
    "Rate",
    "Name",
]


class SpecModel(BaseModel):
    """Base of every spec model: immutable, strict about types, unknown keys rejected.

    Validators are built on first use (`defer_build`), once, for the whole `Spec`. A default that
    is itself a model is written `Model.model_construct(...)`, not `Model(...)`: calling the
    model would build its validator when the module is imported, slowing every command. The
    schema modules do without `from __future__ import annotations`: pydantic would otherwise
    evaluate each field's annotation from a string (one `compile` per field) at import time.
    """

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        strict=True,
        populate_by_name=False,
        defer_build=True,
    )


PositiveInt = Annotated[int, Field(gt=0)]
Rate = Annotated[float, Field(ge=0.0, lt=1.0)]
Name = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=64)]

Activation = Literal[
    "auto",
    "linear",
    "relu",
    "relu6",
    "leaky_relu",
    "elu",
    "selu",
    "gelu",
    "gelu_tanh",
    "silu",
    "swish",
    "tanh",
    "sigmoid",
    "hard_sigmoid",
    "softmax",
    "softplus",
    "softsign",
    "mish",
]
"""`auto` resolves by position: ReLU for hidden layers, the task's activation for output layers."""
ACTIVATIONS: tuple[str, ...] = get_args(Activation)

Initializer = Literal[
    "auto",
    "glorot_uniform",
    "glorot_normal",
    "he_uniform",
    "he_normal",
    "lecun_uniform",
    "lecun_normal",
    "orthogonal",
    "random_normal",
    "random_uniform",
    "zeros",
    "ones",
]
"""`auto` follows the activation: He for the ReLU family, LeCun for SELU, Glorot otherwise."""


class Regularizer(SpecModel):
    """Weight penalties added to the loss."""

    l1: Annotated[float, Field(ge=0.0)] = 0.0
    """L1 penalty factor (sparsity)."""
    l2: Annotated[float, Field(ge=0.0)] = 0.0
    """L2 penalty factor (weight decay)."""
