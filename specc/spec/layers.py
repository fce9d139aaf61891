"""The layer catalogue: one pydantic model per layer `type`, joined in a discriminated union.

Every layer may carry a `name` (generated when absent) and `inputs`: the names of the model
inputs or earlier layers it reads. Without `inputs` a layer reads the layer just before it, so a
plain list is a sequential model and `inputs:` references turn it into a DAG.
"""

from typing import Annotated, Literal

from pydantic import Field

from . import layers_more as more
from .base import Activation, Name, PositiveInt, Rate, Regularizer, SpecModel
from .layer_base import IntOrPair, LayerBase, Padding, WeightedMixin


class Dense(LayerBase, WeightedMixin):
    """Fully connected layer over the last axis."""

    type: Literal["dense"]
    units: PositiveInt
    """Number of output units."""
    activation: Activation = "auto"
    """Activation; `auto` is ReLU for hidden layers and the task's output activation at the end."""
    dropout: Rate = 0.0
    """Dropout rate applied after the activation (0 disables)."""


class Conv1D(LayerBase, WeightedMixin):
    """1-D convolution over (steps, channels)."""

    type: Literal["conv1d"]
    filters: PositiveInt
    """Number of output channels."""
    kernel_size: PositiveInt
    """Width of the convolution window."""
    strides: PositiveInt = 1
    """Step of the window."""
    padding: Literal["valid", "same", "causal"] = "valid"
    """`valid` (no padding), `same` (output length = ceil(input / stride)) or `causal`."""
    dilation_rate: PositiveInt = 1
    """Spacing between kernel taps."""
    activation: Activation = "auto"
    """Activation; `auto` is ReLU."""
    dropout: Rate = 0.0
    """Dropout rate applied after the activation."""


class Conv2D(LayerBase, WeightedMixin):
    """2-D convolution over (height, width, channels)."""

    type: Literal["conv2d"]
    filters: PositiveInt
    """Number of output channels."""
    kernel_size: IntOrPair
    """Window size: an integer or [height, width]."""
    strides: IntOrPair = 1
    """Step of the window: an integer or [height, width]."""
    padding: Padding = "valid"
    """`valid` (no padding) or `same` (output size = ceil(input / stride)); for explicit amounts
    put a `zero_padding2d` before a `valid` convolution."""
    dilation_rate: IntOrPair = 1
    """Spacing between kernel taps."""
    activation: Activation = "auto"
    """Activation; `auto` is ReLU."""
    dropout: Rate = 0.0
    """Dropout rate applied after the activation."""


class _Pool1D(LayerBase):
    pool_size: PositiveInt = 2
    """Window width."""
    strides: PositiveInt | None = None
    """Step of the window; default: the pool size."""
    padding: Padding = "valid"
    """`valid` or `same`."""


class _Pool2D(LayerBase):
    pool_size: IntOrPair = 2
    """Window size: an integer or [height, width]."""
    strides: IntOrPair | None = None
    """Step of the window; default: the pool size."""
    padding: Padding = "valid"
    """`valid` or `same`."""


class MaxPool1D(_Pool1D):
    """Max pooling over steps."""

    type: Literal["max_pool1d"]


class AvgPool1D(_Pool1D):
    """Average pooling over steps."""

    type: Literal["avg_pool1d"]


class MaxPool2D(_Pool2D):
    """Max pooling over height and width."""

    type: Literal["max_pool2d"]


class AvgPool2D(_Pool2D):
    """Average pooling over height and width."""

    type: Literal["avg_pool2d"]


class GlobalPool(LayerBase):
    """Pools every spatial/temporal axis away, leaving (channels,)."""

    type: Literal["global_pool"]
    mode: Literal["avg", "max"] = "avg"
    """`avg` or `max`."""


class Flatten(LayerBase):
    """Flattens all non-batch axes into one."""

    type: Literal["flatten"]


class Reshape(LayerBase):
    """Reshapes to `target_shape` (without the batch axis); one entry may be -1."""

    type: Literal["reshape"]
    target_shape: list[int] = Field(min_length=1)
    """New shape without the batch axis; one entry may be -1 (inferred)."""


class Dropout(LayerBase):
    """Randomly zeroes a fraction of the inputs during training."""

    type: Literal["dropout"]
    rate: Rate
    """Fraction of units to drop."""


