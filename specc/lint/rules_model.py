"""Lint rules about the network: layer widths, activations, the output layer.

Each rule reads the lowered graph (resolved activations, static shapes) and points at the spec
field to change. Thresholds are named constants; their comments say where the rule of thumb
comes from.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from .base import Finding, LintContext, regularisation, rule

# "The number of hidden neurons should be between the size of the input layer and the size of
# the output layer ... less than twice the size of the input layer" (J. Heaton, Introduction to
# Neural Networks for Java, 2008). A width more than this many times the larger of the two is
# "far" outside that range.
HIDDEN_WIDTH_INPUT_FACTOR = 2
HIDDEN_WIDTH_FAR_FACTOR = 4

# Saturating activations: their gradient vanishes away from zero, and a stack of them
# multiplies small gradients (Glorot & Bengio 2010; Goodfellow et al., Deep Learning, 6.3).
SATURATING = frozenset({"sigmoid", "tanh", "hard_sigmoid", "softsign"})
# From this many weighted hidden layers on, a stack counts as deep for that purpose.
DEEP_STACK = 3

_WEIGHTED = frozenset({"dense", "conv1d", "conv2d"})


def _hidden_weighted(ctx: LintContext) -> list:
    return [n for n in ctx.graph.nodes if n.op in _WEIGHTED and not n.is_output]


def _flat_input_width(ctx: LintContext) -> int | None:
    """Features of the model's one input when it is a flat vector (tabular data), else None."""
    inputs = ctx.graph.inputs
    if len(inputs) != 1 or len(inputs[0].output.shape) != 1:
        return None
    width = inputs[0].output.shape[0]
    return width if isinstance(width, int) else None


@rule(
    "SPC101",
    "warning",
    "hidden layer far wider than its input and output",
    "Heaton's rule of thumb: a hidden width between the input and output sizes, and under twice "
    "the input size; much wider layers mostly add parameters to overfit with.",
)
def hidden_width(ctx: LintContext) -> Iterator[Finding]:
    n_in = _flat_input_width(ctx)
    if n_in is None:
        return
    n_out = sum(math.prod(d or 1 for d in n.output.shape) for n in ctx.graph.output_nodes)
    limit = max(HIDDEN_WIDTH_INPUT_FACTOR * n_in, HIDDEN_WIDTH_FAR_FACTOR * max(n_in, n_out))
    regularised = regularisation(ctx)
    for node in _hidden_weighted(ctx):
        units = getattr(node.layer, "units", None)
        if node.op == "dense" and units is not None and units > limit:
            message = (
                f"{units} units for {n_in} input features and {n_out} output"
                f"{'s' if n_out != 1 else ''}: more than {HIDDEN_WIDTH_FAR_FACTOR}x the larger "
                "of the two"
            )
            if regularised:  # the spec keeps the extra capacity in check: a note
                message += f"; the spec regularises ({', '.join(regularised)})"
            yield Finding(
                node.path + ("units",),
                message,
                f"try a width between the output size ({n_out}) and twice the input size "
                f"({HIDDEN_WIDTH_INPUT_FACTOR * n_in}); widen only if the training loss stays high",
                severity="info" if regularised else None,
            )


@rule(
    "SPC106",
    "warning",
    "hidden layer far narrower than the classes",
    "Heaton's range again, from below: a bottleneck several times narrower than the number of "
    "classes squeezes them through too few features to tell apart (the network underfits).",
)
def hidden_bottleneck(ctx: LintContext) -> Iterator[Finding]:
    from specc.spec.tasks import task_kind

    spec = ctx.spec
    if spec.task.type == "regression":
        return  # a narrow code can be the point (an autoencoder, say)
    classes = task_kind(spec).width(spec.task)
    for node in _hidden_weighted(ctx):
        units = getattr(node.layer, "units", None)
        if node.op == "dense" and units is not None and units * HIDDEN_WIDTH_FAR_FACTOR < classes:
            yield Finding(
                node.path + ("units",),
                f"{units} unit{'s' if units != 1 else ''} between the input and {classes} "
                f"outputs: under 1/{HIDDEN_WIDTH_FAR_FACTOR} of the output size",
                f"use at least {classes} units",
            )


@rule(
    "SPC102",
    "error",
    "softmax over a single unit",
    "softmax normalises over the last axis: over one unit it is always 1.0, whatever the input, "
    "and its gradient is zero.",
)
def softmax_single_unit(ctx: LintContext) -> Iterator[Finding]:
    for node in ctx.graph.nodes:
        if node.attrs.get("activation") == "softmax" and node.output.shape[-1:] == (1,):
            yield Finding(
                node.path + ("activation",),
                "softmax over 1 unit always outputs 1.0: the layer passes no information",
                "use `sigmoid` for one probability, or more units",
            )


@rule(
    "SPC103",
    "warning",
    "sigmoid or tanh in a deep hidden stack",
    "Saturating activations shrink gradients layer after layer (vanishing gradients, Glorot & "
    "Bengio 2010); ReLU is the usual default for hidden layers.",
)
def saturating_in_deep_stack(ctx: LintContext) -> Iterator[Finding]:
    hidden = _hidden_weighted(ctx)
    if len(hidden) < DEEP_STACK:
        return
    for node in hidden:
        activation = node.attrs.get("activation")
        if activation in SATURATING:
            yield Finding(
                node.path + ("activation",),
                f"`{activation}` in a stack of {len(hidden)} hidden layers: gradients vanish "
                "through saturating activations",
                "use `relu` (the default); if many units stay at zero (dead ReLUs), try "
                "`leaky_relu` or `elu`",
            )


@rule(
    "SPC104",
    "warning",
    "non-negative output activation on a regression task",
    "Regression targets are standardised before training (mean 0, std 1), so about half of "
    "them are negative: an output that cannot go below zero cannot fit them.",
)
def regression_output_sign(ctx: LintContext) -> Iterator[Finding]:
    if ctx.spec.task.type != "regression":
        return
    for node in ctx.graph.output_nodes:
        activation = node.attrs.get("activation")
        if activation in ("relu", "softplus"):
            yield Finding(
                node.path + ("activation",),
                f"`{activation}` output on a regression task: the network learns standardised "
                "targets, about half of them negative, and this output cannot go below 0",
                "leave `activation` out (linear output); outputs are rescaled to real units",
            )


@rule(
    "SPC105",
    "warning",
    "dropout or a weight penalty on the output layer",
    "Regularise hidden layers: dropout after the output activation zeroes predictions during "
    "training, and a penalty on the output weights fights the task's own loss.",
)
def output_regularised(ctx: LintContext) -> Iterator[Finding]:
    for node in ctx.graph.output_nodes:
        layer = node.layer
        if getattr(layer, "dropout", 0.0) > 0 and node.op == "dense":
            yield Finding(
                node.path + ("dropout",),
                f"dropout {layer.dropout:g} on the output layer zeroes predictions in training",
                "move the dropout to the layer before (or a `dropout` layer before the output)",
            )
        if node.op == "dropout":
            yield Finding(
                node.path,
                "the model output is a dropout layer",
                "put the dropout before the output layer",
            )
        penalty = getattr(layer, "regularizer", None)
        if penalty is not None and (penalty.l1 > 0 or penalty.l2 > 0):
            yield Finding(
                node.path + ("regularizer",),
                "a weight penalty on the output layer",
                "regularise the hidden layers instead",
                severity="info",
            )
