"""Weight counts of the trained Keras model, for `report.md` and `metrics.json`: how many
weights gradient descent trained, how many stayed frozen (a backbone's `feature_extractor` or
`hybrid` layers), and how many are statistics no gradient trains (normalisation mean, variance
and count, batch-norm moving averages). Unlike the IR's counts these include a backbone's, which
are known only once it is loaded."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["weight_counts", "weights_markdown"]


def _size(variables: Any) -> int:
    return int(sum(int(np.prod(v.shape)) for v in variables))


def _leaves(model: Any) -> list[Any]:
    """Every layer of `model`, nested models (backbones) opened."""
    out = []
    for layer in model.layers:
        out += _leaves(layer) if hasattr(layer, "layers") else [layer]
    return out


def weight_counts(model: Any) -> dict[str, int]:
    """{trainable, frozen, statistics, total} weights of a trained Keras model. Normalisation
    statistics count whether they are constants (as the generated code builds them) or variables
    (an adapted layer; its example count is left out)."""
    import keras

    statistics = variables = 0  # statistics, and those of them that are Keras variables
    for layer in _leaves(model):
        if isinstance(layer, keras.layers.Normalization):
            statistics += int(np.size(layer.mean)) + int(np.size(layer.variance))
            variables += _size(layer.weights)
        elif isinstance(layer, keras.layers.BatchNormalization):
            moving = _size([layer.moving_mean, layer.moving_variance])
            statistics += moving
            variables += moving
    trainable = _size(model.trainable_weights)
    frozen = _size(model.non_trainable_weights) - variables
    return {
        "trainable": trainable,
        "frozen": frozen,
        "statistics": statistics,
        "total": trainable + frozen + statistics,
    }


def weights_markdown(counts: dict[str, int]) -> str:
    """One sentence for the report's Network section."""
    return (
        f"Weights of the trained model (backbones included): {counts['trainable']:,} trained, "
        f"{counts['frozen']:,} frozen, {counts['statistics']:,} statistics (normalisation and "
        f"batch-norm moving averages, which no gradient trains); {counts['total']:,} in all."
    )