class BatchNorm(LayerBase):
    """Batch normalisation over the last axis."""

    type: Literal["batch_norm"]
    momentum: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.99
    """Momentum of the moving averages."""
    epsilon: Annotated[float, Field(gt=0.0)] = 1e-3
    """Added to the variance for stability."""


class LayerNorm(LayerBase):
    """Layer normalisation over the last axis."""

    type: Literal["layer_norm"]
    epsilon: Annotated[float, Field(gt=0.0)] = 1e-6
    """Added to the variance for stability."""


class ActivationLayer(LayerBase):
    """A stand-alone activation."""

    type: Literal["activation"]
    activation: Activation
    """The activation function."""


class Embedding(LayerBase):
    """Maps integer token ids to dense vectors."""

    type: Literal["embedding"]
    input_dim: PositiveInt
    """Vocabulary size (largest token id + 1)."""
    output_dim: PositiveInt
    """Embedding width."""
    mask_zero: bool = False
    """Treat token 0 as padding and mask it downstream."""


class PositionalEmbedding(LayerBase):
    """A learned position embedding added to the sequence (after a token embedding when
    `input_dim` is given), for transformers."""

    type: Literal["positional_embedding"]
    input_dim: PositiveInt | None = None
    """Vocabulary size for token-id inputs; leave out to add positions to a float sequence
    whose last axis already equals `output_dim`."""
    output_dim: PositiveInt
    """Embedding width (the model width)."""
    max_length: PositiveInt
    """Longest sequence the position table covers."""


class _Recurrent(LayerBase):
    units: PositiveInt
    """Width of the hidden state."""
    return_sequences: bool = False
    """Return the output at every step instead of only the last."""
    return_state: bool = False
    """Also expose the final state(s), for a decoder's `initial_state`."""
    initial_state: Name | None = None
    """Name of a recurrent layer with `return_state: true` whose final states start this one."""
    dropout: Rate = 0.0
    """Dropout on the inputs."""
    recurrent_dropout: Rate = 0.0
    """Dropout on the recurrent state (slows training: no fused kernel)."""
    regularizer: Regularizer | None = None
    """L1/L2 penalties on the input kernel."""


class LSTM(_Recurrent):
    """Long short-term memory layer."""

    type: Literal["lstm"]


class GRU(_Recurrent):
    """Gated recurrent unit layer."""

    type: Literal["gru"]


class SimpleRNN(_Recurrent):
    """Fully connected recurrent layer: h = activation(x W + h U + b), one state [h]."""

    type: Literal["simple_rnn"]
    activation: Activation = "tanh"
    """Activation of the state; `auto` is ReLU, as for other hidden layers."""


class RecurrentInner(SpecModel):
    """The recurrent layer wrapped by `bidirectional`."""

    type: Literal["lstm", "gru", "simple_rnn"]
    """Cell kind (`simple_rnn` with its default tanh activation)."""
    units: PositiveInt
    """Width of the hidden state in each direction."""
    return_sequences: bool = False
    """Return the output at every step instead of only the last."""
    dropout: Rate = 0.0
    """Dropout on the inputs."""
    recurrent_dropout: Rate = 0.0
    """Dropout on the recurrent state."""


class Bidirectional(LayerBase):
    """Runs a recurrent layer forwards and backwards and merges the results."""

    type: Literal["bidirectional"]
    layer: RecurrentInner
    """The recurrent layer to run in both directions."""
    merge_mode: Literal["concat", "sum", "mul", "ave"] = "concat"
    """How the two directions are merged."""


class Attention(LayerBase):
    """Attention of a query sequence over a value sequence (`inputs: [query, value]`)."""

    type: Literal["attention"]
    score: Literal["dot", "additive"] = "dot"
    """`dot` (Luong, scaled dot product) or `additive` (Bahdanau)."""
    causal: bool = False
    """Mask future positions (decoder self-attention)."""
    dropout: Rate = 0.0
    """Dropout on the attention weights."""


class MultiHeadAttention(LayerBase):
    """Multi-head attention; one input is self-attention, `[query, value]` is cross-attention."""

    type: Literal["multi_head_attention"]
    num_heads: PositiveInt
    """Number of heads."""
    key_dim: PositiveInt
    """Width of each head's query and key projections."""
    dropout: Rate = 0.0
    """Dropout on the attention weights."""
    causal: bool = False
    """Mask future positions."""


