"""What every layer of the catalogue shares: `name` and `inputs` (`LayerBase`), the kernel
settings of weighted layers (`WeightedMixin`) and the window field types.

`layers` and `layers_more` both build on these; they live here because `layers` imports
`layers_more` to join every class in the `Layer` union.
"""

from typing import Annotated, Literal

from pydantic import Field

from .base import Initializer, Name, PositiveInt, Regularizer, SpecModel

__all__ = ["IntOrPair", "LayerBase", "Padding", "WeightedMixin"]

Padding = Literal["valid", "same"]
IntOrPair = PositiveInt | Annotated[list[PositiveInt], Field(min_length=2, max_length=2)]


class LayerBase(SpecModel):
    name: Name | None = None
    """Layer name, unique in the model; generated from the type (`dense_1`, ...) when absent."""
    inputs: list[Name] | None = None
    """Names of the model inputs or layers this layer reads; default: the previous layer."""


class WeightedMixin(SpecModel):
    initializer: Initializer = "auto"
    """Kernel initializer; `auto` picks He for ReLU-family activations, Glorot otherwise."""
    regularizer: Regularizer | None = None
    """L1/L2 penalties on the kernel."""
    use_bias: bool = True
    """Whether the layer adds a bias vector."""
