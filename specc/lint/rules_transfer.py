"""Lint rules for transfer learning: what to freeze in a backbone, given the data.

The advice follows the data-size x similarity table of the CS231n notes on transfer learning
(Karpathy et al., "Transfer Learning"): small and similar data, use the backbone as a fixed
feature extractor; large and similar, fine-tune; small and different, keep only the early,
generic layers frozen (`hybrid`); large and different, fine-tune all of it.
"""

from __future__ import annotations

from collections.abc import Iterator

from .base import Finding, LintContext, rule

# Below this many training examples a dataset counts as small for fine-tuning a pretrained
# network (the CS231n notes give no number; ImageNet-sized backbones overfit a few thousand
# examples when every layer trains).
SMALL_DATA = 10_000

# (small data, similar data) -> the `freeze` mode the table advises, and why.
ADVICE: dict[tuple[bool, bool], tuple[str, str]] = {
    (True, True): ("feature_extractor", "small and similar data: train only the new head"),
    (False, True): ("fine_tune", "large and similar data: fine-tuning is safe and helps"),
    (True, False): ("hybrid", "small and different data: freeze only the early, generic layers"),
    (False, False): ("fine_tune", "large and different data: fine-tune the whole backbone"),
}


def _backbones(ctx: LintContext) -> Iterator[tuple[int, object]]:
    for index, layer in enumerate(ctx.spec.model.layers):
        if layer.type == "backbone":
            yield index, layer


@rule(
    "SPC401",
    "warning",
    "backbone freezing against data size and similarity",
    "CS231n's transfer-learning table: how much of a pretrained network to train depends on "
    "how much data there is and how much it looks like the pretraining data.",
)
def freeze_advice(ctx: LintContext) -> Iterator[Finding]:
    n = ctx.train_samples
    if n is None:
        return
    small = n < SMALL_DATA
    size = f"{n:,} training examples ({'small' if small else 'large'})"
    for index, layer in _backbones(ctx):
        path = ("model", "layers", index)
        if layer.similarity is None:
            similar = ADVICE[(small, True)][0]
            different = ADVICE[(small, False)][0]
            yield Finding(
                path + ("freeze",),
                f"{size}: the table advises `freeze: {similar}` for data like the backbone's "
                f"pretraining data, `{different}` for different data",
                "say which with `similarity: similar` or `similarity: different`",
                severity="info",
            )
            continue
        advised, why = ADVICE[(small, layer.similarity == "similar")]
        if layer.freeze != advised:
            yield Finding(
                path + ("freeze",),
                f"`freeze: {layer.freeze}` with {size} and {layer.similarity} data; {why}",
                f"use `freeze: {advised}`",
            )


@rule(
    "SPC402",
    "warning",
    "frozen backbone without pretrained weights",
    "A frozen layer keeps its initial weights: without pretrained weights those are random, "
    "and the head learns from random features.",
)
def frozen_random_backbone(ctx: LintContext) -> Iterator[Finding]:
    for index, layer in _backbones(ctx):
        frozen = layer.freeze == "feature_extractor" or (
            layer.freeze == "hybrid" and (layer.frozen_layers or 0) > 0
        )
        if layer.source.startswith("applications:") and layer.weights is None and frozen:
            yield Finding(
                ("model", "layers", index, "weights"),
                f"`weights: null` (random) with `freeze: {layer.freeze}`: frozen random features",
                "use `weights: imagenet`, or `freeze: fine_tune` to train from scratch",
            )
