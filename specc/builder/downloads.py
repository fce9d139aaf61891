"""The build's message when Keras could not download a `keras.applications` backbone's
pretrained weights (an offline machine, a proxy, a firewall): what failed, and how to give the
weights as a local file instead."""

from __future__ import annotations

from typing import Any

__all__ = ["download_failure"]

# what keras.utils.get_file raises on a failed download, and the errors underneath it
_MARKERS = ("URL fetch failure", "HTTP Error", "Name or service not known", "urlopen error")


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def download_failure(spec: Any, exc: BaseException) -> tuple[str, str] | None:
    """(message, hint) when `exc` is a failed weights download of one of `spec`'s
    `applications:` backbones with `weights: imagenet`; None for any other error."""
    import urllib.error

    apps = [
        layer.source.split(":", 1)[1]
        for layer in spec.model.layers
        if layer.type == "backbone"
        and layer.source.startswith("applications:")
        and layer.weights == "imagenet"
    ]
    if not apps:
        return None
    chain = _chain(exc)
    failed = any(isinstance(e, (urllib.error.URLError, ConnectionError)) for e in chain) or any(
        marker in str(e) for e in chain for marker in _MARKERS
    )
    if not failed:
        return None
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return (
        f"could not download the imagenet weights of keras.applications {', '.join(apps)}: {first}",
        "keras.applications downloads pretrained weights from the internet on first use (then "
        "caches them in ~/.keras/models); on an offline machine, fetch the weights file on one "
        "with internet access and name it in the backbone's `weights:` (a path relative to the "
        "spec, e.g. `weights: weights/mobilenet_v3_small_notop.h5`), or put it in the cache",
    )