class _TransformerBlock(LayerBase):
    num_heads: PositiveInt
    """Number of attention heads; the model width must divide by it."""
    ff_dim: PositiveInt
    """Hidden width of the feed-forward net."""
    dropout: Rate = 0.1
    """Dropout after each sub-block (attention, feed-forward)."""
    activation: Activation = "gelu"
    """Feed-forward activation (`gelu` is exact GELU)."""
    norm_first: bool = True
    """Pre-norm (stable, default) or post-norm (the original paper)."""
    epsilon: Annotated[float, Field(gt=0.0)] = 1e-6
    """Layer-norm epsilon."""


class TransformerEncoder(_TransformerBlock):
    """A transformer encoder block: self-attention and a feed-forward net, each residual + norm."""

    type: Literal["transformer_encoder"]


class TransformerDecoder(_TransformerBlock):
    """A transformer decoder block: causal self-attention, cross-attention over the encoder
    output (`inputs: [target, encoder_output]`) and a feed-forward net."""

    type: Literal["transformer_decoder"]


class Add(LayerBase):
    """Element-wise sum of two or more inputs of one shape (residual connections)."""

    type: Literal["add"]


class Multiply(LayerBase):
    """Element-wise product of two or more inputs of one shape (gating)."""

    type: Literal["multiply"]


class Concatenate(LayerBase):
    """Joins two or more inputs along an axis (multi-branch models)."""

    type: Literal["concatenate"]
    axis: int = -1
    """Axis to join along, as in Keras: -1 is the last axis, 1 the first after the batch axis."""


class Backbone(LayerBase):
    """A pretrained network used as a feature extractor or fine-tuned."""

    type: Literal["backbone"]
    source: str = Field(min_length=1)
    """A `.keras` file path relative to the spec (e.g. the `model.keras` of another spec's build:
    build that spec first), or `applications:NAME` (e.g. `applications:MobileNetV2`)."""
    weights: str | None = "imagenet"
    """Weights of an `applications:` source: `imagenet` (downloaded from the internet by Keras
    on first use, then cached in `~/.keras/models`; an offline machine fails there), a local
    weights file (`.h5` or `.weights.h5`, relative to the spec, e.g. one saved on a machine with
    internet access), or `null` (random initial weights)."""
    output_layer: Name | None = None
    """For a `.keras` source: the layer whose output the backbone gives, e.g. the last hidden
    layer of a trained classifier, leaving its old output layer out (default: the model's
    output). `output_shape` is that layer's output shape."""
    freeze: Literal["feature_extractor", "fine_tune", "hybrid"] = "feature_extractor"
    """`feature_extractor` freezes every layer, `fine_tune` trains all, `hybrid` freezes the
    first `frozen_layers`."""
    frozen_layers: Annotated[int, Field(ge=0)] | None = None
    """How many leading layers stay frozen in `hybrid` mode."""
    pooling: Literal["avg", "max"] | None = "avg"
    """Global pooling on the backbone output for `applications:` sources."""
    output_shape: list[PositiveInt] = Field(min_length=1)
    """Output shape without the batch axis; needed because shapes are inferred without TF."""
    similarity: Literal["similar", "different"] | None = None
    """How close the spec's data is to what the backbone was trained on; only `specc lint`
    reads it, for its advice on what to freeze."""


Layer = Annotated[
    Dense
    | Conv1D
    | Conv2D
    | more.Conv2DTranspose
    | more.SeparableConv2D
    | more.DepthwiseConv2D
    | MaxPool1D
    | AvgPool1D
    | MaxPool2D
    | AvgPool2D
    | GlobalPool
    | Flatten
    | Reshape
    | more.RepeatVector
    | more.ZeroPadding1D
    | more.ZeroPadding2D
    | more.UpSampling1D
    | more.UpSampling2D
    | Dropout
    | BatchNorm
    | LayerNorm
    | ActivationLayer
    | Embedding
    | more.OneHot
    | PositionalEmbedding
    | LSTM
    | GRU
    | SimpleRNN
    | Bidirectional
    | Attention
    | MultiHeadAttention
    | TransformerEncoder
    | TransformerDecoder
    | Add
    | Multiply
    | Concatenate
    | Backbone,
    Field(discriminator="type"),
]

LAYER_TYPES: tuple[str, ...] = tuple(
    cls.model_fields["type"].annotation.__args__[0]  # type: ignore[union-attr]
    for cls in Layer.__origin__.__args__  # type: ignore[attr-defined]
)
