"""More of the layer catalogue: explicit zero padding, upsampling, the transposed, separable and
depthwise 2-D convolutions (autoencoders, small deployable models), `repeat_vector` and
`one_hot` (token ids without an embedding).

`layers` joins these classes into the `Layer` union; `simple_rnn` lives there, beside the other
recurrent layers.
"""

from typing import Annotated, Any, Literal

from pydantic import Field, field_validator

from .base import Activation, PositiveInt, Rate
from .errors import describe
from .layer_base import IntOrPair, LayerBase, Padding, WeightedMixin

__all__ = [
    "Conv2DTranspose",
    "DepthwiseConv2D",
    "OneHot",
    "RepeatVector",
    "SeparableConv2D",
    "UpSampling1D",
    "UpSampling2D",
    "ZeroPadding1D",
    "ZeroPadding2D",
]

MAX_ONE_HOT = 65536
Amount = Annotated[int, Field(ge=0)]
AmountPair = Annotated[list[Amount], Field(min_length=2, max_length=2)]


def _is_amount(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_pair(value: Any) -> bool:
    return isinstance(value, list) and len(value) == 2 and all(_is_amount(v) for v in value)


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def check_amounts(value: Any, forms: str, nested: bool) -> Any:
    """One clear error for a `padding` field of zero_padding (rather than one per union member):
    the shape of the value first, then negative amounts."""
    fits = _is_amount(value) or _is_pair(value)
    if nested and not fits:
        fits = isinstance(value, list) and len(value) == 2 and all(_is_pair(v) for v in value)
    if not fits:
        raise ValueError(f"expected {forms}, got {describe(value)}")
    flat = [value] if _is_amount(value) else [a for v in value for a in _as_list(v)]
    negative = [a for a in flat if a < 0]
    if negative:
        raise ValueError(
            f"padding amounts count the zeros to add and cannot be negative, got {negative[0]}"
        )
    return value


class ZeroPadding1D(LayerBase):
    """Adds zeros at the start and end of the steps axis of (steps, channels)."""

    type: Literal["zero_padding1d"]
    padding: Amount | AmountPair = 1
    """Steps of zeros to add: an integer (both ends) or [start, end]."""

    @field_validator("padding", mode="before")
    @classmethod
    def _amounts(cls, value: Any) -> Any:
        return check_amounts(value, "an integer or [start, end]", nested=False)


class ZeroPadding2D(LayerBase):
    """Adds rows and columns of zeros around (height, width, channels)."""

    type: Literal["zero_padding2d"]
    padding: (
        Amount | AmountPair | Annotated[list[AmountPair], Field(min_length=2, max_length=2)]
    ) = 1
    """Zeros to add: an integer (every side), [rows, columns] (each on both sides) or
    [[top, bottom], [left, right]]."""

    @field_validator("padding", mode="before")
    @classmethod
    def _amounts(cls, value: Any) -> Any:
        forms = "an integer, [rows, columns] or [[top, bottom], [left, right]]"
        return check_amounts(value, forms, nested=True)


class UpSampling1D(LayerBase):
    """Repeats every step `size` times along the steps axis of (steps, channels)."""

    type: Literal["upsampling1d"]
    size: PositiveInt = 2
    """How many times each step is repeated."""


class UpSampling2D(LayerBase):
    """Enlarges (height, width, channels) by whole factors."""

    type: Literal["upsampling2d"]
    size: IntOrPair = 2
    """Factor along height and width: an integer or [height, width]."""
    interpolation: Literal["nearest", "bilinear"] = "nearest"
    """`nearest` repeats pixels, `bilinear` interpolates between them."""


class RepeatVector(LayerBase):
    """Repeats a vector (features,) `n` times, giving the sequence (n, features)."""

    type: Literal["repeat_vector"]
    n: PositiveInt
    """Number of steps of the output sequence."""


class OneHot(LayerBase):
    """Turns a sequence of integer token ids (steps,) into one-hot vectors (steps, num_tokens),
    so a recurrent or convolutional layer can read ids without an embedding."""

    type: Literal["one_hot"]
    num_tokens: Annotated[int, Field(gt=0, le=MAX_ONE_HOT)]
    """Vocabulary size (largest token id + 1): the width of each one-hot vector; at most 65536
    (a larger vocabulary wants an `embedding`)."""


class _Conv2DBase(LayerBase, WeightedMixin):
    kernel_size: IntOrPair
    """Window size: an integer or [height, width]."""
    strides: IntOrPair = 1
    """Step of the window: an integer or [height, width]."""
    padding: Padding = "valid"
    """`valid` (no padding) or `same`."""
    activation: Activation = "auto"
    """Activation; `auto` is ReLU."""
    dropout: Rate = 0.0
    """Dropout rate applied after the activation."""


class Conv2DTranspose(_Conv2DBase):
    """Transposed 2-D convolution: learned upsampling of (height, width, channels), the decoder
    half of a convolutional autoencoder. Output size: input * stride with `same` padding,
    input * stride + max(kernel - stride, 0) with `valid`."""

    type: Literal["conv2d_transpose"]
    filters: PositiveInt
    """Number of output channels."""


class SeparableConv2D(_Conv2DBase):
    """Depthwise separable 2-D convolution: a depthwise convolution of each channel, then a 1x1
    convolution mixing them; far fewer weights than `conv2d` (small deployable models)."""

    type: Literal["separable_conv2d"]
    filters: PositiveInt
    """Number of output channels."""
    depth_multiplier: PositiveInt = 1
    """Depthwise outputs per input channel."""
    dilation_rate: IntOrPair = 1
    """Spacing between kernel taps."""


class DepthwiseConv2D(_Conv2DBase):
    """Depthwise 2-D convolution: each input channel convolved with its own kernels; the output
    has channels * depth_multiplier channels."""

    type: Literal["depthwise_conv2d"]
    depth_multiplier: PositiveInt = 1
    """Outputs per input channel."""
    dilation_rate: IntOrPair = 1
    """Spacing between kernel taps."""
